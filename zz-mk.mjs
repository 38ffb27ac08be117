import { writeFileSync } from 'node:fs';
import { OnnxGraph } from './dist/scripts/model/onnx-writer.js';
const n = 1000, k = Number(process.argv[2]);
const g = new OnnxGraph('slow').input('window', [1, 4, 3]).constant('w', [n, n], new Float32Array(n * n).fill(1 / n))
  .node({ op: 'ReduceMean', inputs: ['window'], outputs: ['m'], attrs: { axes: [1, 2], keepdims: 0 } })
  .node({ op: 'Add', inputs: ['w', 'm'], outputs: ['y0'] });
for (let i = 0; i < k; i++) g.node({ op: 'MatMul', inputs: [`y${i}`, 'w'], outputs: [`y${i + 1}`] });
g.node({ op: 'ReduceMean', inputs: [`y${k}`], outputs: ['c'], attrs: { axes: [0, 1], keepdims: 0 } })
 .node({ op: 'Sub', inputs: ['c', 'c'], outputs: ['zero'] }).node({ op: 'Add', inputs: ['m', 'zero'], outputs: ['anomaly_score'] });
writeFileSync(process.argv[3], g.output('anomaly_score', [1]).toBytes({ producer: 'x' }));
