/**
 * The console session as a technician meets it, on an in-memory link with a fake clock: login and its
 * guard, commands and their rendering, confirmation, line editing, history, idle logout, `--json`,
 * and the audit trail. The same session runs over a real pty in test/integration/console/.
 */
import { describe, expect, it } from 'vitest';
import { ConsoleHarness, DEFAULT_POLICY } from '../../support/console-harness.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-console-');
const UP = '\x1b[A';

async function loggedIn(options: Partial<Parameters<typeof ConsoleHarness.open>[0]> = {}) {
  const h = await ConsoleHarness.open({ dir: await tempDir(), ...options });
  await h.login();
  return h;
}

describe('console login', () => {
  it('offers only help and login before login', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    expect(h.screen.text()).toContain('edge-agent 9.9.9 on test');
    expect(h.screen.currentLine).toBe('login:');
    await h.type('help\r');
    expect(h.screen.text()).toContain('Before login only help works');
    await h.type('\r');
    expect(h.screen.currentLine).toBe('login:');
  });

  it('logs in with the right password, which is never echoed', async () => {
    const h = await loggedIn();
    expect(h.screen.text()).not.toContain('correct horse');
    expect(h.screen.currentLine).toBe('tech@edge>');
  });

  it('tells a user when and where they last logged in', async () => {
    const h = await loggedIn();
    expect(h.screen.text()).not.toContain('Last login:');
    await h.type('logout\r');
    await h.clock.advance(90_000);
    await h.login();
    expect(h.screen.lines()).toContainEqual(
      expect.stringMatching(/^Last login: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC on test#1$/),
    );
  });

  it('slows each failure down exponentially and locks the name after maxFailures', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    const fail = async () => {
      await h.type('tech\r');
      await h.type('wrong\r');
      await h.waitFor(/Login incorrect\.[\s\S]*$/);
    };
    await fail();
    // The prompt comes back only after 1 s; what is typed meanwhile is dropped.
    await h.clock.advance(999);
    expect(h.screen.currentLine).not.toBe('login:');
    await h.type('typed during the pause');
    await h.clock.advance(1);
    await h.settle();
    expect(h.screen.currentLine).toBe('login:');

    await h.type('tech\r');
    await h.type('wrong again\r');
    // The pause is said, counting down in place, and so is what happens to keys typed meanwhile.
    await h.waitFor('Next login prompt in 2 s; input meanwhile is ignored.');
    await h.clock.advance(1000);
    await h.waitFor('Next login prompt in 1 s; input meanwhile is ignored.');
    await h.clock.advance(999);
    expect(h.screen.currentLine).not.toBe('login:');
    await h.clock.advance(1);
    await h.settle();
    expect(h.screen.currentLine).toBe('login:');

    await h.type('tech\r');
    await h.type('wrong a third time\r');
    await h.waitFor('logins as tech are locked for 1m00s');
    await h.clock.advance(4000);
    await h.settle();
    // Even the right password is refused while locked.
    await h.type('tech\r');
    await h.waitFor('try again in 56.0 s');
    await h.clock.advance(56_000);
    await h.login();

    const events = (await h.auditEntries()).map((e) => `${e.event}:${e.who}:${e.result}`);
    expect(events).toEqual([
      'login-failed:tech:denied',
      'login-failed:tech:denied',
      'login-failed:tech:denied',
      'locked-out:tech:locked',
      'locked-out:tech:denied',
      'login:tech:ok',
    ]);
  });

  it('counts an unknown name like a known one and says the same thing', async () => {
    const h = await ConsoleHarness.open({
      dir: await tempDir(),
      policy: { ...DEFAULT_POLICY, maxFailures: 1 },
    });
    await h.type('nobody\r');
    await h.type('x\r');
    await h.waitFor('Login incorrect.');
    await h.waitFor('logins as nobody are locked');
  });

  it('logs out after the idle timeout and audits why', async () => {
    const h = await loggedIn({ idleTimeoutMs: 60_000 });
    await h.clock.advance(30_000);
    await h.type('status\r');
    await h.clock.advance(59_000);
    expect(h.screen.text()).not.toContain('logged out after');
    await h.clock.advance(1000);
    await h.idle();
    expect(h.screen.text()).toContain('*** logged out after 1m00s without input ***');
    expect(h.screen.currentLine).toBe('login:');
    const last = (await h.auditEntries()).at(-1);
    expect(last).toMatchObject({ event: 'logout', who: 'tech', result: 'idle' });
  });
});

