/**
 * attest: how fast the device checks fleet commands, and how long attestation evidence takes.
 *  - `verifyPerS`: `checkFleetCommand` (strict COSE decode, Ed25519 verify, payload schema, device and
 *    time checks) on one signed command; `acceptPerS`: the whole channel per command — the checks, the
 *    replay cache's fsynced append, a no-op registry command, the Ed25519-signed result. Baseline in the
 *    same run, on a message of the same size: bare `ed25519Verify` (core/ed25519.ts, what core/cose.ts
 *    uses: node:crypto, recently used keys kept imported), node:crypto's verify with the key imported
 *    once, and @noble/curves' pure-JS verify (what the agent used before; the tests check against it).
 *  - `evidenceMs`: `Attester.evidence()` after the start-up measurement, software Ed25519 identity;
 *    with swtpm and tpm2-tools installed also a TPM identity (ES256 signature and a PCR quote, each a
 *    tpm2-tools process over swtpm's socket). Baselines: signing the same claims alone, and one bare
 *    `tpm2_getcap` (what a tool process costs before the TPM does anything).
 * Medians over runs; peak RSS of the whole process.
 *   npm run bench -- attest [--runs 5] [--run-ms 1000] [--evidence 50] [--tpm-evidence 20]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js';
import { z } from 'zod';
import { signDeviceCose1 } from '../../agent/attest/device-cose.js';
import { EAT_PROFILE, encodeClaims } from '../../agent/attest/eat.js';
import { Attester } from '../../agent/attest/evidence.js';
import { type Identity, loadIdentity } from '../../agent/attest/identity.js';
import { measureValue } from '../../agent/attest/measure.js';
import { CommandRegistry } from '../../agent/commands/registry.js';
import { SystemClock } from '../../agent/core/clock.js';
import { generateKeyPair } from '../../agent/core/cose.js';
import { ed25519Sign, ed25519Verify } from '../../agent/core/ed25519.js';
import { silentLogger } from '../../agent/core/log.js';
import { CommandChannel } from '../../agent/link/command-channel.js';
import { checkFleetCommand, signFleetCommand } from '../../agent/link/fleet-command.js';
import { deviceTopics } from '../../agent/link/topics.js';
import { median, parseFlags, round } from './stats.js';

const run = promisify(execFile);
const clock = new SystemClock();
const log = silentLogger();

export async function attestBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const runs = Number(flags.get('runs') ?? 5);
  const runMs = Number(flags.get('run-ms') ?? 1000);
  const evidenceSamples = Number(flags.get('evidence') ?? 50);
  const tpmSamples = Number(flags.get('tpm-evidence') ?? 20);
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-bench-attest-'));
  try {
    const commands = await commandFigures(dir, runs, runMs);
    const evidence = await evidenceFigures(dir, evidenceSamples, tpmSamples);
    return {
      runs,
      runMs,
      ...commands,
      ...evidence,
      peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function commandFigures(dir: string, runs: number, runMs: number): Promise<Record<string, unknown>> {
  const fleet = generateKeyPair();
  const now = () => Math.floor(Date.now() / 1000);
  const command = (id: string) =>
    signFleetCommand(
      {
        id,
        device: 'gw-bench',
        iat: now(),
        exp: now() + 600,
        cmd: 'noop',
        args: { loop: 'chamber', value: 21.5 },
      },
      [fleet],
    );
  const sample = command('sample');
  const ctx = {
    trustKeys: [fleet.publicKey],
    threshold: 1,
    deviceId: 'gw-bench',
    nowMs: Date.now(),
    clockTrusted: true,
    skewMs: 60_000,
    maxTtlS: 3600,
    maxBytes: 64 * 1024,
  };
  // The same message size and one signature: what verifying costs before any framing.
  const message = new Uint8Array(sample.length);
  const signature = ed25519Sign(message, fleet.privateKey);

  const nodeKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(fleet.publicKey).toString('base64url') },
    format: 'jwk',
  });
  const verifyPerS: number[] = [];
  const baselinePerS: number[] = [];
  const nodePerS: number[] = [];
  const noblePerS: number[] = [];
  const acceptPerS: number[] = [];
  for (let r = 0; r < runs; r++) {
    verifyPerS.push(rate(runMs, () => checkFleetCommand(sample, ctx).ok));
    baselinePerS.push(rate(runMs, () => ed25519Verify(signature, message, fleet.publicKey)));
    nodePerS.push(rate(runMs, () => cryptoVerify(null, message, nodeKey, signature)));
    noblePerS.push(rate(runMs, () => nobleEd25519.verify(signature, message, fleet.publicKey)));
    // Commands signed up front, so the loop measures the device's side only.
    const batch = Array.from({ length: 20_000 }, (_, i) => command(`r${r}-${i}`));
    const channel = await benchChannel(dir, `replay-${r}.log`, fleet.publicKey);
    let i = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < runMs && i < batch.length) {
      const o = await channel.handle(batch[i++]!);
      if (o.status !== 'done') throw new Error(`bench command ${o.status}: ${o.code} ${o.reason}`);
    }
    acceptPerS.push((i * 1000) / (performance.now() - t0));
    await channel.stop();
    process.stderr.write(
      `run ${r + 1}/${runs}: verify ${round(verifyPerS[r]!, 0)}/s, accept ${round(acceptPerS[r]!, 0)}/s, bare ed25519Verify ${round(baselinePerS[r]!, 0)}/s, @noble ${round(noblePerS[r]!, 0)}/s\n`,
    );
  }
  return {
    commandBytes: sample.length,
    verifyPerSMedian: round(median(verifyPerS), 0),
    acceptPerSMedian: round(median(acceptPerS), 0),
    baselineEd25519VerifyPerSMedian: round(median(baselinePerS), 0),
    nodeCryptoKeyOnceVerifyPerSMedian: round(median(nodePerS), 0),
    nobleEd25519VerifyPerSMedian: round(median(noblePerS), 0),
  };
}

async function benchChannel(dir: string, file: string, fleetKey: Uint8Array): Promise<CommandChannel> {
  const registry = new CommandRegistry();
  registry.register({
    name: 'noop',
    summary: 'noop',
    args: z.object({}).passthrough(),
    run: async () => ({ ok: true }),
  });
  const device = await loadIdentity(
    { backend: 'software', dir: path.join(dir, 'identity') },
    { clock },
    { create: true },
  );
  const channel = new CommandChannel(
    {
      link: {
        deviceId: 'gw-bench',
        topics: deviceTopics('edge', 'gw-bench'),
        subscribe: () => () => undefined,
        publish: async () => undefined,
      },
      registry,
      signer: device.signer,
      clock,
      log,
      trust: async () => ({ keys: [fleetKey], threshold: 1 }),
    },
    {
      replayFile: path.join(dir, file),
      replayCapacity: 4096,
      skewMs: 60_000,
      maxTtlS: 3600,
      maxCommandBytes: 64 * 1024,
      maxQueued: 32,
      rejectReportsPerMinute: 30,
    },
  );
  await channel.start();
  return channel;
}

async function evidenceFigures(
  dir: string,
  samples: number,
  tpmSamples: number,
): Promise<Record<string, unknown>> {
  const nonce = new Uint8Array(16).fill(0x5a);
  const software = await loadIdentity(
    { backend: 'software', dir: path.join(dir, 'identity') },
    { clock },
    { create: true },
  );
  const softwareMs = await evidenceTimes(software, nonce, samples);
  // Baseline: the same claims set, encoded and signed, no measurement lookups or quote.
  const claims = encodeClaims({
    nonce,
    ueid: new Uint8Array(33),
    deviceId: software.deviceId,
    iat: 0,
    profile: EAT_PROFILE,
    swName: 'edge-agent',
    swVersion: '0.1.0',
    measurements: [{ name: 'config', digest: measureValue({}) }],
    uptimeS: 1,
    bootCount: 1,
    bootSeed: new Uint8Array(16),
  });
  const signOnly: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await signDeviceCose1(claims, software.signer);
    signOnly.push(performance.now() - t0);
  }
  process.stderr.write(
    `evidence (software): ${round(median(softwareMs), 2)} ms; sign only ${round(median(signOnly), 3)} ms\n`,
  );
  const figures: Record<string, unknown> = {
    evidenceMsMedianSoftware: round(median(softwareMs), 2),
    baselineSignOnlyMsMedian: round(median(signOnly), 3),
  };
  const tpm = await startSwtpm(dir);
  if (!tpm) {
    process.stderr.write('evidence (TPM): skipped, swtpm or tpm2-tools not installed\n');
    return { ...figures, evidenceMsMedianTpm: null };
  }
  try {
    const env = { ...process.env, TPM2TOOLS_TCTI: tpm.tcti };
    const bareTool: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await run('tpm2_getcap', ['handles-persistent'], { env });
      bareTool.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const identity = await loadIdentity(
      {
        backend: 'tpm',
        dir: path.join(dir, 'tpm-identity'),
        tpm: { tcti: tpm.tcti, keyHandle: 0x81010020, akHandle: 0x81010021, pcr: 23, timeoutMs: 10_000 },
      },
      { clock },
      { create: true },
    );
    const provisionMs = performance.now() - t0;
    const tpmMs = await evidenceTimes(identity, nonce, tpmSamples);
    await identity.close();
    process.stderr.write(
      `evidence (TPM, swtpm): ${round(median(tpmMs), 1)} ms; one bare tpm2 tool ${round(median(bareTool), 1)} ms; provisioning ${round(provisionMs, 0)} ms\n`,
    );
    return {
      ...figures,
      evidenceMsMedianTpm: round(median(tpmMs), 1),
      baselineTpm2ToolMsMedian: round(median(bareTool), 1),
      tpmProvisionMs: round(provisionMs, 0),
    };
  } finally {
    await tpm.stop();
  }
}

async function evidenceTimes(identity: Identity, nonce: Uint8Array, samples: number): Promise<number[]> {
  const attester = new Attester(
    {
      identity,
      clock,
      log,
      sources: [
        { name: 'agent', measure: async () => measureValue({ bundle: 1 }) },
        { name: 'config', measure: async () => measureValue({ config: 1 }) },
        { name: 'board', measure: async () => measureValue({ board: 1 }) },
      ],
      bootClaims: async () => ({ bootCount: 1, bootSeed: new Uint8Array(16) }),
      uptimeS: () => 1,
      lastUpdateRolledBack: async () => false,
    },
    { swName: 'edge-agent', swVersion: '0.1.0' },
  );
  await attester.measurements();
  await attester.evidence(nonce); // warm-up
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await attester.evidence(nonce);
    times.push(performance.now() - t0);
  }
  return times;
}

function rate(ms: number, fn: () => unknown): number {
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 64; i++) if (!fn()) throw new Error('bench: verification failed');
    n += 64;
    elapsed = performance.now() - t0;
  }
  return (n * 1000) / elapsed;
}

async function startSwtpm(dir: string): Promise<{ tcti: string; stop(): Promise<void> } | undefined> {
  const swtpm = ['/usr/bin/swtpm', '/usr/local/bin/swtpm'].find((p) => existsSync(p));
  if (!swtpm || !existsSync('/usr/bin/tpm2_getcap')) return undefined;
  const state = path.join(dir, 'swtpm');
  await mkdir(state, { recursive: true });
  let port = await freePort();
  while (await connects(port + 1)) port = await freePort();
  const child: ChildProcess = spawn(
    swtpm,
    [
      ...['socket', '--tpmstate', `dir=${state}`, '--tpm2'],
      ...[
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      ],
      ...['--flags', 'not-need-init,startup-clear'],
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200 && !(await connects(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return {
    tcti: `swtpm:host=127.0.0.1,port=${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
