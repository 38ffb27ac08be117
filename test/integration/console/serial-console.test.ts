/**
 * The technician's serial console over a real pseudo-terminal pair (socat): the agent's side runs
 * through `serialport` (the Linux serial backend), the technician's side is opened raw like picocom
 * does, keys are typed one at a time, and the test reads the screen a terminal would show. Also
 * checks that 100 keypresses echo and 100 `status` commands answer (`npm run bench -- console` measures
 * their latency).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/console/audit-log.js';
import { Authenticator } from '../../../agent/console/authenticator.js';
import { ConsoleServer } from '../../../agent/console/console-server.js';
import { SerialConsole } from '../../../agent/console/serial-console.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { LinuxSerial } from '../../../agent/hal/serial/linux.js';
import type { SerialConnection } from '../../../agent/hal/serial/types.js';
import { TEST_PASSWORD, testHash, testRegistry } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { openPtyPair, type PtyPair } from '../../support/pty-pair.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';
import { VirtualScreen } from '../../support/virtual-screen.js';

const tempDir = tempDirs('edge-serial-console-');

interface Rig {
  pty: PtyPair;
  server: ConsoleServer;
  serial: SerialConsole;
  technician: SerialConnection;
  screen: VirtualScreen;
  registry: ReturnType<typeof testRegistry>;
  audit: AuditLog;
}

let rig: Rig | undefined;
beforeEach(() => {
  rig = undefined;
});
afterEach(async () => {
  if (!rig) return;
  await rig.server.close('test over');
  await rig.serial.stop();
  await rig.technician.close();
  await rig.pty.close();
});

async function openRig(options: { idleTimeoutMs?: number } = {}): Promise<Rig> {
  const pty = await openPtyPair();
  const clock = new SystemClock();
  const log = silentLogger();
  const registry = testRegistry(new FakeClock());
  const audit = new AuditLog({ clock, log }, { stateDir: await tempDir() });
  const auth = new Authenticator({ clock }, [{ name: 'tech', passwordHash: await testHash() }], {
    maxFailures: 3,
    slowdownMs: 100,
    maxSlowdownMs: 1000,
    lockoutMs: 700,
  });
  const server = new ConsoleServer(
    {
      clock,
      log,
      commands: registry.registry,
      auth,
      audit,
      banner: 'edge-agent 9.9.9 on pty',
      watchIntervalMs: 100,
    },
    { idleTimeoutMs: options.idleTimeoutMs ?? 60_000 },
  );
  const serial = new SerialConsole(
    { server, log, clock, backend: new LinuxSerial() },
    { path: pty.paths[0], baudRate: 115200 },
  );
  serial.start();
  const technician = await new LinuxSerial().open({ path: pty.paths[1], baudRate: 115200 });
  const screen = new VirtualScreen();
  technician.onData((chunk) => screen.write(chunk));
  rig = { pty, server, serial, technician, screen, registry, audit };
  // Like a person at picocom: type only once the agent has opened its end and shown the prompt
  // (bytes sent before the agent opens the port are lost, as on a real line).
  await screenShows(rig, /login: ?$/);
  return rig;
}

/** Types like a person: one key at a time, a few milliseconds apart. */
async function type(r: Rig, keys: string, gapMs = 2): Promise<void> {
  for (const key of splitKeys(keys)) {
    await r.technician.write(Buffer.from(key));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

/** Keys, keeping escape sequences (arrows) whole. */
function splitKeys(text: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ECMA-48 escape sequences start with ESC
  return text.match(/\x1b\[[A-D]|[\s\S]/g) ?? [];
}

async function screenShows(r: Rig, test: RegExp | string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const seen = () => (typeof test === 'string' ? r.screen.text().includes(test) : test.test(r.screen.text()));
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`screen never showed ${String(test)}:\n${r.screen.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const promptShown = (r: Rig, prompt: string) => screenShows(r, new RegExp(`${prompt}$`));

describeWithTools(['socat'], 'the serial console over a pty, driven like picocom', () => {
  it('takes a technician from Enter through a lockout, commands and editing, to logout', async () => {
    const r = await openRig();
    await type(r, '\r');
    await promptShown(r, 'login:');
    // The banner went out before anyone was at the port; Enter at the empty prompt shows it again.
    await screenShows(r, /edge-agent 9\.9\.9 on pty · device testdevice234\n(.*\n)*login:$/);

    for (let attempt = 1; attempt <= 3; attempt++) {
      await type(r, 'tech\r');
      await promptShown(r, 'password:');
      await type(r, 'guess\r');
      await screenShows(r, new RegExp(`(Login incorrect\\.[\\s\\S]*){${attempt}}`));
      // The pause counts down in place (then the line is erased), saying typed keys are ignored.
      await until(
        () =>
          (r.screen.raw.match(/Next login prompt in 1 s; input meanwhile is ignored/g) ?? []).length >=
          attempt,
        `the countdown after failure ${attempt}`,
      );
      if (attempt < 3) await promptShown(r, 'login:');
    }
    await screenShows(r, 'Too many failures: logins as tech are locked for 700 ms');
    await promptShown(r, 'login:');
    await type(r, 'tech\r');
    await screenShows(r, /Logins as tech are locked; try again in \d+ ms\./);
    await new Promise((resolve) => setTimeout(resolve, 700));

    // The password is typed with a typo fixed by backspace; nothing of it is echoed.
    await type(r, 'tech\r');
    await promptShown(r, 'password:');
    await type(r, `${TEST_PASSWORD}x\x7f\r`);
    await promptShown(r, 'tech@edge>');
    expect(r.screen.text()).not.toContain(TEST_PASSWORD);

    await type(r, 'help\r');
    await screenShows(r, /loop set <loop> setpoint <value>\s+\* change a loop setpoint/);
    // help is longer than the 24 rows of a serial terminal: it pages, and Space shows the rest.
    await promptShown(r, '-- More -- \\(Space: page, Enter: line, q: quit\\)');
    await type(r, ' ');
    await screenShows(r, /logout\s+end the session/);
    await promptShown(r, 'tech@edge>');

    await type(r, 'stauts\x7f\x7f\x7ftus\r');
    await screenShows(r, /tech@edge> status\n(.*\n)*version\s+edge-agent 9\.9\.9\n/);

    await type(r, 'points\r');
    await screenShows(r, /chamber\.temp\s+21\.5\s+Cel\s+good/);

    await type(r, 'loop set chamber setpoint 50\r');
    await promptShown(r, 'Proceed\\? \\[y/N\\]');
    await type(r, 'y\r');
    // The echoed command line already reads "setpoint 50": wait for the command itself.
    await expect.poll(() => r.registry.setpoints).toEqual([{ loop: 'chamber', value: 50, who: 'tech' }]);
    await screenShows(r, /setpoint\s+50/);

    // Up-arrow recalls the setpoint command; edit it to 55 and confirm.
    await type(r, '\x1b[A');
    await screenShows(r, /tech@edge> loop set chamber setpoint 50$/);
    await type(r, '\x7f\x7f55\r');
    await promptShown(r, 'Proceed\\? \\[y/N\\]');
    await type(r, 'yes\r');
    await expect.poll(() => r.registry.setpoints.at(-1)).toEqual({ loop: 'chamber', value: 55, who: 'tech' });
    await screenShows(r, /setpoint\s+55/);

    // Ctrl-C in the middle of points watch: back to the prompt with the last table on screen.
    await type(r, 'points watch chamber\r');
    await screenShows(r, /points chamber\* at \d\d:\d\d:\d\d UTC — press any key to stop/);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await type(r, '\x03');
    await promptShown(r, '\\^C\ntech@edge>');
    expect(r.screen.lines().filter((l) => l.startsWith('chamber.temp'))).toHaveLength(1);

    await type(r, 'logout\r');
    await promptShown(r, 'Logged out.\nlogin:');
  });

  it('logs an idle technician out', async () => {
    const r = await openRig({ idleTimeoutMs: 300 });
    await type(r, 'tech\r');
    await promptShown(r, 'password:');
    await type(r, `${TEST_PASSWORD}\r`);
    await promptShown(r, 'tech@edge>');
    await screenShows(r, /\*\*\* logged out after 300 ms without input \*\*\*\nlogin:$/, 3000);
  });

  it('echoes every key and answers every status (100 of each); latency is `npm run bench -- console`', async () => {
    const r = await openRig();
    await type(r, 'tech\r');
    await promptShown(r, 'password:');
    await type(r, `${TEST_PASSWORD}\r`);
    await promptShown(r, 'tech@edge>');

    for (let i = 0; i < 100; i++) {
      const before = r.screen.raw.length;
      await r.technician.write(Buffer.from('x'));
      await until(() => r.screen.raw.length > before, `the echo of key ${i + 1}`);
    }
    await type(r, '\x15');
    for (let i = 0; i < 100; i++) {
      const before = r.screen.raw.length;
      await r.technician.write(Buffer.from('status\r'));
      await until(
        () =>
          r.screen.raw.slice(before).includes('last update') && r.screen.raw.endsWith('tech@edge> \x1b[0m'),
        `status answer ${i + 1}`,
      );
    }
  });
});
