/**
 * Turns the bytes a terminal sends into keys. Terminals disagree on the Enter key (picocom and screen
 * send CR, `socat -` and pipes send LF, Windows terminals CR LF), so CR, LF and CR LF are each one
 * `enter`; Backspace arrives as DEL (0x7f, most emulators) or BS (0x08, some serial consoles); the
 * arrows as ECMA-48 CSI (`ESC [ A`) or, in application cursor mode, SS3 (`ESC O A`). An escape
 * sequence or a UTF-8 character may be split across chunks, so incomplete tails wait for the next one.
 */
import { StringDecoder } from 'node:string_decoder';

export type Key =
  | { readonly name: 'char'; readonly text: string }
  | {
      readonly name:
        | 'enter'
        | 'backspace'
        | 'delete'
        | 'interrupt'
        | 'eof'
        | 'kill-line'
        | 'kill-word'
        | 'clear'
        | 'tab'
        | 'escape'
        | 'up'
        | 'down'
        | 'left'
        | 'right'
        | 'home'
        | 'end'
        | 'ignored';
    };

type KeyName = Exclude<Key['name'], 'char'>;

const CONTROL: Record<number, KeyName> = {
  1: 'home', // Ctrl-A
  3: 'interrupt', // Ctrl-C
  4: 'eof', // Ctrl-D
  5: 'end', // Ctrl-E
  8: 'backspace', // Ctrl-H
  9: 'tab',
  12: 'clear', // Ctrl-L
  21: 'kill-line', // Ctrl-U
  23: 'kill-word', // Ctrl-W
  127: 'backspace',
};

const FINAL: Record<string, KeyName> = {
  A: 'up',
  B: 'down',
  C: 'right',
  D: 'left',
  H: 'home',
  F: 'end',
};

const TILDE: Record<string, KeyName> = { '1': 'home', '3': 'delete', '4': 'end', '7': 'home', '8': 'end' };

export class KeyDecoder {
  readonly #utf8 = new StringDecoder('utf8');
  #pending = '';
  #afterCr = false;

  /** Decodes a chunk; keys whose bytes are not all here yet come with a later chunk. */
  decode(chunk: Uint8Array | string): Key[] {
    const text = this.#pending + (typeof chunk === 'string' ? chunk : this.#utf8.write(Buffer.from(chunk)));
    this.#pending = '';
    const keys: Key[] = [];
    let i = 0;
    while (i < text.length) {
      const ch = text[i]!;
      const code = ch.charCodeAt(0);
      if (ch === '\n' && this.#afterCr) {
        this.#afterCr = false;
        i++;
        continue;
      }
      this.#afterCr = ch === '\r';
      if (ch === '\r' || ch === '\n') {
        keys.push({ name: 'enter' });
        i++;
      } else if (ch === '\x1b') {
        const seq = parseEscape(text, i);
        if (seq === 'incomplete') {
          this.#pending = text.slice(i);
          break;
        }
        keys.push({ name: seq.key });
        i += seq.length;
      } else if (code < 0x20 || code === 0x7f) {
        keys.push({ name: CONTROL[code] ?? 'ignored' });
        i++;
      } else {
        // Coalesce a run of printable characters (a paste) into one key.
        let j = i + 1;
        while (j < text.length && isPrintable(text.charCodeAt(j))) j++;
        keys.push({ name: 'char', text: text.slice(i, j) });
        i = j;
      }
    }
    return keys;
  }
}

function isPrintable(code: number): boolean {
  return code >= 0x20 && code !== 0x7f && code !== 0x1b;
}

/** Parses the escape sequence at `text[start]` (an ESC). */
function parseEscape(text: string, start: number): { key: KeyName; length: number } | 'incomplete' {
  const intro = text[start + 1];
  if (intro === undefined) return 'incomplete';
  if (intro === 'O') {
    const final = text[start + 2];
    if (final === undefined) return 'incomplete';
    return { key: FINAL[final] ?? 'ignored', length: 3 };
  }
  if (intro !== '[') return { key: 'escape', length: 1 };
  // CSI: parameter bytes 0x30–0x3f, intermediate 0x20–0x2f, one final byte 0x40–0x7e (ECMA-48 §5.4).
  let j = start + 2;
  while (j < text.length && /[0-?]/.test(text[j]!)) j++;
  while (j < text.length && /[ -/]/.test(text[j]!)) j++;
  const final = text[j];
  if (final === undefined) return j - start > 16 ? { key: 'ignored', length: j - start } : 'incomplete';
  const params = text.slice(start + 2, j);
  const key = final === '~' ? (TILDE[params.split(';')[0] ?? ''] ?? 'ignored') : (FINAL[final] ?? 'ignored');
  return { key, length: j - start + 1 };
}
