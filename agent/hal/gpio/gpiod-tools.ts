/**
 * The libgpiod v2 command-line tools (`gpiodetect`, `gpioget`, `gpioset`, `gpiomon`), as the
 * character-device backend (chardev.ts) runs them: a version check, one-shot runs, and long-running
 * children that hold a line until they are stopped. Everything the tools print that the backend reads
 * is a format fixed by libgpiod's own tool tests (tools/gpio-tools-test.bash, v2.2.1):
 *  - `gpiodetect`: `gpiochip0 [pinctrl-rp1] (54 lines)`;
 *  - `gpioset --banner`: `Setting line '20'...` once the line is requested and driven;
 *  - `gpiomon --banner --format='%e %S'`: `Monitoring line '21'...`, then `1 1234.000000001` per
 *    event (1 rising, 2 falling; CLOCK_MONOTONIC seconds with nanoseconds);
 *  - `gpioget --numeric`: `0` or `1`;
 *  - errors: `<argv0>: <what>: <strerror>` on stderr and exit status 1 (tools-common.c `die_perror`),
 *    e.g. `unable to request lines on chip '/dev/gpiochip4': Device or resource busy`.
 *
 * The v1 tools (Debian 12, Raspberry Pi OS bookworm, Ubuntu 22.04 — JetPack 6 — ship 1.6.3) have a
 * different command line (`gpioset <chip> <offset>=<value>`, no `--banner`, no `--format` for
 * timestamps), so a v1 or missing tool is refused up front with `ENOGPIO` naming the package; a GPIO
 * device then faults and is retried like any device whose line is absent, and the rest of the agent
 * runs. A child is never left behind: `stop()` sends SIGTERM and waits for the exit (SIGKILL after
 * `STOP_TIMEOUT_MS`), and an exit nobody asked for is reported once, as `EIO` with the tool's stderr.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GpioError } from './errors.js';
import type { GpioChipInfo, GpioLineRef } from './types.js';

export const GPIOD_TOOLS = ['gpiodetect', 'gpioget', 'gpioset', 'gpiomon'] as const;
export type GpiodTool = (typeof GPIOD_TOOLS)[number];

/** What a missing or v1 tool is told to install. */
export const GPIOD_PACKAGE_HINT =
  'install the libgpiod v2 tools: Debian/Ubuntu package `gpiod` >= 2.0 (Debian 13 trixie ships 2.2.1, ' +
  'Ubuntu 24.04 2.1; Debian 12, Raspberry Pi OS bookworm and Ubuntu 22.04/JetPack 6 ship v1.6.3, which ' +
  'does not work) or build libgpiod >= 2.0 with --enable-tools, or use gpio.backend: sysfs';

/** How long a tool may take to request its line (print its banner) or to run once. */
export const START_TIMEOUT_MS = 5000;
/** How long a stopped tool may take to exit before it is killed. */
export const STOP_TIMEOUT_MS = 2000;
/** How much of a tool's stderr is kept for its error message. */
const STDERR_LIMIT = 2000;

export interface GpiodToolsOptions {
  /** Directory holding the tools; default: looked up in `PATH` as the shell would. */
  readonly toolDir?: string | undefined;
}

export class GpiodTools {
  readonly #toolDir: string | undefined;
  #checked: Promise<{ interactive: boolean }> | undefined;

  constructor(options: GpiodToolsOptions = {}) {
    this.#toolDir = options.toolDir;
  }

  command(tool: GpiodTool): string {
    return this.#toolDir === undefined ? tool : path.join(this.#toolDir, tool);
  }

