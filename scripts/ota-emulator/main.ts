/**
 * `node dist/scripts/ota-emulator/main.js [--config config/dev.yaml] [-- COMMAND...]`: runs the agent
 * (by default `node dist/agent/main.js run --config <config>`) on an emulated device. It provisions
 * what the configuration's `ota:` section names and does not exist yet (slot A with a factory image,
 * the U-Boot environment and fw_env.config, the file backend's environment, a development fleet key),
 * then boots: the emulated bootloader picks the slots (boards/uboot-ab.script's rules), the agent runs,
 * and every reboot it asks for — after an update, or a rollback — is a new power-on. A crash of the
 * agent counts as a failed boot (a watchdog reboot); Ctrl-C or SIGTERM stops it all.
 *
 * Its own lines go through the agent's logger (`mod: emulator`) to stdout, where the agent's go: the
 * log format is decided here once, from the configuration's `log:` (and its EDGE_AGENT_LOG_*
 * overrides) and whether stdout is a terminal, and handed to every boot of the agent, so one terminal
 * or file never mixes JSON lines with lines for people.
 */
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { LOG_LEVELS } from '../../agent/config/agent-schema.js';
import { generateKeyPair } from '../../agent/core/cose.js';
import { privateKeyToPem, publicKeyToPem } from '../../agent/core/ed25519-keys.js';
import { createLogger } from '../../agent/core/log.js';
import { otaSchema } from '../../agent/ota/ota-schema.js';
import { DeviceEmulator, type EmulatedComponent, type EmulatorLog } from './device-emulator.js';
import { FACTORY_BOOT_VARS, fakeImage, writeFileEnv, writeRedundantUbootEnv } from './provision.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const configIndex = own.indexOf('--config');
const configFile = path.resolve(
  configIndex >= 0 ? own[configIndex + 1]! : path.join(ROOT, 'config/dev.yaml'),
);
const command =
  dash >= 0 && argv.length > dash + 1
    ? argv.slice(dash + 1)
    : [process.execPath, path.join(ROOT, 'dist/agent/main.js'), 'run', '--config', configFile];

const doc = (parseYaml(await readFile(configFile, 'utf8')) ?? {}) as {
  ota?: unknown;
  log?: { level?: unknown; format?: unknown };
};
const setting = <T extends string>(
  env: string | undefined,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
) => allowed.find((a) => a === (env ?? value)) ?? fallback;
const logFormat = setting(
  process.env.EDGE_AGENT_LOG_FORMAT,
  doc.log?.format,
  ['auto', 'json', 'pretty'],
  'auto',
);
const pretty = logFormat === 'auto' ? process.stdout.isTTY === true : logFormat === 'pretty';
const log = createLogger({
  level: setting(process.env.EDGE_AGENT_LOG_LEVEL, doc.log?.level, LOG_LEVELS, 'info'),
  pretty,
  colour: pretty && process.stdout.isTTY === true,
  // Synchronous (a terminal, a file, or a pipe on Linux): the emulator may exit right after a line.
  destination: process.stdout,
}).child({ mod: 'emulator' });
const say: EmulatorLog = (line, level = 'info') => log[level](line);

if (!doc.ota) {
  log.error(`${configFile} has no ota: section; nothing to emulate`);
  process.exit(78);
}
const ota = otaSchema.parse(doc.ota);
const resolve = (p: string) => path.resolve(path.dirname(configFile), p);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

const components: EmulatedComponent[] = [];
for (const [name, c] of Object.entries(ota.components)) {
  if (!c.boot) continue; // a model or rule set: the agent switches it live, no bootloader to play
  const slots = {
    A: { kind: c.slots.kind, path: resolve(c.slots.A) },
    B: { kind: c.slots.kind, path: resolve(c.slots.B) },
  };
  const boot = c.boot;
  if (boot?.backend !== 'uboot' && boot?.backend !== 'file') {
    // jetson and efi are played with the fake tools by the tests (test/support/sim-ota-device.ts).
    log.error(
      `component ${name}: the emulator plays U-Boot and the file backend, not ${boot?.backend ?? 'a board default'}`,
    );
    process.exit(78);
  }
  if (!(await exists(slots.A.path))) {
    await mkdir(path.dirname(slots.A.path), { recursive: true });
    if (c.slots.kind === 'dir') {
      await mkdir(slots.A.path, { recursive: true });
      await writeFile(path.join(slots.A.path, 'VERSION'), 'factory\n');
    } else await writeFile(slots.A.path, fakeImage(`${name} factory`, 4 << 20));
    say(`provisioned slot ${name}.A at ${slots.A.path}`);
  }
  if (boot.backend === 'uboot') {
    const cfg = resolve(boot.fwEnvConfig);
    if (!(await exists(cfg))) {
      await writeRedundantUbootEnv(path.join(path.dirname(cfg), 'uboot.env'), cfg, FACTORY_BOOT_VARS);
      say(`provisioned a redundant U-Boot environment: ${cfg}`);
    }
    components.push({
      name,
      boot: { kind: 'uboot', fwEnvConfig: cfg },
      cmdlineParam: boot.cmdlineParam,
      slots,
    });
  } else {
    const file = resolve(boot.file);
    if (!(await exists(file))) await writeFileEnv(file);
    components.push({
      name,
      boot: { kind: 'file', file },
      cmdlineParam: boot.cmdlineParam,
      slots,
    });
  }
}
if ('keys' in ota.trust) {
  for (const keyFile of ota.trust.keys.map(resolve)) {
    if (await exists(keyFile)) continue;
    const pair = generateKeyPair();
    const privateFile = `${keyFile.replace(/\.pub\.pem$|\.pem$/, '')}.pem`;
    await mkdir(path.dirname(keyFile), { recursive: true });
    await writeFile(privateFile, privateKeyToPem(pair), { mode: 0o600 });
    await writeFile(keyFile, publicKeyToPem(pair.publicKey));
    say(`generated a development fleet key: ${privateFile} (sign updates with it) and ${keyFile}`);
  }
}

const emulator = new DeviceEmulator({
  dir: path.dirname(resolve(ota.bootInfo.cmdline)),
  components,
  log: say,
});
let stopping = false;
// Ctrl-C reaches the agent directly (it shares the terminal's process group); SIGTERM is passed on.
process.on('SIGINT', () => {
  stopping = true;
});
process.on('SIGTERM', () => {
  stopping = true;
  emulator.stop('SIGTERM');
});

for (;;) {
  const boot = await emulator.powerOn();
  const end = await emulator.run({
    argv: command,
    stdio: 'inherit',
    detached: false,
    env: { EDGE_AGENT_LOG_FORMAT: pretty ? 'pretty' : 'json' },
  });
  if (end.kind === 'reboot') {
    say(`reboot${end.args ? ` (${end.args})` : ''}`);
    continue;
  }
  if (end.kind === 'exited' && (stopping || end.code === 0 || end.code === 130 || end.code === 143)) {
    process.exit(end.code ?? 0);
  }
  say(
    `the system on ${JSON.stringify(boot.slots)} died (${end.kind === 'exited' ? `exit ${end.code ?? end.signal}` : 'power cut'}); watchdog reboot`,
    'warn',
  );
  await new Promise((r) => setTimeout(r, 1000));
}
