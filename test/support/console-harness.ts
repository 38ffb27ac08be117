/**
 * A console session on an in-memory link with a fake clock: a test types as a person would and reads
 * the virtual screen. The registry holds the real core commands over a small point table, plus a
 * recording actuating command and a slow one that reports progress.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { registerCoreCommands } from '../../agent/commands/core-commands.js';
import { CommandRegistry } from '../../agent/commands/registry.js';
import { registerStatusCommand } from '../../agent/commands/status-command.js';
import { AUDIT_FILE, AuditLog } from '../../agent/console/audit-log.js';
import { Authenticator, type LoginPolicy } from '../../agent/console/authenticator.js';
import { ConsoleServer } from '../../agent/console/console-server.js';
import { LogRing } from '../../agent/console/log-ring.js';
import { hashPassword } from '../../agent/console/password-hash.js';
import type { ConsoleSession } from '../../agent/console/session.js';
import type { ConsoleCommandContext } from '../../agent/console/shell.js';
import { UnlockRequests } from '../../agent/console/unlock-requests.js';
import { silentLogger } from '../../agent/core/log.js';
import { PointTable } from '../../agent/core/points.js';
import { FakeClock } from './fake-clock.js';
import { VirtualScreen } from './virtual-screen.js';

/** Cheap scrypt for tests (ln=10); the format and the check are the production ones. */
export const TEST_PASSWORD = 'correct horse';
export const testHash = () => hashPassword(TEST_PASSWORD, { ln: 10, r: 8, p: 1 });

export const DEFAULT_POLICY: LoginPolicy = {
  maxFailures: 3,
  slowdownMs: 1000,
  maxSlowdownMs: 8000,
  lockoutMs: 60_000,
};

export interface TestRegistry {
  readonly registry: CommandRegistry;
  readonly points: PointTable;
  readonly setpoints: { loop: string; value: number; who: string }[];
}

export function testRegistry(clock: FakeClock): TestRegistry {
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel' });
  points.declare({ name: 'chamber.humidity', unit: '%RH' });
  points.declare({ name: 'heater.state', writable: true });
  points.onWrite('heater.state', async () => undefined);
  points.update('chamber.temp', 21.5, 'sim');
  points.update('chamber.humidity', 40.25, 'sim');
  points.update('heater.state', false, 'sim');
  const registry = new CommandRegistry();
  registerCoreCommands(registry, { points, devices: [], clock });
  registerStatusCommand(registry, {
    clock,
    devices: [],
    version: '9.9.9',
    board: 'test',
    deviceId: 'testdevice234',
    addresses: () => [{ iface: 'eth0', address: '192.0.2.7' }],
  });
  const setpoints: TestRegistry['setpoints'] = [];
  registry.register({
    name: 'loop.setpoint',
    summary: 'change a loop setpoint',
    actuates: true,
    args: z.strictObject({ loop: z.string(), value: z.number() }),
    run: async ({ loop, value }, ctx) => {
      setpoints.push({ loop, value, who: ctx.who });
      return { name: loop, setpoint: value };
    },
  });
  registry.register({
    name: 'ota.install',
    summary: 'install an update from a file',
    actuates: true,
    args: z.strictObject({ file: z.string() }),
    run: async ({ file }, ctx) => {
      const progress = (ctx as Partial<ConsoleCommandContext>).progress;
      for (let i = 0; i <= 4; i++) {
        progress?.({ doneBytes: i * 256 * 1024 * 1024, totalBytes: 1024 * 1024 * 1024, phase: 'writing' });
        await clock.sleep(100);
      }
      return { file, state: 'installed' };
    },
  });
  return { registry, points, setpoints };
}

export interface HarnessOptions {
  readonly dir: string;
  readonly ansi?: boolean;
  readonly policy?: LoginPolicy;
  readonly idleTimeoutMs?: number;
  readonly hangupOnLogout?: boolean;
  readonly loginTimeoutMs?: number;
}

