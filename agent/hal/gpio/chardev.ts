/**
 * The real GPIO bus over the GPIO character device (`/dev/gpiochipN`, the kernel's v2 uAPI), through
 * the libgpiod v2 command-line tools (gpiod-tools.ts). Sysfs (linux.ts) is gone from JetPack 6 kernels
 * and deprecated upstream; the character device adds bias, drive, kernel debounce and kernel event
 * timestamps, and releases every line when its holder dies.
 *
 * Why the tools and not a binding: the Node bindings of libgpiod are v1 only — `node-libgpiod`
 * (0.5.x/0.6.0) wraps libgpiod 1.x ("still working on libgpiod 2.x") and builds with node-gyp against
 * libgpiod-dev at install, with no prebuilt arm64 binaries — and no maintained Node binding of the v2
 * uAPI is known, while a hand-written ioctl addon is exactly what the project does not write when a
 * maintained tool exists. The tools are libgpiod's own, upstream-maintained v2 clients, packaged by the
 * distributions (Debian/Ubuntu package `gpiod` ≥ 2.0; see gpiod-tools.ts for which releases ship v1).
 *
 * How lines are held:
 *  - an output is one `gpioset --banner -c gpiochipN <offset>=<v>` child that holds the line for as long
 *    as it runs. Where gpioset has its interactive mode (`--interactive` in its `--help`; a build
 *    option, `--enable-gpioset-interactive` with libedit), a write is the command `set <offset>=<v>`
 *    on its stdin, confirmed by `get <offset>` — the line stays requested, no glitch, ~1 ms. Debian's
 *    `gpiod` 2.2.1 is built without it (the package depends on libc and libgpiod3 only; its gpioset has
 *    no `--interactive`), so there a write stops the child (the kernel releases the line) and starts
 *    another with the new value: the line is unrequested for that moment — on a Pi the pin keeps
 *    driving its last level, and another process could claim it (the write then fails EBUSY) — and a
 *    write costs a process start (a few ms on a Pi 5). Fine for relays and valves, not for
 *    bit-banging. `read` of an output returns the level last driven (what the kernel returns for an
 *    output; gpioget cannot read a line gpioset holds);
 *  - an input with edges is one `gpiomon --edges=both --format='%e %S'` child that holds the line with
 *    its bias, active-low and kernel debounce (`--debounce-period`). `read` returns the level known from
 *    `gpioget` at open and each edge since — with debounce, the debounced level. Both edges are always
 *    watched so that the level stays known; the edge filter is applied here. A change between that
 *    gpioget and gpiomon's request (a few ms at open) is not seen until the next edge;
 *  - an input with edge `none` is not held: each `read` is one `gpioget` (which requests the line with
 *    the handle's bias and active-low, reads it and releases it).
 * A child that exits unexpectedly is an `EIO` GpioError: an input reports it to its watchers' `onError`
 * and rejects reads; an output rejects reads until the next write, which starts a new child. A line held
 * by another process or a kernel driver is `EBUSY`; missing or v1 tools are `ENOGPIO`, naming the package.
 * Event times are the kernel's CLOCK_MONOTONIC timestamps, converted to the injected clock.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { checkInputOptions, checkLevel, checkLineRef, checkOutputOptions } from './check-options.js';
import { matchesEdge } from './debouncer.js';
import { EdgeListeners } from './edge-listeners.js';
import { formatLine, GpioError } from './errors.js';
import { GpiodTools, type ToolProcess } from './gpiod-tools.js';
import { LineClaims } from './line-claims.js';
import { findChip } from './resolve-line.js';
import type {
  GpioBackend,
  GpioChipInfo,
  GpioEdge,
  GpioEdgeListener,
  GpioInput,
  GpioInputOptions,
  GpioLevel,
  GpioLineRef,
  GpioOutput,
  GpioOutputOptions,
} from './types.js';

/** The consumer name `gpioinfo` shows for lines the agent holds. */
export const GPIO_CONSUMER = 'edge-agent';

