/**
 * Tiny ONNX models for the inference tests, written with scripts/model/onnx-writer.ts (as the
 * training script writes the real one) into a temp directory. Each takes the contract's `window`
 * input `[1, size, inputs]` and gives `anomaly_score` of shape [1]:
 *  - `mean`: the mean of the window (finite);
 *  - `log`: the log of the window's mean (finite while the mean is positive, NaN below zero);
 *  - `nan`: 0/0 (NaN);
 *  - `throws`: a MatMul whose inner dimension does not fit the window's (symbolic input dims, so the
 *    model loads and the run fails);
 *  - `slow`: the window's mean plus the mean of a chain of `matmuls` large MatMuls that depend on the
 *    input (so nothing is folded at load): hundreds of ms to seconds on one thread.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OnnxGraph } from '../../scripts/model/onnx-writer.js';
import { REPO_ROOT } from './agent-process.js';

/** The built agent's code directory: the inference worker's entry is there (it cannot load TypeScript). */
export const DIST_CODE_DIR = pathToFileURL(path.join(REPO_ROOT, 'dist/agent/'));
export const WORKER_ENTRY = new URL('infer/onnx-worker-main.js', DIST_CODE_DIR);

export type TestModel = 'mean' | 'log' | 'nan' | 'throws' | 'slow';

export interface ModelShape {
  readonly size: number;
  readonly inputs: number;
  /** Output name (default anomaly_score). */
  readonly output?: string;
  /** `slow` only: the matrix size and how many MatMuls. */
  readonly matrix?: number;
  readonly matmuls?: number;
}

const MEAN = (input: string, out: string) => ({
  op: 'ReduceMean',
  inputs: [input],
  outputs: [out],
  attrs: { axes: [1, 2], keepdims: 0 },
});

export function modelBytes(kind: TestModel, shape: ModelShape): Uint8Array {
  const out = shape.output ?? 'anomaly_score';
  const g = new OnnxGraph(`test-${kind}`);
  switch (kind) {
    case 'mean':
      g.input('window', [1, shape.size, shape.inputs]).node(MEAN('window', out));
      break;
    case 'log':
      g.input('window', [1, shape.size, shape.inputs])
        .node(MEAN('window', 'm'))
        .node({ op: 'Log', inputs: ['m'], outputs: [out] });
      break;
    case 'nan':
      g.input('window', [1, shape.size, shape.inputs])
        .node(MEAN('window', 'm'))
        .node({ op: 'Sub', inputs: ['m', 'm'], outputs: ['zero'] })
        .node({ op: 'Div', inputs: ['zero', 'zero'], outputs: [out] });
      break;
    case 'throws':
      g.input('window', [1, 's', 'n'])
        .constant('w', [shape.inputs + 4, 1], new Array(shape.inputs + 4).fill(1))
        .node({ op: 'MatMul', inputs: ['window', 'w'], outputs: ['p'] })
        .node(MEAN('p', out));
      break;
    case 'slow': {
      const n = shape.matrix ?? 1000;
      const k = shape.matmuls ?? 30;
      g.input('window', [1, shape.size, shape.inputs])
        .constant('w', [n, n], new Float32Array(n * n).fill(1 / n))
        .node(MEAN('window', 'm'))
        .node({ op: 'Add', inputs: ['w', 'm'], outputs: ['y0'] });
      for (let i = 0; i < k; i++) g.node({ op: 'MatMul', inputs: [`y${i}`, 'w'], outputs: [`y${i + 1}`] });
      g.node({ op: 'ReduceMean', inputs: [`y${k}`], outputs: ['c'], attrs: { axes: [0, 1], keepdims: 0 } })
        .node({ op: 'Sub', inputs: ['c', 'c'], outputs: ['zero'] })
        .node({ op: 'Add', inputs: ['m', 'zero'], outputs: [out] });
      break;
    }
  }
  return g.output(out, [1]).toBytes({ producer: 'edge-agent tests' });
}

/** Writes `<dir>/model.onnx` (a model component's slot layout) and returns its path. */
export async function writeModel(dir: string, kind: TestModel, shape: ModelShape): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  await writeFile(file, modelBytes(kind, shape));
  return file;
}
