/**
 * A small terminal emulator for tests: applies what the console sends (printable text, CR, LF, BS,
 * and the few ECMA-48 sequences it uses — erase line, home, clear screen, colours) to a grid, so a
 * test can assert on the *screen* a technician sees, not on the byte stream (where an edited line
 * still contains its typos and backspaces).
 */
export class VirtualScreen {
  #lines: string[][] = [[]];
  #row = 0;
  #col = 0;
  #pending = '';
  /** Everything received, raw. */
  raw = '';

  write(data: string | Uint8Array): void {
    const text = this.#pending + (typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
    this.raw += typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    this.#pending = '';
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\x1b') {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ECMA-48 escape sequences start with ESC
        const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) {
          if (text.length - i < 8) {
            this.#pending = text.slice(i);
            return;
          }
          continue;
        }
        this.#csi(m[1]!, m[2]!);
        i += m[0].length - 1;
      } else if (ch === '\r') this.#col = 0;
      else if (ch === '\n') {
        this.#row++;
        while (this.#lines.length <= this.#row) this.#lines.push([]);
      } else if (ch === '\b') this.#col = Math.max(0, this.#col - 1);
      else if (ch >= ' ') {
        const line = this.#lines[this.#row]!;
        while (line.length < this.#col) line.push(' ');
        line[this.#col++] = ch;
      }
    }
  }

  /** The screen's lines, trailing blanks trimmed. */
  lines(): string[] {
    return this.#lines.map((l) => l.join('').trimEnd());
  }

  text(): string {
    return this.lines().join('\n');
  }

  /** The line the cursor is on. */
  get currentLine(): string {
    return (this.#lines[this.#row] ?? []).join('').trimEnd();
  }

  #csi(params: string, final: string): void {
    if (final === 'K') this.#lines[this.#row]!.length = Math.min(this.#lines[this.#row]!.length, this.#col);
    else if (final === 'H') {
      this.#row = 0;
      this.#col = 0;
    } else if (final === 'J' && params === '2') {
      this.#lines = [[]];
      this.#row = 0;
      this.#col = 0;
    }
  }
}
