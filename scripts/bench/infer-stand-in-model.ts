/**
 * A stand-in for models/chamber-anomaly.onnx where its 30-minute window would not fill in a bench's
 * seconds: the same inputs and kind of graph — input `window` [1, 60, 3] (chamber.temp, loop.chamber.setpoint,
 * loop.chamber.output), normalised inside the graph, a two-layer MLP autoencoder 180→32→8→32→180 with
 * ReLU, `anomaly_score` [1] the mean squared reconstruction error — with seeded random weights. Its
 * scores mean nothing; the bench measures the real model's latency beside it.
 * The inference bench writes it with scripts/model/onnx-writer.ts, as the training script does.
 */
import { seededRandom } from '../../agent/hal/sim/random.js';
import { OnnxGraph } from '../model/onnx-writer.js';

export const STAND_IN = { size: 60, inputs: 3, layers: [180, 32, 8, 32, 180] } as const;

export function standInModelBytes(): Uint8Array {
  const rand = seededRandom(16).next;
  const g = new OnnxGraph('chamber-anomaly-stand-in')
    .input('window', [1, STAND_IN.size, STAND_IN.inputs])
    // °C, °C, duty: typical means and spreads of the chamber's normal traces.
    .constant('mean', [3], [45, 45, 0.4])
    .constant('std', [3], [10, 10, 0.3])
    .node({ op: 'Sub', inputs: ['window', 'mean'], outputs: ['centred'] })
    .node({ op: 'Div', inputs: ['centred', 'std'], outputs: ['normal'] })
    .node({ op: 'Flatten', inputs: ['normal'], outputs: ['x'], attrs: { axis: 1 } });
  let previous = 'x';
  const layers = STAND_IN.layers;
  for (let i = 0; i + 1 < layers.length; i++) {
    const [n, m] = [layers[i] as number, layers[i + 1] as number];
    const scale = Math.sqrt(2 / n);
    g.constant(
      `w${i}`,
      [n, m],
      Array.from({ length: n * m }, () => (rand() * 2 - 1) * scale),
    )
      .constant(`b${i}`, [m], new Array(m).fill(0))
      .node({ op: 'Gemm', inputs: [previous, `w${i}`, `b${i}`], outputs: [`h${i}`] });
    const last = i + 2 === layers.length;
    if (!last) g.node({ op: 'Relu', inputs: [`h${i}`], outputs: [`a${i}`] });
    previous = last ? `h${i}` : `a${i}`;
  }
  return g
    .node({ op: 'Sub', inputs: [previous, 'x'], outputs: ['error'] })
    .node({ op: 'Mul', inputs: ['error', 'error'], outputs: ['squared'] })
    .node({
      op: 'ReduceMean',
      inputs: ['squared'],
      outputs: ['anomaly_score'],
      attrs: { axes: [1], keepdims: 0 },
    })
    .output('anomaly_score', [1])
    .toBytes({
      producer: 'edge-agent bench (stand-in)',
      props: { inputs: 'chamber.temp,loop.chamber.setpoint,loop.chamber.output', 'window.size': '60' },
    });
}