/** One more peer on the harness's server (a second connection on the same transport). */
export interface HarnessPeer {
  readonly session: ConsoleSession;
  readonly screen: VirtualScreen;
  readonly hungUp: () => boolean;
}

export class ConsoleHarness {
  readonly clock = new FakeClock();
  readonly screen = new VirtualScreen();
  readonly logs = new LogRing(50);
  readonly test: TestRegistry;
  readonly server: ConsoleServer;
  readonly audit: AuditLog;
  session!: ConsoleSession;
  hungUp = false;

  private constructor(options: HarnessOptions, hash: string) {
    this.test = testRegistry(this.clock);
    const log = silentLogger();
    this.audit = new AuditLog({ clock: this.clock, log }, { stateDir: options.dir });
    const auth = new Authenticator(
      { clock: this.clock },
      [{ name: 'tech', passwordHash: hash }],
      options.policy ?? DEFAULT_POLICY,
    );
    this.server = new ConsoleServer(
      {
        clock: this.clock,
        log,
        commands: this.test.registry,
        logs: this.logs,
        auth,
        audit: this.audit,
        unlocks: new UnlockRequests(options.dir),
        banner: 'edge-agent 9.9.9 on test',
      },
      { idleTimeoutMs: options.idleTimeoutMs ?? 600_000, loginTimeoutMs: options.loginTimeoutMs ?? 0 },
    );
  }

  static async open(options: HarnessOptions): Promise<ConsoleHarness> {
    const h = new ConsoleHarness(options, await testHash());
    h.session = h.server.attach(
      {
        name: 'test',
        send: (text) => h.screen.write(text),
        hangup: () => {
          h.hungUp = true;
        },
      },
      {
        terminal: { ansi: options.ansi ?? true, columns: 80 },
        hangupOnLogout: options.hangupOnLogout ?? false,
      },
    );
    await h.settle();
    return h;
  }

  /** Opens another session on the same server, as the transport `name` (`test`, like the first). */
  attachPeer(options: { hangupOnLogout?: boolean; name?: string } = {}): HarnessPeer {
    const screen = new VirtualScreen();
    let hungUp = false;
    const session = this.server.attach(
      {
        name: options.name ?? 'test',
        send: (text) => screen.write(text),
        hangup: () => {
          hungUp = true;
        },
      },
      { terminal: { ansi: false, columns: 80 }, hangupOnLogout: options.hangupOnLogout ?? true },
    );
    return { session, screen, hungUp: () => hungUp };
  }

  /**
   * Types text (control characters included) and lets the session react: returns once it waits for
   * input again, or after `maxWaitMs` of real time (it may be sleeping on the fake clock).
   */
  async type(text: string, maxWaitMs = 250): Promise<void> {
    this.session.input(text);
    await this.idle(maxWaitMs);
  }

  /** Waits (real time, bounded) until the session is waiting for a key. */
  async idle(maxWaitMs = 250): Promise<void> {
    const start = Date.now();
    do {
      await this.settle();
      if (this.session.waitingForInput) return;
      await new Promise((r) => setTimeout(r, 1));
    } while (Date.now() - start < maxWaitMs);
  }

  /** Lets promise chains (and scrypt, which runs on the thread pool) finish. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.clock.advance(0);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits (real time, for scrypt) until the screen shows `text`. */
  async waitFor(text: string | RegExp, timeoutMs = 3000): Promise<void> {
    const start = Date.now();
    const seen = () =>
      typeof text === 'string' ? this.screen.text().includes(text) : text.test(this.screen.text());
    while (!seen()) {
      if (Date.now() - start > timeoutMs) {
        throw new Error(`screen never showed ${String(text)}; screen:\n${this.screen.text()}`);
      }
      await this.settle();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async login(password = TEST_PASSWORD): Promise<void> {
    await this.type('tech\r');
    await this.type(`${password}\r`);
    await this.waitFor('Logged in as tech');
  }

  async auditEntries(): Promise<Record<string, unknown>[]> {
    await this.audit.flush();
    const text = await readFile(path.join(path.dirname(this.audit.file), AUDIT_FILE), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
