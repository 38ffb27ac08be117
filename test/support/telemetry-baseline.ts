/**
 * A small, deterministic telemetry database to damage: `tabled` readings written and compacted into
 * LevelDB tables (`.ldb`), then `logged` readings that are only in the write-ahead log (`.log`), all
 * acknowledged (their group commits resolved). The boot id is fixed, so the files are the same bytes
 * on every run and a seed damages the same data.
 */
import { silentLogger } from '../../agent/core/log.js';
import { Outbox } from '../../agent/telemetry/outbox.js';
import { openTelemetryStore } from '../../agent/telemetry/store.js';
import { FakeClock } from './fake-clock.js';
import { FUZZ_POINT } from './telemetry-harness.js';

export interface Baseline {
  /** Values of the readings in tables. */
  readonly tabled: readonly number[];
  /** Values of the readings only in the log. */
  readonly logged: readonly number[];
}

const BATCH = 30;

export async function writeBaseline(dir: string, batches = { tabled: 8, logged: 2 }): Promise<Baseline> {
  const clock = new FakeClock({ wallMs: Date.UTC(2025, 11, 1) });
  const store = await openTelemetryStore(dir, { writeBufferBytes: 64 * 1024 });
  await store.meta.put('bootCounter', 1);
  const outbox = new Outbox(
    { clock, log: silentLogger(), store, bootId: '00000001-0badf00d', trust: { trusted: true } },
    {
      commitIntervalMs: 10,
      commitMaxItems: 1000,
      batchMaxAgeMs: 1000,
      batchMaxItems: 1000,
      budgetBytes: 1 << 20,
      downsampleWindowMs: 60_000,
    },
  );
  await outbox.open();
  const write = async (first: number, count: number) => {
    const values: number[] = [];
    for (let b = 0; b < count; b++) {
      const appends: Promise<void>[] = [];
      for (let i = 0; i < BATCH; i++) {
        const value = first + b * BATCH + i;
        values.push(value);
        const at = value * 1000;
        appends.push(outbox.appendReading({ name: FUZZ_POINT, unit: 'Cel', value, wallMs: at, monoMs: at }));
      }
      await outbox.flush({ seal: true });
      await Promise.all(appends);
    }
    return values;
  };
  const tabled = await write(0, batches.tabled);
  await store.compact(); // flushes the memtable: the readings so far are in tables
  const logged = await write(10_000, batches.logged);
  await outbox.close();
  await store.close();
  return { tabled, logged };
}
