/**
 * A real mosquitto broker for tests: started on a free loopback port with a generated config in a temp
 * dir, stoppable and restartable on the same port (a link outage), killed by its owner in afterAll.
 * Queues are unlimited so a slow test subscriber never loses QoS 1 messages at the broker; with
 * `persistence`, a clean stop keeps persistent sessions and their queued messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { findTool, requireTools } from './system-tools.js';

const MOSQUITTO = findTool('mosquitto');

export const hasMosquitto = MOSQUITTO !== undefined;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  stderr = '';

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.#dir = dir;
  }

  /** `persistence`: sessions and queued messages survive a clean stop (SIGTERM) of the broker. */
  static async start(options: { persistence?: boolean } = {}): Promise<Mosquitto> {
    requireTools(['mosquitto']);
    const dir = await mkdtemp(path.join(tmpdir(), 'edge-mosquitto-'));
    const broker = new Mosquitto(await freePort(), dir);
    await writeFile(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${broker.port} 127.0.0.1`,
        'allow_anonymous true',
        // Run as root, mosquitto would drop to user `mosquitto`, which cannot write in our temp dir.
        `user ${userInfo().username}`,
        ...(options.persistence
          ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0']
          : ['persistence false']),
        'max_queued_messages 0',
        'max_queued_bytes 0',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    await broker.resume();
    return broker;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the broker (again) on its port and waits until it accepts connections. */
  async resume(): Promise<void> {
    if (this.#child) return;
    const child = spawn(MOSQUITTO as string, ['-c', path.join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.#child = child;
    for (let i = 0; i < 200; i++) {
      if (await canConnect(this.port)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`mosquitto did not start on port ${this.port}: ${this.stderr}`);
  }

  /** Kills the broker (SIGKILL: a crash, not a clean shutdown) and waits for it to exit. */
  async pause(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    // A broker that died on its own has had its 'exit' already: waiting for it would never end.
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.pause('SIGTERM');
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
