/**
 * Runs tpm2-tools (the `tpm2_*` command-line tools, tpm2-tools ≥ 5) against one TPM, named by a TCTI
 * string passed as `TPM2TOOLS_TCTI`: `device:/dev/tpmrm0` on a board (the kernel resource manager),
 * `swtpm:host=127.0.0.1,port=2321` for the software TPM in tests. Commands are run one at a time: a TPM
 * without a resource manager (swtpm's socket, /dev/tpm0) serves one client, and the transient objects one
 * command leaves behind must be flushed before the next may load its own. A failing tool becomes an
 * `IdentityError('ETPM')` carrying the tool's last stderr line; a tool that hangs is killed at the timeout.
 */
import { execFile } from 'node:child_process';
import { IdentityError } from './errors.js';

export type RunTool = (
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
) => Promise<{ stdout: string; stderr: string }>;

export interface Tpm2ToolsOptions {
  /** TCTI configuration, e.g. `device:/dev/tpmrm0` or `swtpm:host=127.0.0.1,port=2321`. */
  readonly tcti: string;
  readonly timeoutMs?: number;
  /** Base environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

export class Tpm2Tools {
  readonly tcti: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  readonly #run: RunTool;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: Tpm2ToolsOptions, run: RunTool = execTool) {
    if (!options.tcti) throw new TypeError('tcti must be a TCTI configuration string');
    this.tcti = options.tcti;
    this.#env = { ...(options.env ?? process.env), TPM2TOOLS_TCTI: options.tcti };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#run = run;
  }

  /** Runs `tool args…` after every command queued before it; resolves with its stdout. */
  run(tool: string, args: readonly string[]): Promise<string> {
    return this.exclusive(() => this.runNow(tool, args));
  }

  /** Runs `fn` with the TPM to itself (for sequences that must not interleave with other commands). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Runs one tool now; only for use inside `exclusive`. */
  async runNow(tool: string, args: readonly string[]): Promise<string> {
    if (!/^tpm2_[a-z]+$/.test(tool)) throw new TypeError(`tool must be a tpm2_* command, got ${tool}`);
    try {
      const { stdout } = await this.#run(tool, args, { env: this.#env, timeoutMs: this.#timeoutMs });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; code?: unknown; killed?: boolean; message?: string };
      const lines = String(err.stderr ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const why =
        err.code === 'ENOENT'
          ? `${tool} is not installed (apt-get install tpm2-tools)`
          : err.killed
            ? `${tool} timed out after ${this.#timeoutMs} ms`
            : (lines.find((l) => l.startsWith('ERROR:') && !l.includes('Unable to run')) ??
              lines.at(-1) ??
              err.message);
      throw new IdentityError('ETPM', `${tool} ${args.join(' ')}: ${why ?? 'failed'}`, { cause: e });
    }
  }
}

function execTool(
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { env: options.env, timeout: options.timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}
