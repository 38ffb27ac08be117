/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each prints progress to stderr and, as its
 * last line on stdout, one JSON object `{"bench": "<name>", ...figures}`.
 */
import { loopBench } from './loop.js';
import { pidBench } from './pid.js';
import { startupBench } from './startup.js';

const BENCHES: Record<string, (args: string[]) => Promise<Record<string, unknown>>> = {
  startup: startupBench,
  loop: loopBench,
  pid: pidBench,
  ota: async (args) => (await import('./ota.js')).otaBench(args),
  telemetry: async (args) => (await import('./telemetry.js')).telemetryBench(args),
  attest: async (args) => (await import('./attest.js')).attestBench(args),
  console: async (args) => (await import('./console.js')).consoleBench(args),
  fleet: async (args) => (await import('./fleet.js')).fleetBench(args),
  infer: async (args) => (await import('./infer.js')).inferBench(args),
  'mqtt-oversize': async (args) => (await import('./mqtt-oversize.js')).mqttOversizeBench(args),
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHES[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]\n`);
  process.exit(2);
}
const figures = await bench(args);
process.stdout.write(`${JSON.stringify({ bench: name, ...figures })}\n`);
