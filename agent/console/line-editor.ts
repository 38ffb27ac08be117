/**
 * The console's line discipline, done by the agent because a serial line has no kernel tty on our
 * side: echo, Backspace/Delete, Ctrl-U (erase to start), Ctrl-W (erase a word), Ctrl-A/E and the
 * arrows to move, Up/Down through history, Ctrl-C to abandon a line, Ctrl-D on an empty line for
 * end-of-input. Cursor movement uses only BS (0x08) and reprinting, which every terminal honours —
 * so editing works the same on a dumb peer as on an ANSI one. Secret prompts (passwords) echo nothing.
 *
 * A line holds at most `maxLength` characters (default `MAX_LINE_CHARS`): what is typed beyond is
 * dropped with one bell per key, counted in `droppedChars`, and the finished line says `truncated` so
 * that nothing cut short is ever run as if it were what was typed. The bound is what keeps a peer that
 * sends megabytes without a newline from growing the buffer (one array element per character) until
 * the heap runs out.
 */
import type { Key } from './keys.js';

export interface ReadLineOptions {
  readonly prompt: string;
  /** Echo nothing (a password); the line is not kept in history. */
  readonly secret?: boolean;
  /** Keep the line in history and let Up/Down recall earlier ones (commands, not answers). */
  readonly history?: boolean;
  /** Characters the line may hold (default `MAX_LINE_CHARS`); more is dropped with a bell. */
  readonly maxLength?: number;
  /** What the word being typed may become (Tab completes it, `?` lists them): whole words. */
  readonly complete?: (before: string) => Promise<readonly string[]>;
}

/** The longest command line, in characters. */
export const MAX_LINE_CHARS = 4096;

const BELL = '\x07';

export type EditResult =
  | {
      readonly done: 'line';
      readonly text: string;
      /** Present when characters were dropped because the line was full: `text` is not what was typed. */
      readonly truncated?: true;
    }
  | { readonly done: 'interrupt' }
  | { readonly done: 'eof' };

export class LineEditor {
  readonly #write: (text: string) => void;
  readonly #historySize: number;
  readonly #history: string[] = [];
  #options: ReadLineOptions = { prompt: '' };
  #buffer: string[] = [];
  #cursor = 0;
  /** Position in history while browsing; history.length = the line being typed. */
  #browse = 0;
  #draft: string[] = [];
  #dropped = 0;

  constructor(write: (text: string) => void, options: { historySize?: number } = {}) {
    this.#write = write;
    this.#historySize = options.historySize ?? 100;
  }

  /** Commands entered so far, oldest first. */
  get history(): readonly string[] {
    return this.#history;
  }

  /** What is typed on the current line so far. */
  get typed(): string {
    return this.#buffer.join('');
  }

  /** What is typed before the cursor (what completion looks at). */
  get typedBeforeCursor(): string {
    return this.#buffer.slice(0, this.#cursor).join('');
  }

  /** The current line's prompt. */
  get prompt(): string {
    return this.#options.prompt;
  }

  /** Characters dropped from the current line because it was full. */
  get droppedChars(): number {
    return this.#dropped;
  }

