/**
 * What the console knows about the peer's screen. Serial terminals (picocom, minicom, screen) move to
 * the next line only on CR LF, so every LF goes out as CR LF. ANSI escape sequences (colour, clearing
 * the screen for `points watch`) are sent only to a peer that is a terminal: a serial emulator is one,
 * a Unix-socket client is one if it says so, a pipe never is — scripts get plain text.
 */

export interface TerminalInfo {
  /** The peer renders ECMA-48 / VT100 escape sequences. */
  readonly ansi: boolean;
  /** Screen width in columns (tables are not wrapped, but rules and bars use it). */
  readonly columns: number;
  /** Screen height in lines, when known (default 24, a serial terminal's). */
  readonly rows?: number | undefined;
}

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const SGR: Record<Style, string> = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' };

export class Terminal {
  #info: TerminalInfo;
  #send: (text: string) => void;
  /** `terminal length N` (0 = never page); undefined = the screen's rows. */
  #pageLength: number | undefined;

  constructor(send: (text: string) => void, info: TerminalInfo) {
    this.#send = send;
    this.#info = info;
  }

  get ansi(): boolean {
    return this.#info.ansi;
  }

  get columns(): number {
    return this.#info.columns;
  }

  get rows(): number {
    return this.#info.rows ?? 24;
  }

  /**
   * Lines per page for long output, 0 for none. Only a terminal pages: a script reading a pipe never
   * meets a `-- More --` it cannot answer.
   */
  get pageLength(): number {
    if (!this.#info.ansi) return 0;
    return this.#pageLength ?? this.rows;
  }

  set pageLength(lines: number) {
    this.#pageLength = lines;
  }

  /** Runs `render` with its output kept instead of sent; returns it as lines. */
  capture(render: () => void): string[] {
    const send = this.#send;
    let text = '';
    this.#send = (t) => {
      text += t;
    };
    try {
      render();
    } finally {
      this.#send = send;
    }
    const lines = text.split('\r\n');
    if (lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** Changes what is known about the peer (a socket client announced itself as a terminal). */
  configure(info: Partial<TerminalInfo>): void {
    this.#info = { ...this.#info, ...info };
  }

  /** Writes text; LF becomes CR LF. */
  write(text: string): void {
    if (text !== '') this.#send(text.replace(/\r?\n/g, '\r\n'));
  }

  line(text = ''): void {
    this.write(`${text}\n`);
  }

  style(text: string, ...styles: Style[]): string {
    if (!this.#info.ansi || styles.length === 0 || text === '') return text;
    return `\x1b[${styles.map((s) => SGR[s]).join(';')}m${text}\x1b[0m`;
  }

  /** Home and clear (ANSI only); returns whether it could. */
  clearScreen(): boolean {
    if (!this.#info.ansi) return false;
    this.#send('\x1b[H\x1b[2J');
    return true;
  }

  /** Erases the current line and returns to its start, so output can be printed above a prompt. */
  eraseLine(): void {
    this.#send(this.#info.ansi ? '\r\x1b[K' : '\r\n');
  }
}
