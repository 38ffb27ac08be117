/**
 * A fake `$NOTIFY_SOCKET`: an AF_UNIX datagram socket that records each notification as systemd
 * would receive it. Node cannot open datagram Unix sockets, so a few lines of Python do the
 * receiving. Python rather than `socat UNIX-RECV`: systemd-notify ends every message with a barrier
 * (`BARRIER=1` plus a pipe's write end as SCM_RIGHTS) and waits until the receiver closes that fd;
 * socat keeps received fds open, so each notification would hang 5 s and then report ERRNO=110.
 * This listener closes them, as systemd does once it has processed the message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const LISTENER = `
import json, os, socket, sys, time, array
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({"ready": True}), flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i"); fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            for fd in fds: os.close(fd)
    print(json.dumps({"t": time.monotonic() * 1000, "text": msg.decode()}), flush=True)
`;

export interface Notification {
  /** Receive time, ms on the listener's monotonic clock. */
  readonly t: number;
  /** The assignments of one datagram, e.g. `['READY=1', 'STATUS=running']`. */
  readonly lines: readonly string[];
}

export class NotifyListener {
  readonly socketPath: string;
  readonly received: Notification[] = [];
  readonly #child: ChildProcess;
  readonly #ready: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(dir: string) {
    this.socketPath = path.join(dir, 'notify.sock');
    this.#child = spawn('python3', ['-c', LISTENER, this.socketPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.#ready = new Promise((resolve, reject) => {
      this.#child.once('error', reject);
      createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { ready?: boolean; t?: number; text?: string };
        if (m.ready) resolve();
        else {
          // BARRIER=1 is the protocol's own handshake, not a notification.
          const lines = (m.text ?? '').split('\n').filter((l) => l !== '' && l !== 'BARRIER=1');
          if (lines.length > 0) this.received.push({ t: m.t!, lines });
          for (const w of this.#waiters.splice(0)) w();
        }
      });
    });
  }

  static async open(dir: string): Promise<NotifyListener> {
    const listener = new NotifyListener(dir);
    await listener.#ready;
    return listener;
  }

  /** Every assignment received, in order. */
  get assignments(): string[] {
    return this.received.flatMap((n) => n.lines);
  }

  /** Resolves when some notification satisfies `test`. */
  async waitFor(
    test: (n: Notification) => boolean,
    timeoutMs = 10_000,
    what = 'notification',
  ): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(test);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.assignments)}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
