/**
 * Items kept on disk until their consumer acknowledges them, so what was written just before a
 * reboot or while offline still arrives. One file per item, written atomically and fsynced; `put` of
 * an id already queued replaces it in place (a step repeated after a power cut does not send twice).
 * `pending()` lists them in the order they were first put. A damaged file is skipped, not fatal.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, unlinkDurable, writeDurable } from './durable-file.js';

const SUFFIX = '.json';

export class DurableQueue<T extends { readonly id: string; readonly order: number }> {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(item: Omit<T, 'order'>): Promise<T> {
    await ensurePrivateDir(this.#dir);
    const file = this.#file(item.id);
    const existing = await readIfExists(file);
    const order = existing
      ? (JSON.parse(existing.toString('utf8')) as T).order
      : Math.max(0, ...(await this.pending()).map((r) => r.order)) + 1;
    const full = { ...item, order } as T;
    await writeDurable(file, `${JSON.stringify(full)}\n`);
    return full;
  }

  /** Every item not yet acknowledged, oldest first. */
  async pending(): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const items: T[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || name.startsWith('.')) continue;
      const raw = await readIfExists(path.join(this.#dir, name));
      if (!raw) continue;
      try {
        items.push(JSON.parse(raw.toString('utf8')) as T);
      } catch {
        // A damaged item cannot be delivered; leave it for an operator rather than crash.
      }
    }
    return items.sort((a, b) => a.order - b.order);
  }

  /** Removes a delivered item; an unknown id is not an error (acks may repeat). */
  async ack(id: string): Promise<void> {
    await unlinkDurable(this.#file(id));
  }

  #file(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id))
      throw new TypeError(`queue id ${JSON.stringify(id)} is not a file name`);
    return path.join(this.#dir, `${id}${SUFFIX}`);
  }
}