  /** Starts a new line: prints the prompt and clears the buffer. */
  begin(options: ReadLineOptions): void {
    if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength > 0))
      throw new TypeError(`maxLength must be a positive integer, got ${options.maxLength}`);
    this.#options = options;
    this.#buffer = [];
    this.#cursor = 0;
    this.#dropped = 0;
    this.#browse = this.#history.length;
    this.#draft = [];
    this.#write(options.prompt);
  }

  /**
   * Completes the word before the cursor from `candidates` (whole words): one match is inserted with a
   * space after it, several are narrowed to their common start; with `list` (a second Tab, or `?`) the
   * matches are printed on a line of their own above the prompt instead. No match rings the bell.
   */
  completeWith(candidates: readonly string[], list: boolean): void {
    const before = this.#buffer.slice(0, this.#cursor).join('');
    const word = before.slice(before.lastIndexOf(' ') + 1);
    const matches = [...new Set(candidates.filter((c) => c.startsWith(word)))].sort();
    if (matches.length === 0) {
      this.#write(BELL);
      return;
    }
    const common = matches.reduce((a, b) => {
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return a.slice(0, i);
    });
    if (list) {
      this.#write(`\n${matches.join('  ')}\n`);
      this.redraw();
    } else if (matches.length === 1) this.#insert([...`${matches[0]!.slice(word.length)} `]);
    else if (common.length > word.length) this.#insert([...common.slice(word.length)]);
    else this.#write(BELL);
  }

  /** Prints the prompt and the line typed so far again (after output was printed above it). */
  redraw(): void {
    this.#write(this.#options.prompt);
    if (this.#options.secret) return;
    this.#write(this.#buffer.join('') + '\b'.repeat(this.#buffer.length - this.#cursor));
  }

  /** Applies one key; returns what ended the line, or undefined while it is still being edited. */
  key(key: Key): EditResult | undefined {
    switch (key.name) {
      case 'char': {
        const { fits, dropped } = this.#fitting(key.text);
        this.#insert(fits);
        if (dropped > 0) {
          this.#dropped += dropped;
          this.#write(BELL);
        }
        return undefined;
      }
      case 'enter':
        return this.#finish();
      case 'interrupt':
        this.#write('^C\n');
        return { done: 'interrupt' };
      case 'eof':
        if (this.#buffer.length === 0) {
          this.#write('\n');
          return { done: 'eof' };
        }
        this.#delete();
        return undefined;
      case 'backspace':
        if (this.#cursor > 0) {
          this.#cursor--;
          this.#echo('\b');
          this.#delete();
        }
        return undefined;
      case 'delete':
        this.#delete();
        return undefined;
      case 'kill-line':
        this.#removeBefore(this.#cursor);
        return undefined;
      case 'kill-word': {
        let i = this.#cursor;
        while (i > 0 && this.#buffer[i - 1] === ' ') i--;
        while (i > 0 && this.#buffer[i - 1] !== ' ') i--;
        this.#removeBefore(this.#cursor - i);
        return undefined;
      }
      case 'left':
        if (this.#cursor > 0) {
          this.#cursor--;
          this.#echo('\b');
        }
        return undefined;
      case 'right':
        if (this.#cursor < this.#buffer.length) this.#echo(this.#buffer[this.#cursor++]!);
        return undefined;
      case 'home':
        this.#echo('\b'.repeat(this.#cursor));
        this.#cursor = 0;
        return undefined;
      case 'end':
        this.#echo(this.#buffer.slice(this.#cursor).join(''));
        this.#cursor = this.#buffer.length;
        return undefined;
      case 'up':
      case 'down':
        this.#recall(key.name === 'up' ? -1 : 1);
        return undefined;
      default:
        return undefined;
    }
  }

  #finish(): EditResult {
    const text = this.#buffer.join('');
    this.#write('\n');
    if (this.#options.history && !this.#options.secret && this.#dropped === 0 && text.trim() !== '') {
      if (this.#history.at(-1) !== text) this.#history.push(text);
      if (this.#history.length > this.#historySize) this.#history.shift();
    }
    return this.#dropped > 0 ? { done: 'line', text, truncated: true } : { done: 'line', text };
  }

  /**
   * The characters of `text` that still fit on the line, and how many UTF-16 units do not. Walks only
   * as far as there is room, so a megabyte paste costs no more than the room left.
   */
  #fitting(text: string): { fits: string[]; dropped: number } {
    const room = (this.#options.maxLength ?? MAX_LINE_CHARS) - this.#buffer.length;
    const chars: string[] = [];
    let used = 0;
    if (room > 0) {
      for (const ch of text) {
        chars.push(ch);
        used += ch.length;
        if (chars.length >= room) break;
      }
    }
    return { fits: chars, dropped: text.length - used };
  }

  #echo(text: string): void {
    if (!this.#options.secret && text !== '') this.#write(text);
  }

  #insert(chars: string[]): void {
    if (chars.length === 0) return;
    this.#buffer.splice(this.#cursor, 0, ...chars);
    this.#cursor += chars.length;
    const tail = this.#buffer.slice(this.#cursor).join('');
    this.#echo(chars.join('') + tail + '\b'.repeat(tail.length));
  }

  /** Deletes the character under the cursor and closes the gap on screen. */
  #delete(): void {
    if (this.#cursor >= this.#buffer.length) return;
    this.#buffer.splice(this.#cursor, 1);
    const tail = this.#buffer.slice(this.#cursor).join('');
    this.#echo(`${tail} ${'\b'.repeat(tail.length + 1)}`);
  }

  /** Removes `count` characters before the cursor (Ctrl-U, Ctrl-W). */
  #removeBefore(count: number): void {
    if (count <= 0) return;
    this.#buffer.splice(this.#cursor - count, count);
    this.#echo('\b'.repeat(count));
    this.#cursor -= count;
    const tail = this.#buffer.slice(this.#cursor).join('');
    this.#echo(tail + ' '.repeat(count) + '\b'.repeat(tail.length + count));
  }

  #recall(step: -1 | 1): void {
    if (!this.#options.history || this.#options.secret) return;
    const target = this.#browse + step;
    if (target < 0 || target > this.#history.length) return;
    if (this.#browse === this.#history.length) this.#draft = this.#buffer;
    this.#browse = target;
    const next = target === this.#history.length ? this.#draft : [...this.#history[target]!];
    this.#replace(next);
  }

  /** Replaces the whole line on screen: back to its start, print, blank out what is left over. */
  #replace(next: string[]): void {
    const old = this.#buffer.length;
    this.#echo('\b'.repeat(this.#cursor));
    const extra = Math.max(0, old - next.length);
    this.#echo(next.join('') + ' '.repeat(extra) + '\b'.repeat(extra));
    this.#buffer = [...next];
    this.#cursor = next.length;
  }
}