export interface ChardevGpioDeps {
  readonly clock: Clock;
  readonly log?: Logger | undefined;
  /** Directory of the libgpiod v2 tools; default: `PATH`. Tests point it at the fake tools. */
  readonly toolDir?: string | undefined;
  /** CLOCK_MONOTONIC now, in ms: the clock of gpiomon's timestamps. Default `process.hrtime` (Linux). */
  readonly kernelMonotonicMs?: () => number;
}

const hrtimeMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class ChardevGpio implements GpioBackend {
  readonly kind = 'chardev';
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #tools: GpiodTools;
  readonly #kernelMs: () => number;
  readonly #lines = new LineClaims();

  constructor(deps: ChardevGpioDeps) {
    if (!deps?.clock) throw new TypeError('clock is required');
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#tools = new GpiodTools({ toolDir: deps.toolDir });
    this.#kernelMs = deps.kernelMonotonicMs ?? hrtimeMs;
  }

  listChips(): Promise<GpioChipInfo[]> {
    return this.#tools.listChips();
  }

  async openOutput(ref: GpioLineRef, options: GpioOutputOptions): Promise<GpioOutput> {
    checkLineRef(ref);
    const opts = checkOutputOptions(options);
    return this.#lines.withClaim(ref, async () => {
      const args = [...(await this.#lineArgs(ref)), ...(opts.activeLow ? ['--active-low'] : [])];
      if (opts.drive !== 'push-pull') args.push(`--drive=${opts.drive}`);
      const { interactive } = await this.#tools.check();
      const handle: ChardevOutput = new ChardevOutput(ref, opts.activeLow, interactive, {
        tools: this.#tools,
        log: this.#log,
        args,
        onClose: () => this.#lines.release(ref, handle),
      });
      await handle.start(opts.initial);
      return handle;
    });
  }

  async openInput(ref: GpioLineRef, options?: GpioInputOptions): Promise<GpioInput> {
    checkLineRef(ref);
    const opts = checkInputOptions(options);
    return this.#lines.withClaim(ref, async () => {
      const args = [...(await this.#lineArgs(ref)), ...(opts.activeLow ? ['--active-low'] : [])];
      if (opts.bias !== 'as-is') args.push(`--bias=${opts.bias}`);
      const handle: ChardevInput = new ChardevInput(ref, opts, {
        tools: this.#tools,
        log: this.#log,
        clock: this.#clock,
        kernelMs: this.#kernelMs,
        args,
        onClose: () => this.#lines.release(ref, handle),
      });
      await handle.start();
      return handle;
    });
  }

  async close(): Promise<void> {
    await this.#lines.closeAll();
  }

  /** `--consumer edge-agent -c gpiochipN`, after checking the tools and resolving the label. */
  async #lineArgs(ref: GpioLineRef): Promise<string[]> {
    const chip = findChip(await this.#tools.listChips(), ref);
    return ['--consumer', GPIO_CONSUMER, '--chip', chip.name ?? ref.chip];
  }
}

interface HandleDeps {
  readonly tools: GpiodTools;
  readonly log: Logger | undefined;
  /** Options common to every tool run for this line (consumer, chip, active-low, bias or drive). */
  readonly args: readonly string[];
  readonly onClose: () => void;
}

function assertOpen(open: boolean, ref: GpioLineRef): void {
  if (!open) throw new GpioError('ECLOSED', `gpio ${formatLine(ref)} is closed`, { line: ref });
}