describe('console commands', () => {
  it('lists registry commands in help, with human syntax, and marks the ones that actuate', async () => {
    const h = await loggedIn();
    await h.type('help\r');
    const text = h.screen.text();
    expect(text).toMatch(/loop set <loop> setpoint <value>\s+\* change a loop setpoint/);
    expect(text).toMatch(/points \[<prefix>\]\s+the process image/);
    expect(text).toMatch(/point set <point> <value>\s+\* write a writable point/);
    expect(text).toMatch(/ota install <file>\s+\* install an update/);
    expect(text).toMatch(/points watch \[<prefix>\]/);
    expect(text).toMatch(/logs \[-f\]/);
  });

  it('fits help in 80 columns, wrapping summaries in their column, and gives examples for a topic', async () => {
    const h = await loggedIn();
    await h.type('help\r');
    // Longer than 24 rows: it pages, and Space shows the rest.
    expect(h.screen.currentLine).toBe('-- More -- (Space: page, Enter: line, q: quit)');
    await h.type(' ');
    const lines = h.screen.lines();
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    // A usage longer than the column puts its summary on the next line, indented.
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}logs \[-f\] \[-n <count>\] \[-l <level>\] \[<module>\]$/),
    );
    await h.type('help loop set\r');
    expect(h.screen.lines()).toContain('  e.g. loop set chamber setpoint 50');
  });

  it('completes commands and point names with Tab, and lists what fits with a second Tab or ?', async () => {
    const h = await loggedIn();
    await h.type('sta\t');
    expect(h.screen.currentLine).toBe('tech@edge> status');
    await h.type('\x15point set h\t');
    expect(h.screen.currentLine).toBe('tech@edge> point set heater.state');
    await h.type('\x15points ch\t');
    expect(h.screen.currentLine).toBe('tech@edge> points chamber.');
    await h.type('\t');
    expect(h.screen.lines().at(-2)).toBe('chamber.humidity  chamber.temp');
    expect(h.screen.currentLine).toBe('tech@edge> points chamber.');
    await h.type('\x15loop ');
    await h.type('?'); // a key of its own, as typed (a pasted `?` inside a line is just a character)
    expect(h.screen.lines().at(-2)).toBe('set');
    expect(h.screen.currentLine).toBe('tech@edge> loop');
  });

  it('renders status as aligned key/value lines and points as a table', async () => {
    const h = await loggedIn();
    await h.type('status\r');
    expect(h.screen.lines()).toEqual(
      expect.arrayContaining([
        'device       testdevice234 on test',
        'version      edge-agent 9.9.9',
        'uptime       0 ms',
        'addresses    192.0.2.7 (eth0)',
        'link         off',
        'alarms       0 active, 0 unacknowledged',
        'devices      0, 0 faulted',
        'last update  none since start',
      ]),
    );
    await h.clock.advance(2500);
    await h.type('points chamber\r');
    const lines = h.screen.lines();
    const header = lines.findIndex((l) => l.startsWith('point'));
    expect(lines.slice(header, header + 4)).toEqual([
      'point             value  unit  quality    age  flags',
      '----------------  -----  ----  -------  -----  -----',
      'chamber.humidity  40.25  %RH   good     2.5 s',
      'chamber.temp       21.5  Cel   good     2.5 s',
    ]);
  });

  it('asks before an actuating command and runs it only on yes', async () => {
    const h = await loggedIn();
    await h.type('loop set chamber setpoint 50\r');
    expect(h.screen.text()).toContain('loop.setpoint loop=chamber value=50: change a loop setpoint.');
    expect(h.screen.currentLine).toBe('This changes the process. Proceed? [y/N]');
    await h.type('n\r');
    expect(h.screen.text()).toContain('Cancelled.');
    expect(h.test.setpoints).toEqual([]);
    await h.type('loop set chamber setpoint 50\r');
    await h.type('y\r');
    expect(h.test.setpoints).toEqual([{ loop: 'chamber', value: 50, who: 'tech' }]);
    expect(h.screen.lines()).toContain('setpoint  50');
    const commands = (await h.auditEntries()).filter((e) => e.event === 'command');
    expect(commands).toEqual([
      expect.objectContaining({
        who: 'tech',
        what: 'loop set chamber setpoint 50',
        command: 'loop.setpoint',
        args: { loop: 'chamber', value: 50 },
        result: 'cancelled',
        session: 'test#1',
      }),
      expect.objectContaining({ command: 'loop.setpoint', result: 'ok' }),
    ]);
    expect(typeof commands[0]!.ts).toBe('string');
  });

  it('checks an actuating command before asking: a refusal comes at once, with no question', async () => {
    const h = await loggedIn();
    await h.type('point set chamber.temp 5\r');
    expect(h.screen.text()).toContain('error EREADONLY: point chamber.temp is not writable');
    expect(h.screen.text()).not.toContain('Proceed?');
    expect(h.screen.currentLine).toBe('tech@edge>');
    await h.type('point set chamber.nothing 5\r');
    expect(h.screen.text()).toMatch(/error EUNKNOWN_POINT: .*chamber\.nothing/);
    expect(h.screen.text()).not.toContain('Proceed?');
    // A write that can happen is described (from → to) before the question.
    await h.type('point set heater.state true\r');
    expect(h.screen.lines()).toContain('  heater.state: false → true');
    expect(h.screen.currentLine).toBe('This changes the process. Proceed? [y/N]');
    await h.type('n\r');
    const results = (await h.auditEntries())
      .filter((e) => e.event === 'command')
      .map((e) => [e.result, e.code]);
    expect(results).toEqual([
      ['error', 'EREADONLY'],
      ['error', 'EUNKNOWN_POINT'],
      ['cancelled', undefined],
    ]);
  });

  it('answers --json with one line of the registry result, and --yes skips the question', async () => {
    const h = await loggedIn();
    await h.type('loop set chamber setpoint 42 --json --yes\r');
    const json = h.screen.lines().find((l) => l.startsWith('{'));
    expect(JSON.parse(json!)).toEqual({
      ok: true,
      command: 'loop.setpoint',
      result: { name: 'chamber', setpoint: 42 },
    });
    await h.type('loop set chamber setpoint hot --json\r');
    const error = h.screen
      .lines()
      .filter((l) => l.startsWith('{'))
      .at(-1);
    expect(JSON.parse(error!)).toMatchObject({
      ok: false,
      code: 'EUSAGE',
      message: 'value: expected a number, got hot',
    });
    await h.type('help --json\r');
    const help = JSON.parse(
      h.screen
        .lines()
        .filter((l) => l.startsWith('{'))
        .at(-1)!,
    );
    expect(help.result).toContainEqual({
      name: 'loop.setpoint',
      usage: ['loop set <loop> setpoint <value>'],
      summary: 'change a loop setpoint',
      actuates: true,
    });
  });

  it('runs any registered command in the generic NAME key=value form, and reports registry errors', async () => {
    const h = await loggedIn();
    await h.type('point.set point=heater.state value=true --yes\r');
    expect(h.test.points.get('heater.state')?.value).toBe(true);
    await h.type('point set chamber.temp 5 --yes\r');
    expect(h.screen.text()).toMatch(/error EREADONLY: .*chamber\.temp/);
    await h.type('frobnicate now\r');
    expect(h.screen.text()).toContain('unknown command: frobnicate now (type help)');
  });

  it('draws a progress bar from the progress a command reports', async () => {
    const h = await loggedIn();
    await h.type('ota install /media/usb/update.cose --yes\r');
    await h.clock.advance(250);
    expect(h.screen.currentLine).toBe('[##########----------]   50%  writing  512.0/1024.0 MiB');
    await h.clock.advance(300);
    await h.settle();
    expect(h.screen.text()).toContain('[####################]  100%  writing  1024.0/1024.0 MiB');
    expect(h.screen.lines()).toContain('state  installed');
  });
});