  /**
   * Checks once that every tool is there and is v2 (`gpioset (libgpiod) v2.2.1`), and whether gpioset
   * was built with its interactive mode (`--interactive` in its `--help`: a build option, libedit). A
   * failed check is not remembered: the next open checks again, so installing the package mends a
   * running agent.
   */
  check(): Promise<{ interactive: boolean }> {
    // allSettled: the check answers only once every `--version` it started has ended, so a failure
    // leaves no tool running behind it (and names the first tool, in order, that failed).
    this.#checked ??= Promise.allSettled(GPIOD_TOOLS.map((t) => this.#checkOne(t)))
      .then((results) => {
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      })
      .then(() => this.#runRaw('gpioset', ['--help']))
      .then(
        (help) => ({ interactive: /--interactive\b/.test(help.stdout) }),
        (error: unknown) => {
          this.#checked = undefined;
          throw error;
        },
      );
    return this.#checked;
  }

  async #checkOne(tool: GpiodTool): Promise<void> {
    let out: string;
    try {
      out = (await this.run(tool, ['--version'])).stdout;
    } catch (error) {
      if (error instanceof GpioError && error.code === 'ENOGPIO') throw error;
      throw new GpioError(
        'ENOGPIO',
        `chardev GPIO: '${this.command(tool)} --version' failed; ${GPIOD_PACKAGE_HINT}`,
        {},
        {
          cause: error,
        },
      );
    }
    const match = /\(libgpiod\) v(\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
    const major = Number(match?.[1]);
    if (!match || major < 2) {
      const found = match ? `found ${tool} v${match.slice(1).filter(Boolean).join('.')}` : `'${out.trim()}'`;
      throw new GpioError(
        'ENOGPIO',
        `chardev GPIO needs the libgpiod v2 tools (${found}); ${GPIOD_PACKAGE_HINT}`,
      );
    }
  }

  /** Runs a tool to completion; rejects with the mapped error (see `toolError`) on a non-zero exit. */
  async run(tool: GpiodTool, args: readonly string[], line?: GpioLineRef): Promise<{ stdout: string }> {
    const result = await this.#runRaw(tool, args);
    if (result.error) throw toolError(tool, result.stderr || result.error.message, line, result.error);
    return result;
  }

  #runRaw(
    tool: GpiodTool,
    args: readonly string[],
  ): Promise<{ stdout: string; stderr: string; error?: Error }> {
    const command = this.command(tool);
    return new Promise((resolve, reject) => {
      execFile(command, args, { timeout: START_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT' || code === 'EACCES') reject(missingTool(command, error));
        else resolve(error ? { stdout, stderr, error } : { stdout, stderr });
      });
    });
  }

  /** `gpiodetect`: the chips, in the order the tool lists them. */
  async listChips(): Promise<GpioChipInfo[]> {
    await this.check();
    const result = await this.#runRaw('gpiodetect', []);
    const chips = parseChips(result.stdout);
    // gpiodetect lists the chips it could open and fails for the others (EACCES): keep those it listed.
    if (result.error && chips.length === 0) {
      throw toolError('gpiodetect', result.stderr || result.error.message, undefined, result.error);
    }
    return chips;
  }

  /** Starts a tool that holds a line; resolves once its banner says the line is requested. */
  start(
    tool: 'gpioset' | 'gpiomon',
    args: readonly string[],
    line: GpioLineRef,
    handlers: ToolHandlers,
  ): Promise<ToolProcess> {
    return ToolProcess.start(this.command(tool), tool, ['--banner', ...args], line, handlers);
  }
}

/** `gpiochip0 [pinctrl-rp1] (54 lines)` per chip (gpiodetect.c `print_chip_info`). */
export function parseChips(stdout: string): GpioChipInfo[] {
  const chips: GpioChipInfo[] = [];
  for (const text of stdout.split('\n')) {
    const m = /^(\S+) \[(.*)\] \((\d+) lines\)$/.exec(text.trim());
    if (m?.[1] && m[2] !== undefined && m[3])
      chips.push({ name: m[1], label: m[2], base: -1, ngpio: Number(m[3]) });
  }
  return chips;
}

function missingTool(command: string, cause: unknown): GpioError {
  return new GpioError('ENOGPIO', `chardev GPIO: ${command} not found; ${GPIOD_PACKAGE_HINT}`, {}, { cause });
}

