/** Bytes from terminals to keys: Enter in its three spellings, both Backspaces, arrows split anywhere. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Key, KeyDecoder } from '../../../agent/console/keys.js';

const names = (keys: Key[]) => keys.map((k) => (k.name === 'char' ? k.text : `<${k.name}>`)).join('');

describe('KeyDecoder', () => {
  it('reads CR, LF and CR LF each as one Enter, even when CR LF is split across chunks', () => {
    const d = new KeyDecoder();
    expect(names(d.decode('a\rb\nc\r\nd'))).toBe('a<enter>b<enter>c<enter>d');
    expect(names(d.decode('e\r'))).toBe('e<enter>');
    expect(names(d.decode('\nf'))).toBe('f');
    expect(names(d.decode('\n\n'))).toBe('<enter><enter>');
  });

  it('reads DEL and BS as backspace, and the control keys the editor uses', () => {
    const keys = new KeyDecoder().decode('\x7f\x08\x03\x04\x15\x17\x0c\x01\x05\x09\x07');
    expect(names(keys)).toBe(
      '<backspace><backspace><interrupt><eof><kill-line><kill-word><clear><home><end><tab><ignored>',
    );
  });

  it('reads CSI and SS3 arrows and the editing keys, however the chunks split them', () => {
    const input = '\x1b[A\x1bOB\x1b[C\x1b[D\x1b[H\x1b[F\x1b[3~\x1b[1;5C';
    const expected = '<up><down><right><left><home><end><delete><right>';
    expect(names(new KeyDecoder().decode(input))).toBe(expected);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 6 }), (cuts) => {
        const d = new KeyDecoder();
        const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), input.length];
        const keys = points.slice(1).flatMap((end, i) => d.decode(input.slice(points[i], end)));
        expect(names(keys)).toBe(expected);
      }),
    );
  });

  it('keeps a UTF-8 character split between chunks whole, and coalesces a paste', () => {
    const d = new KeyDecoder();
    const bytes = Buffer.from('°C ok');
    expect(names(d.decode(bytes.subarray(0, 1)))).toBe('');
    expect(d.decode(bytes.subarray(1))).toEqual([{ name: 'char', text: '°C ok' }]);
  });
});
