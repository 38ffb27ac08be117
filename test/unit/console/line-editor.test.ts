/**
 * The line editor on a virtual screen: mid-line edits with the arrows, Delete, Home/End, secrets, and
 * the bound on a line's length.
 */
import { describe, expect, it } from 'vitest';
import { KeyDecoder } from '../../../agent/console/keys.js';
import { LineEditor, MAX_LINE_CHARS } from '../../../agent/console/line-editor.js';
import { VirtualScreen } from '../../support/virtual-screen.js';

function editor() {
  const screen = new VirtualScreen();
  const keys = new KeyDecoder();
  const ed = new LineEditor((t) => screen.write(t.replace(/\n/g, '\r\n')));
  const type = (text: string) =>
    keys
      .decode(text)
      .map((k) => ed.key(k))
      .filter(Boolean)
      .at(-1);
  return { screen, ed, type };
}

describe('LineEditor', () => {
  it('inserts and deletes in the middle of a line, keeping the screen and the buffer in step', () => {
    const { screen, ed, type } = editor();
    ed.begin({ prompt: '> ', history: true });
    type('pints watch');
    type('\x1b[D'.repeat(10)); // to just after the p
    type('o');
    expect(screen.currentLine).toBe('> points watch');
    type('\x05\x7f\x7f\x7f\x7f\x7f\x7f'); // End, then erase " watch"
    type('\x01\x1b[3~P\x1b[F'); // Home, Delete the p, type P, End
    expect(screen.currentLine).toBe('> Points');
    expect(type('\r')).toEqual({ done: 'line', text: 'Points' });
  });

  it('echoes nothing for a secret and keeps it out of history', () => {
    const { screen, ed, type } = editor();
    ed.begin({ prompt: 'password: ', secret: true });
    type('hunter2\x7f3');
    expect(screen.currentLine).toBe('password:');
    expect(type('\r')).toEqual({ done: 'line', text: 'hunter3' });
    expect(ed.history).toEqual([]);
  });

  it('keeps 4096 characters of a megabyte sent without a newline, rings once per key, and says so', () => {
    const { screen, ed, type } = editor();
    ed.begin({ prompt: '> ', history: true });
    type('x'.repeat(1024 * 1024));
    type('yz');
    expect(ed.droppedChars).toBe(1024 * 1024 - MAX_LINE_CHARS + 2);
    expect(screen.raw.split('\x07')).toHaveLength(3);
    const line = type('\r');
    expect(line).toEqual({ done: 'line', text: 'x'.repeat(MAX_LINE_CHARS), truncated: true });
    // Not what was typed, so not offered again by Up either.
    expect(ed.history).toEqual([]);
    ed.begin({ prompt: '> ' });
    expect(ed.droppedChars).toBe(0);
  });

  it('honours a smaller bound per prompt and counts characters, not UTF-16 units', () => {
    const { ed, type } = editor();
    ed.begin({ prompt: 'login: ', maxLength: 4 });
    type('añ😀b');
    expect(type('\r')).toEqual({ done: 'line', text: 'añ😀b' });
    ed.begin({ prompt: 'login: ', maxLength: 4 });
    type('añ😀bc');
    expect(type('\r')).toEqual({ done: 'line', text: 'añ😀b', truncated: true });
    expect(() => ed.begin({ prompt: '', maxLength: 0 })).toThrow(TypeError);
  });
});
