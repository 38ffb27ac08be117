// Heavy durable ingest for the kill -9 test: appends readings whose value is their sequence number as
// fast as the outbox takes them, and after each group commit prints `acked <n>` — the highest number
// whose append has resolved. Whatever it printed must survive SIGKILL. Runs the built outbox (dist/).
//   node test/support/telemetry-ingest-child.mjs <dir> [commitIntervalMs]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(path.join(root, 'dist/agent', p));
const { SystemClock } = await dist('core/clock.js');
const { silentLogger } = await dist('core/log.js');
const { nextBootId } = await dist('telemetry/boot-id.js');
const { Outbox } = await dist('telemetry/outbox.js');
const { openTelemetryStore } = await dist('telemetry/store.js');

const [dir, interval = '50'] = process.argv.slice(2);
const clock = new SystemClock();
const store = await openTelemetryStore(dir);
const bootId = await nextBootId(store.meta);
const outbox = new Outbox(
  { clock, log: silentLogger(), store, bootId, trust: { trusted: true } },
  {
    commitIntervalMs: Number(interval),
    commitMaxItems: 20_000,
    batchMaxAgeMs: 500,
    batchMaxItems: 2000,
    budgetBytes: 1 << 30,
    downsampleWindowMs: 60_000,
  },
);
await outbox.open();
process.stdout.write(`ready ${bootId}\n`);

let n = 0;
let acked = -1;
for (;;) {
  // One commit's worth at a time, then wait for it: the printed number is truly durable.
  let last;
  for (let i = 0; i < 5000; i++) {
    last = outbox.appendReading({ name: 'load.seq', value: n, wallMs: clock.nowMs(), monoMs: clock.monotonicMs() });
    n++;
  }
  const upTo = n - 1;
  last.then(() => {
    if (upTo > acked) {
      acked = upTo;
      process.stdout.write(`acked ${acked}\n`);
    }
  });
  // Keep a few commits in flight so ingest does not stall on the fsync.
  if (n % 20_000 === 0) await last;
  else await new Promise((r) => setImmediate(r));
}
