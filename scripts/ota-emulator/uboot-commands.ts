/**
 * U-Boot's `test` and `setexpr` commands and the number parser under them, ported from U-Boot's own
 * source so the emulated bootloader reads the boot counters exactly as a board does:
 *
 * - `simple_strtoul` (lib/strto.c): base 0 means hexadecimal after a `0x` prefix, octal after a
 *   leading `0`, decimal otherwise; a `0x` prefix also switches a given base to 16; parsing stops at
 *   the first character that is not a digit of the base, without error — so `a` in base 10 is 0.
 * - `test` (cmd/test.c): the integer comparisons (`-eq -ne -lt -le -gt -ge`) read both sides with
 *   `simple_strtol(s, NULL, 0)`: `10` is ten, `0xa` is ten, and a bare `a` is zero. (U-Boot before
 *   v2020.01 used base 10, where `0xa` is zero too; between v2020.04 and v2021.10 a heuristic read a
 *   bare `a`–`f` as hex. The emulator follows today's U-Boot, which agrees with C's strtoul.)
 * - `setexpr` (cmd/setexpr.c): operands are read with base 16 (`simple_strtoul(s, NULL, 16)`), the
 *   result is stored by `env_set_hex` as `%lx`: lower-case hex without a prefix (`a`, not `0xa`), in
 *   64-bit arithmetic (`0 - 1` is `ffffffffffffffff`).
 *
 * Values are `bigint` because `ulong` is 64 bits on the arm64 boards the script runs on.
 */

const ULONG_BITS = 64n;
const ULONG_MASK = (1n << ULONG_BITS) - 1n;

function digitValue(ch: string | undefined): number {
  if (ch === undefined || !/^[0-9a-fA-F]$/.test(ch)) return 256;
  return Number.parseInt(ch, 16);
}

/** lib/strto.c `simple_strtoul`: the value of the longest prefix of `text` that is a number. */
export function simpleStrtoul(text: string, base: number): bigint {
  let s = text;
  let radix = base;
  // _parse_integer_fixup_radix
  if (s[0] === '0') {
    if (s[1]?.toLowerCase() === 'x') {
      radix = 16;
      s = s.slice(2);
    } else if (radix === 0) radix = 8;
  }
  if (radix === 0) radix = 10;
  let result = 0n;
  for (const ch of s) {
    const value = digitValue(ch);
    if (value >= radix) break;
    result = (result * BigInt(radix) + BigInt(value)) & ULONG_MASK;
  }
  return result;
}

/** lib/strto.c `simple_strtol`: a leading `-` negates; the `ulong` is then seen as a `long`. */
export function simpleStrtol(text: string, base: number): bigint {
  const magnitude = text.startsWith('-')
    ? -simpleStrtoul(text.slice(1), base) & ULONG_MASK
    : simpleStrtoul(text, base);
  return BigInt.asIntN(64, magnitude);
}

type TestOp = { readonly arg: number; readonly str: string; readonly adv: number; readonly op: string };

// cmd/test.c op_adv[], in its order (the first match wins).
const OPS: readonly TestOp[] = [
  { arg: 1, str: '=', op: 'str_eq', adv: 3 },
  { arg: 1, str: '!=', op: 'str_neq', adv: 3 },
  { arg: 1, str: '<', op: 'str_lt', adv: 3 },
  { arg: 1, str: '>', op: 'str_gt', adv: 3 },
  { arg: 1, str: '-eq', op: 'int_eq', adv: 3 },
  { arg: 1, str: '-ne', op: 'int_neq', adv: 3 },
  { arg: 1, str: '-lt', op: 'int_lt', adv: 3 },
  { arg: 1, str: '-le', op: 'int_le', adv: 3 },
  { arg: 1, str: '-gt', op: 'int_gt', adv: 3 },
  { arg: 1, str: '-ge', op: 'int_ge', adv: 3 },
  { arg: 0, str: '!', op: 'not', adv: 1 },
  { arg: 0, str: '-o', op: 'or', adv: 1 },
  { arg: 0, str: '-a', op: 'and', adv: 1 },
  { arg: 0, str: '-z', op: 'str_empty', adv: 2 },
  { arg: 0, str: '-n', op: 'str_nempty', adv: 2 },
  { arg: 0, str: '-e', op: 'file_exists', adv: 4 },
];