class ChardevOutput implements GpioOutput {
  readonly direction = 'out';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly #deps: HandleDeps;
  readonly #interactive: boolean;
  #proc: ToolProcess | undefined;
  #value: GpioLevel = 0;
  /** The `get` answer an interactive write waits for. */
  #ack: { resolve: (value: GpioLevel) => void; reject: (error: Error) => void } | undefined;
  /** Why the line is not held (its gpioset died), until a write holds it again. */
  #failure: GpioError | undefined;
  /** Writes run one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(ref: GpioLineRef, activeLow: boolean, interactive: boolean, deps: HandleDeps) {
    this.ref = ref;
    this.activeLow = activeLow;
    this.#interactive = interactive;
    this.#deps = deps;
  }

  get isOpen(): boolean {
    return this.#closed === undefined;
  }

  async start(initial: GpioLevel): Promise<void> {
    this.#proc = await this.#spawn(initial);
    this.#value = initial;
  }

  async read(): Promise<GpioLevel> {
    assertOpen(this.isOpen, this.ref);
    // Settle a read that races close() after the close, as a read of a device would.
    await Promise.resolve();
    if (this.#closed) await this.#closed;
    assertOpen(this.isOpen, this.ref);
    if (this.#failure) throw this.#failure;
    return this.#value;
  }

  async write(value: GpioLevel): Promise<void> {
    checkLevel(value);
    assertOpen(this.isOpen, this.ref);
    const step = this.#queue.then(() => this.#drive(value));
    this.#queue = step.catch(() => undefined);
    await step.finally(() => assertOpen(this.isOpen, this.ref));
  }

  /** Not part of `GpioOutput`: a clear error for JavaScript callers and casts. */
  watch(): never {
    throw new TypeError(
      `gpio ${formatLine(this.ref)} is an output: watch needs a line opened with openInput`,
    );
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#queue;
      await this.#proc?.stop();
      this.#proc = undefined;
      this.#deps.onClose();
    })();
    return this.#closed;
  }

  async #drive(value: GpioLevel): Promise<void> {
    assertOpen(this.isOpen, this.ref);
    const proc = this.#proc;
    if (value === this.#value && proc?.alive) return;
    if (this.#interactive && proc?.alive) {
      await this.#set(proc, value);
    } else {
      // Release, then request again with the new value: this gpioset cannot change a held line.
      this.#proc = undefined;
      await proc?.stop();
      assertOpen(this.isOpen, this.ref);
      this.#proc = await this.#spawn(value);
    }
    this.#value = value;
    this.#failure = undefined;
  }

  /** `set 20=1` then `get 20`, whose answer `"20"=active` (gpioset.c print_line_values) confirms it. */
  async #set(proc: ToolProcess, value: GpioLevel): Promise<void> {
    const offset = this.ref.offset;
    const seen = await new Promise<GpioLevel>((resolve, reject) => {
      this.#ack = { resolve, reject };
      proc.send(`set ${offset}=${value}\nget ${offset}\n`);
    }).finally(() => {
      this.#ack = undefined;
    });
    if (seen !== value) {
      throw new GpioError('EIO', `gpio ${formatLine(this.ref)}: gpioset reports ${seen} after set ${value}`, {
        line: this.ref,
      });
    }
  }

  #onLine(text: string): void {
    // Prompts (`gpioset> `, printed when stdout is not a terminal) may precede the answer on its line.
    const m = new RegExp(`"${this.ref.offset}"=(active|inactive)`).exec(text);
    if (m) this.#ack?.resolve(m[1] === 'active' ? 1 : 0);
    else if (/invalid|unknown|must be/.test(text)) {
      this.#ack?.reject(
        new GpioError('EIO', `gpio ${formatLine(this.ref)}: gpioset: ${text}`, { line: this.ref }),
      );
    }
  }

  #spawn(value: GpioLevel): Promise<ToolProcess> {
    const offset = String(this.ref.offset);
    const args = [...this.#deps.args, ...(this.#interactive ? ['--interactive'] : []), `${offset}=${value}`];
    let proc: ToolProcess | undefined;
    const started = this.#deps.tools.start('gpioset', args, this.ref, {
      stdin: this.#interactive,
      onLine: (text) => this.#onLine(text),
      onExit: (error) => {
        this.#ack?.reject(error);
        if (proc !== undefined && proc !== this.#proc) return;
        this.#proc = undefined;
        this.#failure = error;
        this.#deps.log?.warn(
          { line: formatLine(this.ref), err: error },
          'gpioset exited: the line is not held',
        );
      },
    });
    return started.then((p) => {
      proc = p;
      return p;
    });
  }
}

interface InputDeps extends HandleDeps {
  readonly clock: Clock;
  readonly kernelMs: () => number;
}

class ChardevInput implements GpioInput {
  readonly direction = 'in';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly edge: GpioEdge;
  readonly debounceMs: number;
  readonly #deps: InputDeps;
  readonly #listeners = new EdgeListeners();
  #proc: ToolProcess | undefined;
  /** The level from the last gpioget and every edge since (inputs with edges). */
  #level: GpioLevel = 0;
  #failure: GpioError | undefined;
  #closed: Promise<void> | undefined;

