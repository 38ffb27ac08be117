/**
 * Runs the built agent (`dist/agent/main.js`) as a child process and reads its JSON log lines, the way
 * systemd and an operator see it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO_ROOT, 'dist/agent/main.js');

/**
 * The top of an agent.yaml for the simulated board with the chamber kit: state under `state/`, no
 * log output, no console socket. Tests spread it and add the sections they are about.
 */
export function simAgentConfigBase() {
  return {
    version: 1,
    board: path.join(REPO_ROOT, 'boards/sim.yaml'),
    wiring: path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml'),
    stateDir: 'state',
    log: { level: 'silent' },
    console: { socket: { enabled: false } },
  } as const;
}

export interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export class AgentProcess {
  readonly child: ChildProcess;
  readonly records: LogRecord[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters: { test: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, EDGE_AGENT_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        rec = { level: 'raw', msg: line };
      }
      this.records.push(rec);
      for (const w of [...this.#waiters]) {
        if (w.test(rec)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
    });
    // 'close', not 'exit': by then stdout has been read to its end, so `records` holds the last lines.
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves with the first record (already seen or future) that passes `test`. */
  waitFor(test: (r: LogRecord) => boolean, timeoutMs = 10_000, what = 'log record'): Promise<LogRecord> {
    const seen = this.records.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.#waiters.push({
        test,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

/** What one run of the built CLI printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI once to completion (the tools subcommands: keygen, manifest, fleet, …). */
export function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