function compare(op: string, a: string, b: string): boolean {
  if (op.startsWith('str_')) {
    const c = a < b ? -1 : a > b ? 1 : 0;
    return { str_eq: c === 0, str_neq: c !== 0, str_lt: c < 0, str_gt: c > 0 }[op] ?? false;
  }
  const x = simpleStrtol(a, 0);
  const y = simpleStrtol(b, 0);
  return (
    { int_eq: x === y, int_neq: x !== y, int_lt: x < y, int_le: x <= y, int_gt: x > y, int_ge: x >= y }[op] ??
    false
  );
}

/**
 * cmd/test.c `do_test` on `args` (without the command name): true when the command would return 0.
 * `-e` (a file on a boot device) is refused: the emulator has no block devices to look at.
 */
export function ubootTest(args: readonly string[]): boolean {
  if (args.length < 2) return false; // argc < 3
  let ap = 0;
  let left = args.length;
  let expr = false;
  let lastExpr = false;
  let lastUnop: 'not' | undefined;
  let lastBinop: 'or' | 'and' | undefined;
  while (left > 0) {
    const found = OPS.find((o) => left > o.arg && args[ap + o.arg] === o.str);
    if (!found || left < found.adv) {
      expr = true;
      break;
    }
    const at = (i: number) => args[ap + i] ?? '';
    switch (found.op) {
      case 'str_empty':
        expr = at(1).length === 0;
        break;
      case 'str_nempty':
        expr = at(1).length !== 0;
        break;
      case 'file_exists':
        throw new Error('test -e is not emulated (no boot devices)');
      case 'not':
      case 'or':
      case 'and':
        break;
      default:
        expr = compare(found.op, at(0), at(2));
    }
    if (found.op === 'or' || found.op === 'and') {
      lastExpr = expr;
      lastBinop = found.op;
    } else if (found.op === 'not') {
      lastUnop = lastUnop === 'not' ? undefined : 'not';
    } else {
      if (lastUnop === 'not') {
        expr = !expr;
        lastUnop = undefined;
      }
      if (lastBinop === 'or') expr = lastExpr || expr;
      else if (lastBinop === 'and') expr = lastExpr && expr;
      lastBinop = undefined;
    }
    ap += found.adv;
    left -= found.adv;
  }
  return expr;
}

/**
 * cmd/setexpr.c for `setexpr name value` and `setexpr name a op b` (no memory operands, no regex,
 * no strings): the value `name` is set to, as `env_set_hex` writes it.
 */
export function setexprValue(args: readonly string[]): string {
  const operand = (s: string) => {
    if (s.startsWith('*')) throw new Error(`setexpr: memory operands are not emulated (${s})`);
    return simpleStrtoul(s, 16);
  };
  if (args.length === 2) return hexUlong(operand(args[1]!));
  if (args.length !== 4 || args[2]!.length !== 1) throw new Error(`setexpr: usage (${args.join(' ')})`);
  const a = operand(args[1]!);
  const b = operand(args[3]!);
  const ops: Record<string, () => bigint> = {
    '|': () => a | b,
    '&': () => a & b,
    '+': () => a + b,
    '^': () => a ^ b,
    '-': () => a - b,
    '*': () => a * b,
    '/': () => a / b,
    '%': () => a % b,
  };
  const op = ops[args[2]!];
  if (!op) throw new Error(`setexpr: invalid op ${args[2]}`);
  return hexUlong(op());
}

function hexUlong(n: bigint): string {
  return (n & ULONG_MASK).toString(16);
}
