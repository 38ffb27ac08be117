/**
 * Runs a U-Boot boot script (boards/uboot-ab.script) the way U-Boot's hush shell (common/cli_hush.c)
 * would, so the emulated bootloader is the script itself and cannot drift from it. Only what a boot
 * script of this kind uses is understood; anything else is refused with the line it is on, so a new
 * construct in the script fails the tests instead of being emulated wrongly:
 *
 * - `;` and newlines, `&&` and `||`, `if … then … elif … else … fi`, `for NAME in …; do … done`,
 *   `#` comments, double and single quotes, `${NAME}` and `$NAME`;
 * - the commands `test`, `setexpr` (both as in `./uboot-commands.ts`), `setenv`, `echo`, `saveenv`,
 *   `reset`, `load`, `booti`/`bootm`/`bootz`.
 *
 * Hush's expansion rules that the script relies on: a command's arguments are substituted and the
 * line re-parsed (`make_string`), so an unquoted `${X}` holding blanks becomes several arguments while
 * a quoted word stays one (even when empty); the word list of `for` is always split at spaces
 * (`make_list_in`), quoted or not — which is how `for BOOT_SLOT in "${BOOT_ORDER}"` walks the order.
 * A variable is looked up in the environment first, then among the shell's own (the `for` variable,
 * which `saveenv` does not save).
 */
import { setexprValue, ubootTest } from './uboot-commands.js';

type Segment = { readonly text: string; readonly variable: boolean };
interface Word {
  readonly segments: readonly Segment[];
  readonly quoted: boolean;
  readonly line: number;
}
type Token = Word | { readonly op: ';' | '&&' | '||'; readonly line: number };

type Node =
  | { readonly kind: 'command'; readonly words: readonly Word[] }
  | { readonly kind: 'andor'; readonly op: '&&' | '||'; readonly left: Node; readonly right: Node }
  | {
      readonly kind: 'if';
      readonly branches: readonly { cond: Node[]; body: Node[] }[];
      readonly otherwise: Node[];
    }
  | { readonly kind: 'for'; readonly name: string; readonly items: readonly Word[]; readonly body: Node[] };

export interface BootScriptRun {
  /** How the script ended: it started a kernel, reset the board, or ran off its end. */
  readonly outcome: 'boot' | 'reset' | 'end';
  /** The environment at the last `saveenv` (undefined if it never saved). */
  readonly saved: ReadonlyMap<string, string> | undefined;
  /** The environment when the script ended. */
  readonly env: ReadonlyMap<string, string>;
  /** `bootargs` when a kernel was started. */
  readonly bootargs: string | undefined;
  /** What `echo` printed and what `load` loaded, in order. */
  readonly console: readonly string[];
}

export class BootScriptError extends Error {
  constructor(message: string, line: number) {
    super(`boot script line ${line}: ${message}`);
    this.name = 'BootScriptError';
  }
}

function isWord(t: Token | undefined): t is Word {
  return t !== undefined && 'segments' in t;
}

function plain(w: Word): string | undefined {
  return w.quoted || w.segments.some((s) => s.variable) ? undefined : w.segments.map((s) => s.text).join('');
}

