/**
 * The installer's journal: one JSON record, replaced atomically (temp file, fsync, rename, fsync
 * directory) after every step and every durable chunk, so that after a power cut the installer finds
 * exactly the last step it completed. A journal that cannot be parsed (it cannot be torn, but a disk
 * can lie) is reported as `corrupt` rather than guessed at; the installer then abandons the install,
 * which is safe because the target slot was marked bad before anything was written to it.
 */
import path from 'node:path';
import { ensurePrivateDir, readIfExists, unlinkDurable, writeDurable } from '../core/durable-file.js';

export type JournalLoad<T> =
  | { kind: 'empty' }
  | { kind: 'record'; record: T }
  | { kind: 'corrupt'; error: string };

export class Journal<T extends object> {
  readonly file: string;
  readonly #validate: (value: unknown) => value is T;

  constructor(file: string, validate: (value: unknown) => value is T) {
    this.file = file;
    this.#validate = validate;
  }

  async load(): Promise<JournalLoad<T>> {
    const raw = await readIfExists(this.file);
    if (!raw) return { kind: 'empty' };
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return { kind: 'corrupt', error: (e as Error).message };
    }
    return this.#validate(value)
      ? { kind: 'record', record: value }
      : { kind: 'corrupt', error: 'unexpected shape' };
  }

  async save(record: T): Promise<void> {
    await ensurePrivateDir(path.dirname(this.file));
    await writeDurable(this.file, `${JSON.stringify(record)}\n`);
  }

  async clear(): Promise<void> {
    await unlinkDurable(this.file);
  }
}
