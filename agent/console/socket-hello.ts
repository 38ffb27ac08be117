/**
 * The first bytes `edge-agent console` sends on the Unix socket, telling the agent that a person's
 * terminal is on the other end (so ANSI is welcome) and how wide it is:
 * `NUL "EDGE-CONSOLE" SP "tty=" 0|1 SP "cols=" N [SP "rows=" N] [SP "mode=script"] LF`. A client that sends no hello
 * (`socat -`) gets plain text; `mode=script` asks for the script console (script-session.ts). The NUL cannot be typed at a login prompt, so a hello is never a user name.
 */

const MAGIC = '\0EDGE-CONSOLE ';

export interface ConsoleHello {
  readonly tty: boolean;
  readonly columns: number;
  /** Screen height, when the client knows it. */
  readonly rows?: number | undefined;
  /** The script console: framed replies and an exit code instead of prompts. */
  readonly script?: boolean;
}

export function encodeHello(hello: ConsoleHello): string {
  return `${MAGIC}tty=${hello.tty ? 1 : 0} cols=${Math.max(20, Math.min(500, Math.round(hello.columns)))}${
    hello.rows ? ` rows=${Math.max(5, Math.min(500, Math.round(hello.rows)))}` : ''
  }${hello.script ? ' mode=script' : ''}\n`;
}

/**
 * Splits a hello off the start of the first chunk from a client: `hello` undefined if there is none
 * (`rest` is then the whole chunk).
 */
export function takeHello(chunk: Buffer): { hello: ConsoleHello | undefined; rest: Buffer } {
  const text = chunk.toString('latin1');
  if (!text.startsWith(MAGIC)) return { hello: undefined, rest: chunk };
  const end = text.indexOf('\n');
  if (end < 0) return { hello: undefined, rest: chunk };
  const fields = new Map(
    text
      .slice(MAGIC.length, end)
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
  const columns = Number(fields.get('cols'));
  return {
    hello: {
      tty: fields.get('tty') === '1',
      columns: Number.isInteger(columns) && columns > 0 ? columns : 80,
      script: fields.get('mode') === 'script',
      ...(Number.isInteger(Number(fields.get('rows'))) && Number(fields.get('rows')) > 0
        ? { rows: Number(fields.get('rows')) }
        : {}),
    },
    rest: chunk.subarray(end + 1),
  };
}