function tokenize(script: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const at = (k: number) => script[k] ?? '';
  while (i < script.length) {
    const ch = at(i);
    if (ch === '\n') {
      tokens.push({ op: ';', line });
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') i++;
    else if (ch === '#') while (i < script.length && at(i) !== '\n') i++;
    else if (ch === ';') {
      tokens.push({ op: ';', line });
      i++;
    } else if ((ch === '&' || ch === '|') && at(i + 1) === ch) {
      tokens.push({ op: ch === '&' ? '&&' : '||', line });
      i += 2;
    } else {
      const segments: Segment[] = [];
      let quoted = false;
      let quote: '"' | "'" | undefined;
      let text = '';
      const flush = () => {
        if (text) segments.push({ text, variable: false });
        text = '';
      };
      while (i < script.length) {
        const c = at(i);
        if (!quote && (' \t\r\n;'.includes(c) || ((c === '&' || c === '|') && at(i + 1) === c))) break;
        if ((c === '"' || c === "'") && (!quote || quote === c)) {
          quote = quote ? undefined : c;
          quoted = true;
          i++;
        } else if (c === '$' && quote !== "'") {
          const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(script.slice(i));
          if (!m) throw new BootScriptError(`unsupported $ expansion: ${script.slice(i, i + 12)}`, line);
          flush();
          segments.push({ text: m[1] ?? m[2]!, variable: true });
          i += m[0].length;
        } else if (c === '\\') throw new BootScriptError('backslash escapes are not emulated', line);
        else {
          if (c === '\n') line++;
          text += c;
          i++;
        }
      }
      if (quote) throw new BootScriptError(`unterminated ${quote}`, line);
      flush();
      tokens.push({ segments, quoted, line });
    }
  }
  return tokens;
}

const RESERVED = ['then', 'elif', 'else', 'fi', 'do', 'done', 'in'];

class Parser {
  #pos = 0;
  constructor(readonly tokens: readonly Token[]) {}

  #peekKeyword(): string | undefined {
    const t = this.tokens[this.#pos];
    return isWord(t) ? plain(t) : undefined;
  }

  #skipSeparators(): void {
    while (this.#pos < this.tokens.length && !isWord(this.tokens[this.#pos])) this.#pos++;
  }

  #expect(keyword: string): void {
    this.#skipSeparators();
    const t = this.tokens[this.#pos];
    if (!isWord(t) || plain(t) !== keyword)
      throw new BootScriptError(`expected "${keyword}"`, t?.line ?? this.tokens.at(-1)?.line ?? 0);
    this.#pos++;
  }

  /** Commands up to one of `stops` (not consumed) or the end. */
  list(stops: readonly string[]): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      this.#skipSeparators();
      const keyword = this.#peekKeyword();
      if (this.#pos >= this.tokens.length || (keyword !== undefined && stops.includes(keyword))) return nodes;
      nodes.push(this.#andOr());
    }
  }

  #andOr(): Node {
    let node = this.#command();
    for (;;) {
      const t = this.tokens[this.#pos];
      if (!t || isWord(t) || t.op === ';') return node;
      this.#pos++;
      while (this.tokens[this.#pos] && !isWord(this.tokens[this.#pos])) this.#pos++; // newline after || is allowed
      node = { kind: 'andor', op: t.op, left: node, right: this.#command() };
    }
  }

  #command(): Node {
    const first = this.tokens[this.#pos];
    const keyword = this.#peekKeyword();
    if (keyword === 'if') {
      this.#pos++;
      const branches: { cond: Node[]; body: Node[] }[] = [];
      let otherwise: Node[] = [];
      for (;;) {
        const cond = this.list(['then']);
        this.#expect('then');
        branches.push({ cond, body: this.list(['elif', 'else', 'fi']) });
        const next = this.#peekKeyword();
        this.#pos++;
        if (next === 'elif') continue;
        if (next === 'else') {
          otherwise = this.list(['fi']);
          this.#expect('fi');
        } else if (next !== 'fi') throw new BootScriptError('if without fi', first?.line ?? 0);
        return { kind: 'if', branches, otherwise };
      }
    }
    if (keyword === 'for') {
      this.#pos++;
      const nameWord = this.tokens[this.#pos++];
      const name = isWord(nameWord) ? plain(nameWord) : undefined;
      if (!name) throw new BootScriptError('for needs a variable name', first?.line ?? 0);
      this.#expect('in');
      const items: Word[] = [];
      for (let t = this.tokens[this.#pos]; isWord(t); t = this.tokens[++this.#pos]) items.push(t);
      this.#expect('do');
      const body = this.list(['done']);
      this.#expect('done');
      return { kind: 'for', name, items, body };
    }
    if (keyword !== undefined && RESERVED.includes(keyword))
      throw new BootScriptError(`unexpected "${keyword}"`, first?.line ?? 0);
    const words: Word[] = [];
    for (let t = this.tokens[this.#pos]; isWord(t); t = this.tokens[++this.#pos]) words.push(t);
    if (words.length === 0) throw new BootScriptError('empty command', first?.line ?? 0);
    return { kind: 'command', words };
  }
}

class Stop {
  constructor(readonly outcome: 'boot' | 'reset') {}
}

/** Runs `script` over `env` (not modified) as U-Boot's hush would at power-on. */
export function runBootScript(script: string, env: ReadonlyMap<string, string>): BootScriptRun {
  const program = new Parser(tokenize(script)).list([]);
  const vars = new Map(env);
  const locals = new Map<string, string>();
  const output: string[] = [];
  let saved: Map<string, string> | undefined;
  let bootargs: string | undefined;
  const lookup = (name: string) => vars.get(name) ?? locals.get(name) ?? '';
  const value = (w: Word) => w.segments.map((s) => (s.variable ? lookup(s.text) : s.text)).join('');

  const argv = (words: readonly Word[]): string[] =>
    words.flatMap((w) => {
      if (w.quoted || !w.segments.some((s) => s.variable)) return [value(w)];
      return value(w)
        .split(/[ \t]+/)
        .filter(Boolean);
    });

  const command = (args: string[], line: number): number => {
    const [name, ...rest] = args;
    switch (name) {
      case undefined:
        return 0; // a command that expanded to nothing
      case 'test':
        return ubootTest(rest) ? 0 : 1;
      case 'setenv':
        if (!rest[0]) throw new BootScriptError('setenv needs a name', line);
        if (rest.length === 1) vars.delete(rest[0]);
        else vars.set(rest[0], rest.slice(1).join(' '));
        return 0;
      case 'setexpr':
        if (!rest[0]) throw new BootScriptError('setexpr needs a name', line);
        vars.set(rest[0], setexprValue(rest));
        return 0;
      case 'echo':
        output.push(rest.join(' '));
        return 0;
      case 'saveenv':
        saved = new Map(vars);
        return 0;
      case 'load':
        output.push(`load ${rest.join(' ')}`);
        return 0;
      case 'reset':
        throw new Stop('reset');
      case 'booti':
      case 'bootm':
      case 'bootz':
        bootargs = vars.get('bootargs') ?? '';
        throw new Stop('boot');
      default:
        throw new BootScriptError(`command "${name}" is not emulated`, line);
    }
  };

  const run = (nodes: readonly Node[]): number => {
    let status = 0;
    for (const node of nodes) status = exec(node);
    return status;
  };
  const exec = (node: Node): number => {
    switch (node.kind) {
      case 'command':
        return command(argv(node.words), node.words[0]?.line ?? 0);
      case 'andor': {
        const left = exec(node.left);
        return (node.op === '&&') === (left === 0) ? exec(node.right) : left;
      }
      case 'if': {
        for (const branch of node.branches) if (run(branch.cond) === 0) return run(branch.body);
        return run(node.otherwise);
      }
      case 'for': {
        let status = 0;
        for (const item of node.items.flatMap((w) => value(w).split(' ').filter(Boolean))) {
          locals.set(node.name, item);
          status = run(node.body);
        }
        return status;
      }
    }
  };

  let outcome: BootScriptRun['outcome'] = 'end';
  try {
    run(program);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    outcome = e.outcome;
  }
  return { outcome, saved, env: vars, bootargs, console: output };
}