/** A failed tool's stderr as the GPIO error it stands for; nobody else parses tool messages. */
export function toolError(tool: string, stderr: string, line?: GpioLineRef, cause?: unknown): GpioError {
  const text = stderr.trim().slice(0, STDERR_LIMIT);
  const where = line ? `gpio ${line.chip}:${line.offset}: ` : '';
  const details = line ? { line } : {};
  if (/Device or resource busy/.test(text)) {
    return new GpioError(
      'EBUSY',
      `${where}in use (by a kernel driver or another process): ${text}`,
      details,
      {
        cause,
      },
    );
  }
  if (/Permission denied|Operation not permitted/.test(text)) {
    return new GpioError(
      'ENOGPIO',
      `${where}no permission on the GPIO character device (add the user to the gpio group): ${text}`,
      details,
      { cause },
    );
  }
  return new GpioError('EIO', `${where}${tool} failed: ${text || 'no message'}`, details, { cause });
}

export interface ToolHandlers {
  /** Give the tool a stdin pipe (`gpioset --interactive` reads its commands there). */
  readonly stdin?: boolean;
  /** Each stdout line after the banner, until `stop()`. */
  readonly onLine?: (line: string) => void;
  /** Called once if the tool exits without `stop()`, with the error it stands for. */
  readonly onExit: (error: GpioError) => void;
}

/** One long-running tool, from its banner until it exits. */
export class ToolProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #handlers: ToolHandlers;
  #stopping = false;
  #alive = true;

  private constructor(child: ChildProcess, exited: Promise<void>, handlers: ToolHandlers) {
    this.#child = child;
    this.#exited = exited;
    this.#handlers = handlers;
  }

  get alive(): boolean {
    return this.#alive;
  }

  static start(
    command: string,
    tool: string,
    args: readonly string[],
    line: GpioLineRef,
    handlers: ToolHandlers,
  ): Promise<ToolProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: [handlers.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      // A tool that exits while a command is being written: the exit reports it, not the pipe.
      child.stdin?.on('error', () => undefined);
      let stderr = '';
      let ready = false;
      let proc: ToolProcess | undefined;
      let resolveExit: () => void = () => undefined;
      const exited = new Promise<void>((r) => {
        resolveExit = r;
      });
      const fail = (error: GpioError) => {
        clearTimeout(timer);
        if (!ready) {
          ready = true; // settled
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        fail(
          new GpioError(
            'EIO',
            `gpio ${line.chip}:${line.offset}: ${tool} did not request the line within ${START_TIMEOUT_MS} ms`,
            { line },
          ),
        );
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        // Only a failed spawn (or kill) lands here; 'exit' may not follow a failed spawn.
        fail(
          error.code === 'ENOENT' || error.code === 'EACCES'
            ? missingTool(command, error)
            : toolError(tool, error.message, line, error),
        );
        if (child.pid === undefined) resolveExit();
      });
      child.on('exit', (code, signal) => {
        if (proc) proc.#alive = false;
        const error = toolError(tool, stderr || `exited (${signal ?? `status ${code}`})`, line);
        fail(error);
        resolveExit();
        if (proc && !proc.#stopping) proc.#handlers.onExit(error);
      });
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (text) => {
        if (proc) {
          if (!proc.#stopping) proc.#handlers.onLine?.(text);
          return;
        }
        if (ready) return; // failed already
        // The banner: `Setting line …` (gpioset.c print_banner), `Monitoring line …` (gpiomon.c).
        if (/^(Setting|Monitoring) lines? /.test(text)) {
          clearTimeout(timer);
          ready = true;
          proc = new ToolProcess(child, exited, handlers);
          resolve(proc);
        }
      });
    });
  }

  /** Writes to the tool's stdin (started with `stdin: true`). */
  send(text: string): void {
    this.#child.stdin?.write(text);
  }

  /** Ends the tool and waits for its exit (the kernel releases the line then). Idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#alive) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
  }
}
