/**
 * A real LevelDB telemetry store that knows when its I/O is done. Unit tests drive the outbox and the
 * uplink with a FakeClock, but LevelDB completes its reads and fsyncs on libuv's thread pool in real
 * time; sleeping a few milliseconds between fake-clock steps made the tests pass or fail with the
 * machine's load. `tracked.idle()` instead resolves once every operation started through the store
 * (puts, gets, batches, chained-batch writes, iterator steps, compaction) has settled and none was
 * started by their continuations — a wait on completion, never on a fixed time.
 */
import type { TelemetryStore } from '../../agent/telemetry/store.js';

export interface TrackedStore {
  /** The store to hand to the code under test. */
  readonly store: TelemetryStore;
  /** Resolves when no operation started through `store` is pending. */
  idle(): Promise<void>;
}

/** Wrapped objects, so that one passed back into LevelDB (`{ sublevel }`) is given as itself. */
const originals = new WeakMap<object, object>();
const unwrap = (value: unknown): unknown => {
  if (typeof value !== 'object' || value === null) return value;
  const original = originals.get(value);
  if (original) return original;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  // An options object such as `{ sublevel: store.batches }`.
  const entries = Object.entries(value).map(([k, v]) => [k, originals.get(v as object) ?? v]);
  return Object.fromEntries(entries);
};

const isThenable = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/** Chained batches (`write`) and iterators (`next`) do their I/O in later calls: watch those too. */
const hasLaterIo = (value: unknown): value is object =>
  typeof value === 'object' &&
  value !== null &&
  (typeof (value as { write?: unknown }).write === 'function' ||
    typeof (value as { next?: unknown }).next === 'function');

export function trackStore(store: TelemetryStore): TrackedStore {
  const pending = new Set<Promise<unknown>>();

  const watch = <T extends object>(target: T): T => {
    const proxy: T = new Proxy(target, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop, obj) as unknown;
        if (typeof value !== 'function') {
          return typeof value === 'object' &&
            value !== null &&
            ['db', 'batches', 'meta', 'quarantine'].includes(String(prop))
            ? watch(value)
            : value;
        }
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(obj, args.map(unwrap));
          if (isThenable(result)) {
            const settled = result.then(
              () => undefined,
              () => undefined,
            );
            pending.add(settled);
            void settled.then(() => pending.delete(settled));
            return result;
          }
          return hasLaterIo(result) ? watch(result) : result;
        };
      },
    });
    originals.set(proxy, target);
    return proxy;
  };

  return {
    store: watch(store),
    async idle() {
      // A continuation of a settled operation may start the next one within the same turn.
      do {
        await Promise.all(pending);
        await new Promise((resolve) => setImmediate(resolve));
      } while (pending.size > 0);
    },
  };
}
