/**
 * A software TPM 2.0 (swtpm) for tests: started on free loopback ports with its state in a temp dir,
 * already powered on and started up (`--flags not-need-init,startup-clear`), reached by tpm2-tools
 * through the TCTI `swtpm:host=127.0.0.1,port=P`. Killed by its owner in afterAll.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './mosquitto.js';
import { findTool, requireTools } from './system-tools.js';

const SWTPM = findTool('swtpm');

export const hasSwtpm = SWTPM !== undefined && findTool('tpm2_startup') !== undefined;

export class Swtpm {
  readonly port: number;
  readonly tcti: string;
  readonly #dir: string;
  readonly #child: ChildProcess;
  stderr = '';

  private constructor(port: number, dir: string, child: ChildProcess) {
    this.port = port;
    this.tcti = `swtpm:host=127.0.0.1,port=${port}`;
    this.#dir = dir;
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
  }

  static async start(): Promise<Swtpm> {
    requireTools(['swtpm', 'tpm2_startup']);
    const dir = await mkdtemp(path.join(tmpdir(), 'edge-swtpm-'));
    // The control channel is the next port; find a pair that is free.
    let port = await freePort();
    while (!(await isFree(port + 1))) port = await freePort();
    const child = spawn(
      SWTPM as string,
      [
        'socket',
        ...['--tpmstate', `dir=${dir}`, '--tpm2'],
        ...['--server', `type=tcp,port=${port},bindaddr=127.0.0.1`],
        ...['--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`],
        ...['--flags', 'not-need-init,startup-clear'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const tpm = new Swtpm(port, dir, child);
    for (let i = 0; i < 200; i++) {
      if (await canConnect(port)) return tpm;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await tpm.stop();
    throw new Error(`swtpm did not start on port ${port}: ${tpm.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await exited;
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function isFree(port: number): Promise<boolean> {
  return !(await canConnect(port));
}
