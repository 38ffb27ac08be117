/**
 * The systemd notification protocol (sd_notify(3)): newline-separated `VAR=value` assignments —
 * `READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1` — sent as one datagram to the AF_UNIX socket
 * named by `$NOTIFY_SOCKET`. Node has no Unix datagram sockets, and the npm packages that add them
 * (`sd-notify`, `unix-dgram`) are native addons, so the message is handed to `systemd-notify(1)`,
 * which ships with systemd wherever `$NOTIFY_SOCKET` can be set. Two consequences, both handled:
 *  - the datagram comes from a child process, so the unit needs `NotifyAccess=all`;
 *  - systemd must still see the child when it reads the datagram (it looks the sender's cgroup up by
 *    PID), so `systemd-notify` is run *with* its barrier (the default since v246): it waits until
 *    systemd has processed the message before it exits.
 * Sends are serialised, at most one child at a time, and never reject: a lost status line must not
 * stop the agent (a lost `READY=1` is reported by systemd itself, as a start timeout).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Delivers one notification (the assignments of one datagram). */
export interface NotifySender {
  send(assignments: readonly string[]): Promise<void>;
}

export type SpawnFn = (
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv },
) => ChildProcess;

const defaultSpawn: SpawnFn = (command, args, options) =>
  spawn(command, args, { env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });

/** Sends through `systemd-notify VAR=value …` with `NOTIFY_SOCKET` set. */
export class SystemdNotifyCommand implements NotifySender {
  readonly #socketPath: string;
  readonly #command: string;
  readonly #spawn: SpawnFn;
  readonly #timeoutMs: number;

  constructor(options: { socketPath: string; command?: string; spawn?: SpawnFn; timeoutMs?: number }) {
    if (!options.socketPath) throw new TypeError('socketPath must be a non-empty string');
    this.#socketPath = options.socketPath;
    this.#command = options.command ?? 'systemd-notify';
    this.#spawn = options.spawn ?? defaultSpawn;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  send(assignments: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = this.#spawn(this.#command, assignments, {
        env: { PATH: process.env.PATH, NOTIFY_SOCKET: this.#socketPath },
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${this.#command} exited with ${signal ?? code}: ${stderr.trim()}`));
      });
    });
  }
}

/** Whether an executable is on PATH (the unit's hardening may leave a minimal PATH). */
function isOnPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export class SystemdNotifier {
  readonly #log: Logger;
  readonly #sender: NotifySender | undefined;
  readonly #watchdogUsec: number | undefined;
  #queue: Promise<void> = Promise.resolve();
  #watchdogsInFlight = 0;

  /**
   * From the environment systemd gives a `Type=notify` service: `NOTIFY_SOCKET`, and `WATCHDOG_USEC`
   * (with `WATCHDOG_PID`, which must be this process if set). Without `NOTIFY_SOCKET` every call is a
   * no-op (run by hand, in a container, under tests).
   */
  static fromEnv(
    env: NodeJS.ProcessEnv,
    deps: { log: Logger; sender?: NotifySender; pid?: number },
  ): SystemdNotifier {
    const socket = env.NOTIFY_SOCKET;
    let sender = deps.sender;
    if (socket && !sender) {
      if (isOnPath('systemd-notify', env.PATH)) sender = new SystemdNotifyCommand({ socketPath: socket });
      else deps.log.error({ socket }, 'NOTIFY_SOCKET is set but systemd-notify is not on PATH');
    }
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === (deps.pid ?? process.pid);
    return new SystemdNotifier(
      { log: deps.log, sender: socket ? sender : undefined },
      { watchdogUsec: forUs && Number.isInteger(usec) && usec > 0 ? usec : undefined },
    );
  }

  constructor(
    deps: { log: Logger; sender: NotifySender | undefined },
    options: { watchdogUsec?: number } = {},
  ) {
    this.#log = deps.log;
    this.#sender = deps.sender;
    this.#watchdogUsec = options.watchdogUsec;
  }

  get enabled(): boolean {
    return this.#sender !== undefined;
  }

  /** Half the watchdog timeout, as sd_watchdog_enabled(3) advises; undefined without a watchdog. */
  get watchdogIntervalMs(): number | undefined {
    return this.enabled && this.#watchdogUsec ? this.#watchdogUsec / 2000 : undefined;
  }

  ready(status: string): Promise<void> {
    return this.#send(['READY=1', statusLine(status)]);
  }

  status(status: string): Promise<void> {
    return this.#send([statusLine(status)]);
  }

  stopping(status: string): Promise<void> {
    return this.#send(['STOPPING=1', statusLine(status)]);
  }

  /**
   * A keep-alive, with a status line if given; skipped while an earlier keep-alive is still on its
   * way (a slow systemd must not make them pile up).
   */
  watchdog(status?: string): Promise<void> {
    if (this.#watchdogsInFlight > 0) return this.#queue;
    this.#watchdogsInFlight++;
    const sent = this.#send(status === undefined ? ['WATCHDOG=1'] : ['WATCHDOG=1', statusLine(status)]);
    return sent.finally(() => {
      this.#watchdogsInFlight--;
    });
  }

  /** Resolves when every queued notification has been handed over. */
  flush(): Promise<void> {
    return this.#queue;
  }

  #send(assignments: string[]): Promise<void> {
    const sender = this.#sender;
    if (!sender) return Promise.resolve();
    this.#queue = this.#queue
      .then(() => sender.send(assignments))
      .catch((error: unknown) =>
        this.#log.warn({ err: errorMessage(error), notify: assignments[0] }, 'systemd notification failed'),
      );
    return this.#queue;
  }
}

/** `STATUS=` is one line: newlines would start new assignments. */
function statusLine(status: string): string {
  return `STATUS=${status.replace(/[\r\n]+/g, ' ').slice(0, 200)}`;
}
