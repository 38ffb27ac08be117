import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import { parseDevicePublicKey } from '../../../agent/attest/device-key.js';
import { decodeResult } from '../../../agent/link/fleet-command.js';
import { AgentProcess, type CliRun, REPO_ROOT, runCli } from '../../support/agent-process.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';

function json(run: CliRun): Record<string, unknown> {
  expect(run, run.stderr).toMatchObject({ code: 0 });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

let dir: string;
let broker: Mosquitto;
let agent: AgentProcess;
let fleet: MqttClient;
let deviceId: string;
const results: Buffer[] = [];
const waiters: ((b: Buffer) => void)[] = [];

function nextResult(): Promise<Buffer> {
  const queued = results.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no result; agent stderr: ${agent.stderr}`)), 8000);
    waiters.push((b) => {
      clearTimeout(timer);
      resolve(b);
    });
  });
}

/** Signs a command with the CLI, sends it, and returns the result file the fleet received. */
async function roundTrip(name: string, args: string[]): Promise<{ resultFile: string; id: string }> {
  const cmdFile = path.join(dir, `${name}.cose`);
  const signed = json(
    await runCli([
      'fleet',
      'sign-command',
      '--key',
      path.join(dir, 'keys/fleet.pem'),
      '--device',
      deviceId,
      ...args,
      '-o',
      cmdFile,
    ]),
  );
  await fleet.publishAsync(`edge/${deviceId}/cmd`, await readFile(cmdFile), { qos: 1 });
  const resultFile = path.join(dir, `${name}.result.cose`);
  await writeFile(resultFile, await nextResult());
  return { resultFile, id: signed.id as string };
}

const ready = hasMosquitto;

beforeAll(async () => {
  if (!ready) return;
  dir = await mkdtemp(path.join(tmpdir(), 'edge-agent-fleet-cli-'));
  broker = await Mosquitto.start();
  json(await runCli(['keygen', '--out', path.join(dir, 'keys'), '--name', 'fleet']));
  await writeFile(
    path.join(dir, 'agent.yaml'),
    [
      `board: ${path.join(REPO_ROOT, 'boards/sim.yaml')}`,
      `wiring: ${path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml')}`,
      'stateDir: state',
      `link: { url: "${broker.url}", backoff: { baseMs: 50, maxMs: 200 } }`,
      'telemetry: { timeTrust: system }',
      'fleet: { trust: { keys: [keys/fleet.pub.pem] } }',
      '',
    ].join('\n'),
  );
  agent = new AgentProcess(['run', '--config', path.join(dir, 'agent.yaml')]);
  await agent.waitFor((r) => r.msg === 'fleet command channel ready', 10_000, 'the command channel');
  await agent.waitFor((r) => r.msg === 'link up', 10_000, 'the link');
  const shown = json(
    await runCli([
      'identity',
      'show',
      '--config',
      path.join(dir, 'agent.yaml'),
      '--pem',
      path.join(dir, 'dev.pem'),
    ]),
  );
  deviceId = shown.deviceId as string;
  fleet = await connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  fleet.on('message', (_t, payload) => {
    const w = waiters.shift();
    if (w) w(payload);
    else results.push(payload);
  });
  await fleet.subscribeAsync(`edge/${deviceId}/cmd/result`, { qos: 1 });
});