  constructor(ref: GpioLineRef, opts: Required<GpioInputOptions>, deps: InputDeps) {
    this.ref = ref;
    this.activeLow = opts.activeLow;
    this.edge = opts.edge;
    this.debounceMs = opts.debounceMs;
    this.#deps = deps;
  }

  get isOpen(): boolean {
    return this.#closed === undefined;
  }

  async start(): Promise<void> {
    this.#level = await this.#get();
    if (this.edge === 'none') return;
    const args = [...this.#deps.args, '--edges=both', '--format=%e %S'];
    if (this.debounceMs > 0) args.push(`--debounce-period=${Math.round(this.debounceMs * 1000)}us`);
    this.#proc = await this.#deps.tools.start('gpiomon', [...args, String(this.ref.offset)], this.ref, {
      onLine: (text) => this.#event(text),
      onExit: (error) => {
        this.#proc = undefined;
        this.#failure = error;
        this.#deps.log?.warn({ line: formatLine(this.ref), err: error }, 'gpiomon exited: no more edges');
        this.#listeners.error(error);
      },
    });
  }

  async read(): Promise<GpioLevel> {
    assertOpen(this.isOpen, this.ref);
    if (this.edge === 'none') {
      const value = await this.#get().finally(() => assertOpen(this.isOpen, this.ref));
      return value;
    }
    // Settle a read that races close() after the close, as a read of a device would.
    await Promise.resolve();
    if (this.#closed) await this.#closed;
    assertOpen(this.isOpen, this.ref);
    if (this.#failure) throw this.#failure;
    return this.#level;
  }

  watch(listener: GpioEdgeListener, onError?: (error: Error) => void): () => void {
    if (this.edge === 'none') {
      throw new TypeError(`gpio ${formatLine(this.ref)} was opened with edge 'none': nothing to watch`);
    }
    assertOpen(this.isOpen, this.ref);
    return this.#listeners.add(listener, onError);
  }

  /** Not part of `GpioInput`: a clear error for JavaScript callers and casts. */
  async write(_value: GpioLevel): Promise<never> {
    throw new TypeError(
      `gpio ${formatLine(this.ref)} is an input: write needs a line opened with openOutput`,
    );
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#listeners.clear();
      await this.#proc?.stop();
      this.#proc = undefined;
      this.#deps.onClose();
    })();
    return this.#closed;
  }

  /** One `gpioget --numeric`: requests the line as an input with this handle's settings, reads, releases. */
  async #get(): Promise<GpioLevel> {
    const { stdout } = await this.#deps.tools.run(
      'gpioget',
      [...this.#deps.args, '--numeric', String(this.ref.offset)],
      this.ref,
    );
    const text = stdout.trim();
    if (text !== '0' && text !== '1') {
      throw new GpioError('EIO', `gpio ${formatLine(this.ref)}: gpioget printed '${text}'`, {
        line: this.ref,
      });
    }
    return text === '1' ? 1 : 0;
  }

  /** `1 1234.000000001`: rising (1) or falling (2) edge of the logical value, kernel time in s.ns. */
  #event(text: string): void {
    const m = /^([12]) (\d+)\.(\d{9})$/.exec(text.trim());
    if (!m?.[2] || !m[3]) {
      this.#deps.log?.warn({ line: formatLine(this.ref), text }, 'unexpected gpiomon output');
      return;
    }
    const value: GpioLevel = m[1] === '1' ? 1 : 0;
    this.#level = value;
    if (!this.isOpen || !matchesEdge(this.edge, value)) return;
    const kernelMs = Number(m[2]) * 1000 + Number(m[3]) / 1e6;
    const now = this.#deps.clock.monotonicMs();
    // The kernel stamps a debounced edge when the line has settled: report the last raw transition.
    const monoMs = Math.min(now, now - (this.#deps.kernelMs() - kernelMs)) - this.debounceMs;
    this.#listeners.emit({ value, monoMs });
  }
}
