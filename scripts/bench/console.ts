/**
 * `npm run bench -- console [--runs 100]`: the technician console's latency over a real serial line —
 * a socat pty pair, the agent's SerialConsole and ConsoleServer on one end, a `serialport` connection
 * typing on the other like picocom. Reports the median and p95 of keypress → echo and of
 * `status` + Enter → the next prompt. (These figures were asserted in a test once; on a shared,
 * loaded machine a latency belongs in a benchmark.)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerCoreCommands } from '../../agent/commands/core-commands.js';
import { CommandRegistry } from '../../agent/commands/registry.js';
import { registerStatusCommand } from '../../agent/commands/status-command.js';
import { AuditLog } from '../../agent/console/audit-log.js';
import { Authenticator } from '../../agent/console/authenticator.js';
import { ConsoleServer } from '../../agent/console/console-server.js';
import { hashPassword } from '../../agent/console/password-hash.js';
import { SerialConsole } from '../../agent/console/serial-console.js';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { PointTable } from '../../agent/core/points.js';
import { LinuxSerial } from '../../agent/hal/serial/linux.js';
import { median, parseFlags, quantile, round } from './stats.js';

const PASSWORD = 'bench';
/** The prompt as the console draws it (bold, then reset). */
const PROMPT_END = 'tech@edge> \x1b[0m';

export async function consoleBench(args: string[]): Promise<Record<string, unknown>> {
  const runs = Number(parseFlags(args).get('runs') ?? 100);
  const pty = await openPty();
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-bench-console-'));
  const clock = new SystemClock();
  const log = silentLogger();
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel' });
  points.update('chamber.temp', 21.5, 'sim');
  const commands = new CommandRegistry();
  registerCoreCommands(commands, { points, devices: [], clock });
  registerStatusCommand(commands, { clock, devices: [], version: 'bench' });
  const passwordHash = await hashPassword(PASSWORD, { ln: 10, r: 8, p: 1 });
  const server = new ConsoleServer(
    {
      clock,
      log,
      commands,
      auth: new Authenticator({ clock }, [{ name: 'tech', passwordHash }], {
        maxFailures: 3,
        slowdownMs: 1000,
        maxSlowdownMs: 8000,
        lockoutMs: 60_000,
      }),
      audit: new AuditLog({ clock, log }, { stateDir: dir }),
      banner: 'edge-agent bench',
    },
    { idleTimeoutMs: 600_000 },
  );
  const serial = new SerialConsole(
    { server, log, clock, backend: new LinuxSerial() },
    { path: pty.paths[0], baudRate: 115200 },
  );
  serial.start();
  const technician = await new LinuxSerial().open({ path: pty.paths[1], baudRate: 115200 });
  let screen = '';
  technician.onData((chunk) => {
    screen += Buffer.from(chunk).toString('latin1');
  });
  /** Resolves once the screen has grown past `from` and `done` holds for what came after. */
  const shown = async (from: number, done: (text: string) => boolean) => {
    const deadline = performance.now() + 10_000;
    while (!(screen.length > from && done(screen.slice(from)))) {
      if (performance.now() > deadline)
        throw new Error(`console bench: no answer; screen ends ${screen.slice(-80)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  try {
    await shown(0, (t) => t.includes('login:'));
    for (const line of ['tech\r', `${PASSWORD}\r`]) {
      const from = screen.length;
      await technician.write(Buffer.from(line));
      await shown(from, (t) => t.includes(line === 'tech\r' ? 'password:' : PROMPT_END));
    }
    const echoMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const from = screen.length;
      const start = performance.now();
      await technician.write(Buffer.from('x'));
      await shown(from, () => true);
      echoMs.push(performance.now() - start);
    }
    await technician.write(Buffer.from('\x15')); // Ctrl-U: clear the line
    const statusMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const from = screen.length;
      const start = performance.now();
      await technician.write(Buffer.from('status\r'));
      await shown(from, (t) => t.includes('last update') && t.endsWith(PROMPT_END));
      statusMs.push(performance.now() - start);
    }
    return {
      runs,
      keypressToEchoMedianMs: round(median(echoMs), 2),
      keypressToEchoP95Ms: round(quantile(echoMs, 0.95), 2),
      statusRoundTripMedianMs: round(median(statusMs), 2),
      statusRoundTripP95Ms: round(quantile(statusMs, 0.95), 2),
      peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await server.close('bench over');
    await serial.stop();
    await technician.close();
    pty.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A socat pty pair: bytes written to one end come out of the other. */
async function openPty(): Promise<{ paths: [string, string]; close(): void }> {
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  const paths = await new Promise<[string, string]>((resolve, reject) => {
    socat.once('error', reject);
    socat.stderr.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      const found = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1] as string);
      if (found.length === 2) resolve([found[0] as string, found[1] as string]);
    });
  });
  return { paths, close: () => socat.kill('SIGTERM') };
}
