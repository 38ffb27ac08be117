/**
 * Long output one screen at a time, as a network CLI pages it: `-- More --` after a screenful, Space
 * for the next page, Enter for one more line, q (or Ctrl-C) to stop. `terminal length 0` turns it off,
 * and only a terminal pages at all (see Terminal.pageLength).
 */
import type { Key } from './keys.js';
import type { Terminal } from './terminal.js';

export interface PagerIo {
  readonly term: Terminal;
  /** The next key within `ms`, else undefined. */
  nextKeyWithin(ms: number): Promise<Key | undefined>;
}

const PROMPT = '-- More -- (Space: page, Enter: line, q: quit)';

/** Shows what `render` writes, paged when it is longer than a screen. */
export async function paged(io: PagerIo, render: () => void): Promise<void> {
  const { term } = io;
  const lines = term.capture(render);
  const page = term.pageLength - 1; // the last row holds the prompt
  if (page < 1 || lines.length <= page + 1) {
    for (const line of lines) term.line(line);
    return;
  }
  let shown = 0;
  let room = page;
  while (shown < lines.length) {
    for (const line of lines.slice(shown, shown + room)) term.line(line);
    shown += room;
    if (shown >= lines.length) return;
    term.write(term.style(PROMPT, 'dim'));
    const key = await nextKey(io);
    term.eraseLine();
    if (key.name === 'enter' || key.name === 'down') room = 1;
    else if (key.name === 'char' && key.text === ' ') room = page;
    else return; // q, Ctrl-C, Escape: the rest is not wanted
  }
}

async function nextKey(io: PagerIo): Promise<Key> {
  for (;;) {
    const key = await io.nextKeyWithin(60_000);
    if (key) return key;
  }
}
