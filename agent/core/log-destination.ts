/**
 * stdout as the logger's destination, with a `flush` that means "on stdout". pino.destination (a
 * SonicBoom) calls back from `flush` at once when it has no `minLength`, even while a write is still
 * in flight — e.g. waiting out an EAGAIN from a full journal pipe — and pino's own flush at exit then
 * writes the later lines first: the last lines of a stop came out of order, or not at all. Counting
 * the bytes handed over against those SonicBoom reports written ('write' events) tells when it is done.
 */
import { pino } from 'pino';

export interface StdoutDestination {
  write(line: string): void;
  /** Calls back once every line handed over so far has been written to the file descriptor. */
  flush(cb: (err?: Error) => void): void;
}

export function stdoutDestination(options: { readonly sync: boolean }): StdoutDestination {
  const sonic = pino.destination({ fd: 1, sync: options.sync });
  let queued = 0;
  let written = 0;
  const waiting: (() => void)[] = [];
  sonic.on('write', (n: number) => {
    written += n;
    if (written >= queued) for (const done of waiting.splice(0)) done();
  });
  return {
    write(line) {
      queued += Buffer.byteLength(line);
      sonic.write(line);
    },
    flush(cb) {
      if (written >= queued) cb();
      else waiting.push(() => cb());
    },
  };
}
