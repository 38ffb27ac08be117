/**
 * The agent host processes of a simulation (agent-host.ts), forked with an IPC channel and given
 * their devices round-robin; requests go to every host and the answers are merged.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { HostDeviceSpec, HostReply, HostRequest, HostUsage, StartedDevice } from './host-protocol.js';
import type { DeviceSnapshot, SealedBatch } from './hosted-device.js';
import { agentHostMain } from './repo-root.js';

type Body<R> = R extends { readonly id: number } ? Omit<R, 'id'> : never;

class Host {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (r: HostReply) => void>();
  #next = 1;
  #exited = false;

  constructor(logFile: string) {
    this.#child = fork(agentHostMain(), ['--log', logFile], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (r: HostReply) => {
      this.#waiting.get(r.id)?.(r);
      this.#waiting.delete(r.id);
    });
    this.#child.once('exit', (code, signal) => {
      this.#exited = true;
      for (const done of this.#waiting.values())
        done({ id: 0, ok: false, error: `agent host exited (${code ?? signal})` });
      this.#waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request(body: Body<HostRequest>): Promise<HostReply> {
    if (this.#exited) return Promise.reject(new Error('agent host is gone'));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (r) => (r.ok ? resolve(r) : reject(new Error(r.error))));
      this.#child.send({ ...body, id } as HostRequest);
    });
  }

  async kill(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGKILL');
    await exited;
  }
}

export interface PoolSnapshot {
  readonly hosts: readonly HostUsage[];
  readonly devices: readonly DeviceSnapshot[];
}

export class HostPool {
  readonly #hosts: Host[];

  constructor(hosts: number, logDir: string) {
    this.#hosts = Array.from({ length: hosts }, (_, i) => new Host(path.join(logDir, `host-${i}.log`)));
  }

  get pids(): number[] {
    return this.#hosts.flatMap((h) => (h.pid === undefined ? [] : [h.pid]));
  }

  /** Starts the devices, spread round-robin over the hosts. */
  async start(devices: readonly HostDeviceSpec[]): Promise<StartedDevice[]> {
    const shares = this.#hosts.map((_, i) => devices.filter((_, j) => j % this.#hosts.length === i));
    const replies = await Promise.all(
      this.#hosts.map((h, i) => h.request({ op: 'start', devices: shares[i] ?? [] })),
    );
    return replies.flatMap((r) => ('started' in r ? r.started : []));
  }

  async snapshot(): Promise<PoolSnapshot> {
    const replies = await Promise.all(this.#hosts.map((h) => h.request({ op: 'snapshot' })));
    return {
      hosts: replies.flatMap((r) => ('usage' in r ? [r.usage] : [])),
      devices: replies.flatMap((r) => ('devices' in r ? r.devices : [])),
    };
  }

  /** Every batch each device's outbox sealed, by device id. */
  async ledger(): Promise<Map<string, readonly SealedBatch[]>> {
    const replies = await Promise.all(this.#hosts.map((h) => h.request({ op: 'ledger' })));
    return new Map(replies.flatMap((r) => ('ledger' in r ? Object.entries(r.ledger) : [])));
  }

  /** Stops every agent cleanly (outputs safe, final commit, `offline` published), then the hosts. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#hosts.map((h) => h.request({ op: 'stop' })));
    await Promise.all(this.#hosts.map((h) => h.kill()));
  }

  /** Kills the hosts without stopping their agents (after an error). */
  async kill(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.kill()));
  }
}
