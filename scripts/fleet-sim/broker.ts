/**
 * The one mosquitto of a simulation: on a free loopback port, stoppable and restartable on the same
 * port (the outage scenario), with its CPU time read from /proc so the bench can say what the broker
 * cost. Queues are unlimited (`max_queued_messages 0`) so the backend's persistent session loses
 * nothing while it is slow. Persistence is on and saved at shutdown: the backend's session (its
 * subscriptions and queue) survives an outage, as a production broker's would, so an agent that
 * reconnects before the backend does is still heard. The agents' sessions are clean, as configured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

const BIN = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) =>
  existsSync(p),
);
const TICKS_PER_S = 100; // USER_HZ on Linux

export class SimBroker {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  /** CPU seconds of broker processes that have exited. */
  #cpuSBefore = 0;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.#dir = dir;
  }

  static async start(): Promise<SimBroker> {
    if (!BIN) throw new Error('mosquitto not found: apt-get install mosquitto mosquitto-clients');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'fleet-mosquitto-'));
    await writeFile(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        `user ${userInfo().username}`,
        'persistence true',
        `persistence_location ${dir}/`,
        'autosave_interval 0',
        'max_queued_messages 0',
        'max_queued_bytes 0',
        'max_inflight_messages 0',
        'log_dest stderr',
        'log_type error',
        '',
      ].join('\n'),
    );
    const broker = new SimBroker(port, dir);
    await broker.resume();
    return broker;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async resume(): Promise<void> {
    if (this.#child) return;
    const child = spawn(BIN as string, ['-c', path.join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#child = child;
    for (let i = 0; i < 400; i++) {
      if (await canConnect(this.port)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`mosquitto did not start on port ${this.port}`);
  }

  /** Stops the broker: every client loses its connection at once (it saves its sessions on the way). */
  async pause(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#cpuSBefore += this.#cpuS();
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** CPU seconds (user + system) the broker has used, over all its runs. */
  cpuSeconds(): number {
    return this.#cpuSBefore + this.#cpuS();
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(this.#dir, { recursive: true, force: true });
  }

  #cpuS(): number {
    const pid = this.#child?.pid;
    return pid === undefined ? 0 : processCpuSeconds(pid);
  }
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds (0 if it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0;
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
