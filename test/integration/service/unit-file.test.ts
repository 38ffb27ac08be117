/**
 * scripts/edge-agent.service as systemd reads it: `systemd-analyze verify` accepts it, and
 * `systemd-analyze security --offline=true` rates its exposure 2.5 or lower. And scripts/install.sh,
 * staged into a directory (`--destdir`), lays out the agent, the unit, udev rules, the starter
 * configuration and the polkit rule. Skipped where systemd-analyze is not installed (`apt-get install
 * systemd`).
 */
import { execFile } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../../support/agent-process.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const run = promisify(execFile);
const tempDir = tempDirs('edge-unit-');
const UNIT = path.join(REPO_ROOT, 'scripts/edge-agent.service');

/** The unit with ExecStart pointing at this machine's node (verify checks that the binary exists). */
async function localUnit(): Promise<string> {
  const dir = await tempDir();
  const file = path.join(dir, 'edge-agent.service');
  const text = await readFile(UNIT, 'utf8');
  await writeFile(
    file,
    text.replace(
      /\/usr\/bin\/node (.*)\/opt\/edge-agent\/dist\/agent\/main\.js/,
      `${process.execPath} $1${CLI}`,
    ),
  );
  return file;
}

describeWithTools(['systemd-analyze'], 'the systemd unit', () => {
  it('passes systemd-analyze verify', async () => {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', await localUnit()]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('is rated 2.5 or lower by systemd-analyze security', async () => {
    const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT]);
    const score = Number(/Overall exposure level for edge-agent\.service: ([\d.]+)/.exec(stdout)?.[1]);
    console.log(`systemd-analyze security: exposure ${score}`);
    expect(score).toBeLessThanOrEqual(2.5);
  });

  it('is a notify service with a watchdog that treats SIGTERM as success and restarts on failure', async () => {
    const text = await readFile(UNIT, 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=30s',
      'Restart=on-failure',
      'SuccessExitStatus=143',
      'StateDirectory=edge-agent',
      'ConfigurationDirectory=edge-agent',
      'SupplementaryGroups=gpio i2c dialout bluetooth',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });
});

describe('scripts/install.sh --destdir', () => {
  it('stages the agent, unit, udev rules, configuration, polkit rule and command', async () => {
    await access(CLI); // needs `npm run build`, as npm test does
    const dest = await tempDir();
    const { stdout } = await run('bash', [
      path.join(REPO_ROOT, 'scripts/install.sh'),
      '--destdir',
      dest,
      '--no-start',
    ]);
    expect(stdout).toContain('would run: usermod --append --groups gpio,i2c,dialout,bluetooth edge-agent');
    expect(stdout).toContain('would run: systemctl enable edge-agent.service');
    await access(path.join(dest, 'opt/edge-agent/dist/agent/main.js'));
    await access(path.join(dest, 'opt/edge-agent/boards/rpi4.yaml'));
    await access(path.join(dest, 'opt/edge-agent/wiring/chamber-kit-rpi4.yaml'));
    const unit = await readFile(path.join(dest, 'etc/systemd/system/edge-agent.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\S*node (--\S+ )*\/opt\/edge-agent\/dist\/agent\/main\.js run$/m);
    const udev = await readFile(path.join(dest, 'etc/udev/rules.d/99-edge-agent.rules'), 'utf8');
    expect(udev).toContain('SUBSYSTEM=="i2c-dev", GROUP="i2c", MODE="0660"');
    expect(udev).toMatch(/ttyGS\[0-9\]\*.*GROUP="dialout"/);
    const config = await readFile(path.join(dest, 'etc/edge-agent/agent.yaml'), 'utf8');
    expect(config).toContain('users: []');
    expect(config).toContain('# wiring: /opt/edge-agent/wiring/chamber-kit-rpi4.yaml');
    const polkit = await readFile(path.join(dest, 'etc/polkit-1/rules.d/50-edge-agent.rules'), 'utf8');
    expect(polkit).toContain('org.freedesktop.login1.reboot');
    const wrapper = await readFile(path.join(dest, 'usr/local/bin/edge-agent'), 'utf8');
    expect(wrapper).toContain('/opt/edge-agent/dist/agent/main.js "$@"');
  });
});
