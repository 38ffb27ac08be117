/**
 * The emulated U-Boot `test` and `setexpr` against U-Boot's own expectations: the `if test` table of
 * U-Boot's test/py/tests/test_hush_if_test.py, the operator results of test/cmd/setexpr.c (with the
 * memory operands written out as the values they hold), and `simple_strtoul` as lib/strto.c defines
 * it. None of the expected values comes from running our code.
 */
import { describe, expect, it } from 'vitest';
import {
  setexprValue,
  simpleStrtol,
  simpleStrtoul,
  ubootTest,
} from '../../../../scripts/ota-emulator/uboot-commands.js';

const test = (expr: string) =>
  ubootTest(expr.split(' ').map((w) => (w === '""' ? '' : w.replaceAll('"', ''))));

describe('U-Boot test (cmd/test.c)', () => {
  it('reads a bare hex digit as decimal, i.e. zero, and 0xa as ten', () => {
    expect(test('a -gt 0')).toBe(false);
    expect(test('a -eq 0')).toBe(true);
    expect(test('0xa -gt 0')).toBe(true);
    expect(test('0xa -eq 10')).toBe(true);
    expect(test('10 -eq 10')).toBe(true);
    expect(test('10 -eq 0xa')).toBe(true);
  });

  // test/py/tests/test_hush_if_test.py `subtests`, minus true/false (not `test`) and -e (files).
  const table: [string, boolean][] = [
    ['aaa = aaa', true],
    ['aaa = bbb', false],
    ['aaa != bbb', true],
    ['aaa != aaa', false],
    ['aaa < bbb', true],
    ['bbb < aaa', false],
    ['bbb > aaa', true],
    ['aaa > bbb', false],
    ['123 -eq 123', true],
    ['123 -eq 456', false],
    ['123 -ne 456', true],
    ['123 -ne 123', false],
    ['123 -lt 456', true],
    ['123 -lt 123', false],
    ['456 -lt 123', false],
    ['123 -le 456', true],
    ['123 -le 123', true],
    ['456 -le 123', false],
    ['456 -gt 123', true],
    ['123 -gt 123', false],
    ['123 -gt 456', false],
    ['456 -ge 123', true],
    ['123 -ge 123', true],
    ['123 -ge 456', false],
    ['010 -eq 010', true],
    ['010 -eq 011', false],
    ['010 -ne 011', true],
    ['010 -ne 010', false],
    ['0x2000000 -gt 0x2000001', false],
    ['0x2000000 -gt 0x2000000', false],
    ['0x2000000 -gt 0x1ffffff', true],
    ['010 -eq 10', false],
    ['010 -ne 10', true],
    ['0xa -eq 10', true],
    ['0xa -eq 012', true],
    ['2000000 -gt 0x1ffffff', false],
    ['0x2000000 -gt 1ffffff', true],
    ['0x2000000 -lt 1ffffff', false],
    ['0x2000000 -eq 2000000', false],
    ['0x2000000 -ne 2000000', true],
    ['-z ""', true],
    ['-z "aaa"', false],
    ['-n "aaa"', true],
    ['-n ""', false],
    ['! aaa = aaa', false],
    ['! aaa = bbb', true],
    ['! ! aaa = aaa', true],
    ['! ! aaa = bbb', false],
    ['aaa != aaa -o bbb != bbb', false],
    ['aaa != aaa -o bbb = bbb', true],
    ['aaa = aaa -o bbb != bbb', true],
    ['aaa = aaa -o bbb = bbb', true],
    ['aaa != aaa -a bbb != bbb', false],
    ['aaa != aaa -a bbb = bbb', false],
    ['aaa = aaa -a bbb != bbb', false],
    ['aaa = aaa -a bbb = bbb', true],
    ['! aaa != aaa -o ! bbb != bbb', true],
    ['! aaa != aaa -o ! bbb = bbb', true],
    ['! aaa = aaa -o ! bbb != bbb', true],
    ['! aaa = aaa -o ! bbb = bbb', false],
    ['! ! aaa != aaa -o ! ! bbb != bbb', false],
    ['! ! aaa != aaa -o ! ! bbb = bbb', true],
    ['! ! aaa = aaa -o ! ! bbb != bbb', true],
    ['! ! aaa = aaa -o ! ! bbb = bbb', true],
  ];
  for (const [expr, result] of table) {
    it(`test ${expr} is ${result}`, () => expect(test(expr)).toBe(result));
  }

  it('is true when no operator matches (test -gt 0), and false with fewer than two arguments', () => {
    expect(ubootTest(['-gt', '0'])).toBe(true);
    expect(ubootTest(['-n'])).toBe(false);
    expect(ubootTest([])).toBe(false);
  });
});

describe('U-Boot simple_strtoul (lib/strto.c)', () => {
  it('picks the base from the prefix when given 0, and stops at the first non-digit', () => {
    expect(simpleStrtoul('123', 0)).toBe(123n);
    expect(simpleStrtoul('0x1f', 0)).toBe(31n);
    expect(simpleStrtoul('017', 0)).toBe(15n);
    expect(simpleStrtoul('1f', 0)).toBe(1n);
    expect(simpleStrtoul('a', 0)).toBe(0n);
    expect(simpleStrtoul('a', 10)).toBe(0n);
  });

  it('reads hex with or without 0x in base 16, and honours 0x in base 10', () => {
    expect(simpleStrtoul('a', 16)).toBe(10n);
    expect(simpleStrtoul('0xa', 16)).toBe(10n);
    expect(simpleStrtoul('0x1f', 10)).toBe(31n);
  });

  it('sees a negative or high ulong as a long', () => {
    expect(simpleStrtol('-4', 0)).toBe(-4n);
    expect(simpleStrtol('0xffffffffffffffff', 0)).toBe(-1n);
  });
});

describe('U-Boot setexpr (cmd/setexpr.c)', () => {
  it('reads operands as hex and writes the result as hex without a prefix', () => {
    expect(setexprValue(['n', 'a', '-', '1'])).toBe('9');
    expect(setexprValue(['n', '10', '-', '1'])).toBe('f');
    expect(setexprValue(['n', '0xb', '-', '1'])).toBe('a');
    expect(setexprValue(['n', '1', '-', '1'])).toBe('0');
    expect(setexprValue(['n', '0'])).toBe('0');
  });

  it('computes in 64 bits: 0 - 1 wraps', () => {
    expect(setexprValue(['n', '0', '-', '1'])).toBe('ffffffffffffffff');
  });

  // test/cmd/setexpr.c setexpr_test_oper, with *0 and *10 replaced by the values they point at.
  const oper: [string, string, string, string][] = [
    ['1234', '|', '560000', '561234'],
    ['561200', '&', '1234', '1200'],
    ['561200', '^', '1234', '560034'],
    ['561200', '-', '1234', '55ffcc'],
    ['561200', '*', '1234', '61ebfa800'],
    ['561200', '/', '1234', '4ba'],
    ['561200', '%', '1234', '838'],
  ];
  for (const [a, op, b, result] of oper) {
    it(`setexpr fred ${a} ${op} ${b} gives ${result}`, () =>
      expect(setexprValue(['fred', a, op, b])).toBe(result));
  }

  it('refuses what the emulator does not model', () => {
    expect(() => setexprValue(['n', '*0', '+', '1'])).toThrow(/memory operands/);
    expect(() => setexprValue(['n', '1', '<<', '1'])).toThrow(/usage/);
    expect(() => setexprValue(['n', '1', '!', '1'])).toThrow(/invalid op/);
  });
});