describe('console line discipline', () => {
  it('edits with backspace, Ctrl-U and Ctrl-W, and shows only the corrected line', async () => {
    const h = await loggedIn();
    await h.type('statsu\x7f\x7fus');
    expect(h.screen.currentLine).toBe('tech@edge> status');
    await h.type('\x15point');
    expect(h.screen.currentLine).toBe('tech@edge> point');
    await h.type('s cham\x17cha\x08\x08\x08chamber.temp\r');
    expect(h.screen.text()).toMatch(/chamber\.temp\s+21\.5\s+Cel/);
  });

  it('recalls earlier commands with the up arrow and runs them again', async () => {
    const h = await loggedIn();
    await h.type('status\r');
    await h.type('points\r');
    await h.type(UP);
    expect(h.screen.currentLine).toBe('tech@edge> points');
    await h.type(UP);
    expect(h.screen.currentLine).toBe('tech@edge> status');
    await h.type('\x1b[B');
    expect(h.screen.currentLine).toBe('tech@edge> points');
    await h.type('\x1b[B');
    expect(h.screen.currentLine).toBe('tech@edge>');
    await h.type(`${UP}${UP}\r`);
    await h.type('history\r');
    expect(h.screen.lines().slice(-5)).toEqual([
      '   1  status',
      '   2  points',
      '   3  status',
      '   4  history',
      'tech@edge>',
    ]);
  });

  it('fits points watch to a 24-line screen, keeping its title and header', async () => {
    const h = await loggedIn();
    for (let i = 10; i < 50; i++) {
      h.test.points.declare({ name: `rack.t${i}`, unit: 'Cel' });
      h.test.points.update(`rack.t${i}`, i, 'sim');
    }
    await h.type('points watch\r');
    const screen = h.screen.lines();
    expect(screen.length).toBeLessThanOrEqual(24);
    expect(screen[0]).toMatch(/^points at \d\d:\d\d:\d\d UTC — press any key to stop$/);
    expect(screen[1]).toMatch(/^point\s+value\s+unit/);
    expect(screen).toContain('… 25 more: points watch <prefix> narrows it');
    await h.type(' ');
  });

  it('abandons a line on Ctrl-C, and Ctrl-C or any key stops points watch', async () => {
    const h = await loggedIn();
    await h.type('loop set chamber\x03');
    expect(h.screen.lines().slice(-2)).toEqual(['tech@edge> loop set chamber^C', 'tech@edge>']);
    await h.type('points watch chamber.t\r');
    expect(h.screen.lines()[0]).toMatch(
      /^points chamber\.t\* at \d\d:\d\d:\d\d UTC — press any key to stop$/,
    );
    h.test.points.update('chamber.temp', 22.75, 'sim');
    await h.clock.advance(1000);
    // Refreshed in place: the screen was cleared and holds one table with the new value.
    expect(h.screen.lines().filter((l) => l.startsWith('chamber.temp'))).toHaveLength(1);
    expect(h.screen.text()).toMatch(/chamber\.temp\s+22\.75/);
    await h.type('\x03');
    expect(h.screen.lines().slice(-2)).toEqual(['^C', 'tech@edge>']);
    await h.type('points watch\r');
    await h.type('q');
    expect(h.screen.currentLine).toBe('tech@edge>');
  });

  it('logs out on Ctrl-D at an empty prompt and on logout, back to the login prompt', async () => {
    const h = await loggedIn();
    await h.type('\x04');
    expect(h.screen.text()).toContain('Logged out.');
    expect(h.screen.currentLine).toBe('login:');
    await h.login();
    await h.type('logout\r');
    expect(h.screen.currentLine).toBe('login:');
    expect((await h.auditEntries()).filter((e) => e.event === 'logout').map((e) => e.result)).toEqual([
      'eof',
      'ok',
    ]);
  });

  it('shows recent log lines and follows new ones until a key', async () => {
    const h = await loggedIn();
    h.logs.write(
      `${JSON.stringify({ level: 'info', time: '2026-01-01T10:00:00.000Z', msg: 'reading', mod: 'points', point: 'chamber.temp', value: 21.5, unit: 'Cel' })}\n`,
    );
    await h.type('logs\r');
    expect(h.screen.text()).toContain('10:00:00.000 INFO  [points] chamber.temp = 21.5 Cel');
    await h.type('logs -f\r');
    h.logs.write(
      `${JSON.stringify({ level: 'warn', time: '2026-01-01T10:00:01.000Z', msg: 'alarm', alarm: 'door' })}\n`,
    );
    await h.settle();
    expect(h.screen.text()).toContain('10:00:01.000 WARN  alarm alarm=door');
    await h.type(' ');
    expect(h.screen.currentLine).toBe('tech@edge>');
  });

  it('filters the log by level and module, and sets which live lines this session shows', async () => {
    const h = await loggedIn();
    const line = (level: string, mod: string, msg: string) =>
      h.logs.write(`${JSON.stringify({ level, time: '2026-01-01T10:00:00.000Z', msg, mod })}\n`);
    line('debug', 'points', 'a reading');
    line('warn', 'ota', 'slow server');
    line('info', 'ota.download', 'resumed');
    line('error', 'telemetry', 'disk full');
    const shown = async (command: string) => {
      const from = h.screen.lines().length;
      await h.type(`${command}\r`);
      return h.screen.lines().slice(from, -1).join('\n');
    };
    const warnings = await shown('logs -l warn');
    expect(warnings).toContain('slow server');
    expect(warnings).toContain('disk full');
    expect(warnings).not.toContain('a reading');
    const ota = await shown('logs ota');
    expect(ota).toContain('slow server');
    expect(ota).toContain('resumed');
    expect(ota).not.toContain('disk full');
    expect(await shown('logs -l loud')).toContain(
      'logs: -l takes one of trace, debug, info, warn, error, fatal',
    );

    h.session.printAbove('10:00:02.000 DEBUG [points] chamber.temp = 21 Cel');
    expect(h.screen.text()).toContain('chamber.temp = 21 Cel');
    expect(await shown('logs warn')).toContain('Live log lines: warn and above.');
    h.session.printAbove('10:00:03.000 DEBUG [points] chamber.temp = 22 Cel');
    h.session.printAbove('10:00:03.000 WARN  [ota] still slow');
    expect(h.screen.text()).not.toContain('chamber.temp = 22 Cel');
    expect(h.screen.text()).toContain('still slow');
    await shown('logs off');
    h.session.printAbove('10:00:04.000 ERROR [ota] gave up');
    expect(h.screen.text()).not.toContain('gave up');
  });

  it('pages long output: Enter shows one more line, q leaves the rest; `terminal length 0` stops paging', async () => {
    const h = await loggedIn();
    const at = '2026-01-01T10:00:00.000Z';
    for (let i = 0; i < 60; i++)
      h.logs.write(`${JSON.stringify({ level: 'info', time: at, msg: `line ${i}`, mod: 'points' })}\n`);
    await h.type('logs -n 40\r'); // lines 20 to 59
    expect(h.screen.currentLine).toBe('-- More -- (Space: page, Enter: line, q: quit)');
    expect(h.screen.text()).toContain('line 42');
    expect(h.screen.text()).not.toContain('line 43');
    await h.type('\r');
    expect(h.screen.text()).toContain('line 43');
    expect(h.screen.text()).not.toContain('line 44');
    await h.type('q');
    expect(h.screen.currentLine).toBe('tech@edge>');
    expect(h.screen.text()).not.toContain('line 44');
    await h.type('terminal length 0\r');
    await h.type('logs -n 60\r');
    expect(h.screen.text()).toContain('line 59');
    expect(h.screen.currentLine).toBe('tech@edge>');
  });

  it('keeps warnings apart, so a burst of readings cannot push the last alarm out of logs -l warn', async () => {
    const h = await loggedIn();
    const at = '2026-01-01T10:00:00.000Z';
    h.logs.write(`${JSON.stringify({ level: 'warn', time: at, msg: 'alarm raised', mod: 'alarms' })}\n`);
    for (let i = 0; i < 200; i++)
      h.logs.write(`${JSON.stringify({ level: 'debug', time: at, msg: `reading ${i}`, mod: 'points' })}\n`);
    await h.type('logs -n 500\r');
    await h.type('q'); // 200 lines page; q leaves the pager
    expect(h.screen.text()).not.toContain('alarm raised');
    await h.type('logs -l warn\r');
    expect(h.screen.text()).toContain('alarm raised');
  });

  it('prints a followed line once on a terminal that also shows live log lines (the stdio console)', async () => {
    const h = await loggedIn();
    await h.type('logs -f\r');
    const record = { level: 'warn', time: '2026-01-01T10:00:01.000Z', msg: 'door open', mod: 'rules' };
    // What the stdio console does with each line: the live copy above the prompt, and the ring's.
    h.session.printAbove('10:00:01.000 WARN  [rules] door open');
    h.logs.write(`${JSON.stringify(record)}\n`);
    await h.settle();
    expect(h.screen.text().match(/door open/g)).toHaveLength(1);
    await h.type(' ');
    h.session.printAbove('10:00:02.000 WARN  [rules] door closed');
    expect(h.screen.text()).toContain('door closed');
  });

  it('closes the session with a message on shutdown', async () => {
    const h = await loggedIn();
    await h.type('stat');
    await h.server.close('edge-agent is stopping');
    expect(h.screen.text()).toContain('*** edge-agent is stopping ***');
    expect((await h.auditEntries()).at(-1)).toMatchObject({ event: 'logout', result: 'closed' });
  });
});
