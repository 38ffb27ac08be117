/** The line editor on a virtual screen: mid-line edits with the arrows, Delete, Home/End, secrets. */
import { describe, expect, it } from 'vitest';
import { KeyDecoder } from '../../../agent/console/keys.js';
import { LineEditor } from '../../../agent/console/line-editor.js';
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
});