afterAll(async () => {
  if (!ready) return;
  await fleet?.endAsync(true);
  agent?.kill('SIGTERM');
  await agent?.exited;
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

describeWithTools(['mosquitto'], 'edge-agent identity, attestation and fleet commands', () => {
  it('identity show prints the derived device id and writes a public key OpenSSL reads', async () => {
    const shown = json(await runCli(['identity', 'show', '--config', path.join(dir, 'agent.yaml')]));
    expect(shown).toMatchObject({
      deviceId: expect.stringMatching(/^[a-z2-7]{13}$/),
      backend: 'software',
      alg: 'EdDSA',
      kid: expect.stringMatching(/^[0-9a-f]{16}$/),
      created: false,
      publicKeyPem: await readFile(path.join(dir, 'dev.pem'), 'utf8'),
    });
    expect((await stat(path.join(dir, 'state/identity/device.key'))).mode & 0o777).toBe(0o600);
  });

  it('identity show before any start says there is no identity yet (exit 1), and --create makes one', async () => {
    const fresh = path.join(dir, 'fresh.yaml');
    await writeFile(
      fresh,
      `board: ${path.join(REPO_ROOT, 'boards/sim.yaml')}\nstateDir: fresh-state\ndeviceId: GW-7\n`,
    );
    const none = await runCli(['identity', 'show', '--config', fresh]);
    expect(none).toMatchObject({ code: 1, stderr: expect.stringMatching(/no .*yet.*--create/s) });
    expect(json(await runCli(['identity', 'show', '--config', fresh, '--create']))).toMatchObject({
      deviceId: 'GW-7',
      created: true,
    });
  });

  it('runs a command signed with fleet sign-command and returns a result fleet verify-result accepts', async () => {
    const { resultFile, id } = await roundTrip('status', ['--command', 'status', '--ttl', '30s']);
    const verified = json(
      await runCli(['fleet', 'verify-result', resultFile, '--pubkey', path.join(dir, 'dev.pem'), '--id', id]),
    );
    expect(verified).toMatchObject({
      device: deviceId,
      id,
      cmd: 'status',
      status: 'done',
      result: { version: expect.any(String) },
    });
    const other = await runCli([
      'fleet',
      'verify-result',
      resultFile,
      '--pubkey',
      path.join(dir, 'keys/fleet.pub.pem'),
    ]);
    expect(other).toMatchObject({ code: 1, stderr: expect.stringMatching(/key-mismatch/) });
  });

  it('answers attest with evidence that attest verify accepts, and says which claim differs from a reference', async () => {
    const nonce = '5ca1ab1e00112233445566778899aabb';
    const { resultFile } = await roundTrip('attest', ['--command', 'attest', '--arg', `nonce=${nonce}`]);
    const v = verifyDeviceCose1(new Uint8Array(await readFile(resultFile)), await devKey());
    if (!v.ok) throw new Error(v.reason);
    const r = decodeResult(v.payload);
    if (!r.ok) throw new Error(r.reason);
    const evidenceFile = path.join(dir, 'evidence.cose');
    await writeFile(evidenceFile, (r.result.result as { evidence: Uint8Array }).evidence);

    const good = json(
      await runCli([
        'attest',
        'verify',
        evidenceFile,
        '--pubkey',
        path.join(dir, 'dev.pem'),
        '--nonce',
        nonce,
      ]),
    );
    expect(good).toMatchObject({
      ok: true,
      deviceId,
      swname: 'edge-agent',
      measurements: { agent: expect.any(String), config: expect.any(String), board: expect.any(String) },
    });

    const stale = await runCli([
      'attest',
      'verify',
      evidenceFile,
      '--pubkey',
      path.join(dir, 'dev.pem'),
      '--nonce',
      '00'.repeat(16),
    ]);
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringMatching(/wrong-nonce/) });

    const measurements = good.measurements as Record<string, string>;
    await writeFile(
      path.join(dir, 'reference.yaml'),
      `swname: edge-agent\nswversion: 9.9.9\nmeasurements:\n  agent: ${measurements.agent}\n  config: ${'0'.repeat(64)}\n`,
    );
    const differs = await runCli([
      ...['attest', 'verify', evidenceFile, '--pubkey', path.join(dir, 'dev.pem'), '--nonce', nonce],
      ...['--expect', path.join(dir, 'reference.yaml')],
    ]);
    expect(differs.code).toBe(1);
    expect(differs.stderr).toMatch(/swversion differs: expected 9\.9\.9.*measurements\.config differs/);
    expect(JSON.parse(differs.stdout)).toMatchObject({
      ok: false,
      code: 'differs',
      differences: [{ claim: 'swversion' }, { claim: 'measurements.config' }],
    });
  });

  it('refuses a replayed command file and reports it signed', async () => {
    const { resultFile } = await roundTrip('once', ['--command', 'status', '--id', 'op-42']);
    expect(
      json(await runCli(['fleet', 'verify-result', resultFile, '--pubkey', path.join(dir, 'dev.pem')])),
    ).toMatchObject({ status: 'done' });
    await fleet.publishAsync(`edge/${deviceId}/cmd`, await readFile(path.join(dir, 'once.cose')), { qos: 1 });
    const replay = path.join(dir, 'replay.result.cose');
    await writeFile(replay, await nextResult());
    expect(
      json(await runCli(['fleet', 'verify-result', replay, '--pubkey', path.join(dir, 'dev.pem')])),
    ).toMatchObject({
      id: 'op-42',
      status: 'rejected',
      code: 'replayed',
    });
  });

  it('refuses bad inputs with usage errors (2) and unusable key files with 78', async () => {
    const key = path.join(dir, 'keys/fleet.pem');
    expect(
      await runCli([
        'fleet',
        'sign-command',
        '--key',
        key,
        '--device',
        'x',
        '--command',
        'status',
        '--ttl',
        'soon',
        '-o',
        path.join(dir, 'x.cose'),
      ]),
    ).toMatchObject({ code: 2 });
    expect(
      await runCli([
        'fleet',
        'sign-command',
        '--key',
        key,
        '--device',
        'x',
        '--command',
        'status',
        '--arg',
        'v:=nope',
        '-o',
        path.join(dir, 'x.cose'),
      ]),
    ).toMatchObject({ code: 2, stderr: expect.stringMatching(/JSON/) });
    expect(
      await runCli([
        'attest',
        'verify',
        path.join(dir, 'evidence.cose'),
        '--pubkey',
        path.join(dir, 'agent.yaml'),
        '--nonce',
        '00'.repeat(8),
      ]),
    ).toMatchObject({ code: 78 });
    expect(
      await runCli([
        'attest',
        'verify',
        path.join(dir, 'evidence.cose'),
        '--pubkey',
        path.join(dir, 'dev.pem'),
        '--nonce',
        'abc',
      ]),
    ).toMatchObject({ code: 2 });
  });
});

async function devKey(): Promise<Uint8Array> {
  const parsed = parseDevicePublicKey(await readFile(path.join(dir, 'dev.pem'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.publicKey;
}
