/**
 * Waits until an HTTP response may be written again: its 'drain', or its end — a client that went
 * away mid-body closes it, and a response already destroyed would never emit either. Shared by the
 * bench's image server and the tests' payload server.
 */
import type { ServerResponse } from 'node:http';

export function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
