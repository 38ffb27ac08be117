/**
 * Opens a polled sensor driver on a `FakeClock`, in place of the supervisor: a `RecordingContext`
 * receives what it publishes, and fake time runs until each open and poll settles, since drivers sleep
 * on the clock while the part converts.
 */
import type { Device } from '../../agent/hal/device.js';
import type { FakeClock } from './fake-clock.js';
import { RecordingContext } from './recording-context.js';

export interface PolledSensor {
  readonly ctx: RecordingContext;
  /** Polls once; resolves to what that poll published, channel → value, or rejects as the poll did. */
  poll(): Promise<Record<string, number>>;
}

/** Throws a `TypeError` for a device without `poll()`, and from `poll()` for a value that is not a number. */
export async function openPolledSensor(device: Device, clock: FakeClock): Promise<PolledSensor> {
  if (!device.poll) throw new TypeError('device must be a polled device (it has no poll())');
  const pollOnce = device.poll.bind(device);
  const ctx = new RecordingContext(clock);
  await clock.settle(device.open(ctx));
  const poll = async () => {
    const from = ctx.published.length;
    await clock.settle(pollOnce());
    return Object.fromEntries(
      ctx.published.slice(from).map(({ channel, value }) => {
        if (typeof value !== 'number') throw new TypeError(`channel ${channel} published a ${typeof value}`);
        return [channel, value];
      }),
    );
  };
  return { ctx, poll };
}
