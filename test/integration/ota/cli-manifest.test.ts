/**
 * The release pipeline as a user runs it: the built CLI (`node dist/agent/main.js`) generating keys,
 * creating and verifying manifests, creating and rotating a trust root — with keys from `openssl
 * genpkey` as well as our own, and the documented exit codes (1 rejected, 2 usage, 78 bad key file).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliRun, runCli } from '../../support/agent-process.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-cli-ota-');

function json(run: CliRun): Record<string, unknown> {
  expect(run, run.stderr).toMatchObject({ code: 0 });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** No stack trace may reach a user. */
function expectNoStack(run: CliRun): void {
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

async function payloadFile(dir: string, bytes: number): Promise<{ file: string; data: Buffer }> {
  const data = randomBytes(bytes);
  const file = path.join(dir, 'image.img');
  await writeFile(file, data);
  return { file, data };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
});

/** `manifest create` for a one-board rootfs payload, version 1 (seq 1 unless given); keys and output follow. */
const createArgs = (payload: string, seq = 1) => [
  'manifest',
  'create',
  '--component',
  'rootfs',
  '--version',
  '1',
  '--seq',
  String(seq),
  '--hw',
  'rpi4',
  '--payload',
  payload,
];

// Each test runs the CLI up to a dozen times, a Node start-up each: seconds idle, several times
// that on a loaded machine. The timeout is for a hang, not for a slow machine.
const CLI_TESTS = { timeout: 60_000 };

describe('edge-agent keygen', CLI_TESTS, () => {
  it('writes a private key only its owner can read, and a public key openssl derives identically', async () => {
    const dir = await tempDir();
    const out = json(await runCli(['keygen', '--out', path.join(dir, 'keys'), '--name', 'release']));
    const privateFile = path.join(dir, 'keys/release.pem');
    const publicFile = path.join(dir, 'keys/release.pub.pem');
    expect(out).toEqual({
      privateKey: privateFile,
      publicKey: publicFile,
      kid: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect((await stat(privateFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(privateFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const derived = execFileSync(toolPath('openssl'), ['pkey', '-in', privateFile, '-pubout']).toString();
    expect(derived).toBe(await readFile(publicFile, 'utf8'));
  });

  it('refuses to overwrite an existing key with exit 2, and replaces it with --force', async () => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir]));
    const before = await readFile(path.join(dir, 'fleet.pem'), 'utf8');
    const again = await runCli(['keygen', '--out', dir]);
    expect(again).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/fleet\.pem exists; pass --force/),
    });
    expect(await readFile(path.join(dir, 'fleet.pem'), 'utf8')).toBe(before);
    json(await runCli(['keygen', '--out', dir, '--force']));
    expect(await readFile(path.join(dir, 'fleet.pem'), 'utf8')).not.toBe(before);
  });
});

describe('edge-agent manifest', CLI_TESTS, () => {
  it('creates a manifest by streaming the payload and verifies it, printing the fields as JSON', async () => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir]));
    const { file, data } = await payloadFile(dir, 3 * 1024 * 1024 + 5);
    const created = json(
      await runCli([
        'manifest',
        'create',
        '--component',
        'rootfs',
        '--version',
        '1.4.0',
        '--seq',
        '14',
        '--hw',
        'rpi4',
        '--hw',
        'rpi5',
        '--payload',
        file,
        '--url',
        'https://updates.example.com/rootfs.img',
        '--expires',
        '2099-01-01T00:00:00Z',
        '--chunk',
        '1M',
        '--key',
        path.join(dir, 'fleet.pem'),
        '-o',
        path.join(dir, 'update.cose'),
      ]),
    );
    const verified = json(
      await runCli([
        'manifest',
        'verify',
        path.join(dir, 'update.cose'),
        '--key',
        path.join(dir, 'fleet.pub.pem'),
        '--board',
        'rpi4',
        '--component',
        'rootfs',
      ]),
    );
    expect(verified).toEqual(created);
    const chunkHash = (i: number) =>
      createHash('sha256')
        .update(data.subarray(i * 2 ** 20, (i + 1) * 2 ** 20))
        .digest('hex');
    expect(verified).toMatchObject({
      v: 1,
      component: 'rootfs',
      version: '1.4.0',
      seq: 14,
      hw: ['rpi4', 'rpi5'],
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      format: 'raw',
      url: 'https://updates.example.com/rootfs.img',
      expires: Date.UTC(2099, 0, 1) / 1000,
      chunk: 2 ** 20,
      chunks: [0, 1, 2, 3].map(chunkHash),
    });
    // COSE_Sign1 for one key.
    expect((await readFile(path.join(dir, 'update.cose')).then((b) => b[0])) === 0xd2).toBe(true);
  });

  it('hashes 1 MiB chunks by default, and leaves chunk hashes out only with --no-chunk', async () => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir]));
    const { file, data } = await payloadFile(dir, 2 * 1024 * 1024 + 1);
    const create = (...more: string[]) =>
      runCli([
        ...createArgs(file),
        '--key',
        path.join(dir, 'fleet.pem'),
        '-o',
        path.join(dir, 'u.cose'),
        ...more,
      ]);
    const byDefault = json(await create());
    expect(byDefault).toMatchObject({ chunk: 2 ** 20 });
    expect(byDefault.chunks).toEqual(
      [0, 1, 2].map((i) =>
        createHash('sha256')
          .update(data.subarray(i * 2 ** 20, (i + 1) * 2 ** 20))
          .digest('hex'),
      ),
    );
    const unchunked = json(await create('--no-chunk'));
    expect(unchunked).not.toHaveProperty('chunk');
    expect(unchunked).not.toHaveProperty('chunks');
    expect(json(await create('--chunk', '512K'))).toMatchObject({ chunk: 512 * 1024 });
  });

  it('works with keys made by openssl genpkey and openssl pkey -pubout', async () => {
    const dir = await tempDir();
    const key = path.join(dir, 'ossl.pem');
    const pub = path.join(dir, 'ossl.pub.pem');
    execFileSync(toolPath('openssl'), ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    execFileSync(toolPath('openssl'), ['pkey', '-in', key, '-pubout', '-out', pub]);
    const { file } = await payloadFile(dir, 1000);
    const out = path.join(dir, 'u.cose');
    json(
      await runCli([
        'manifest',
        'create',
        '--component',
        'agent',
        '--version',
        '0.2.0',
        '--seq',
        '2',
        '--hw',
        'sim',
        '--format',
        'tar',
        '--payload',
        file,
        '--key',
        key,
        '-o',
        out,
      ]),
    );
    expect(json(await runCli(['manifest', 'verify', out, '--key', pub]))).toMatchObject({
      component: 'agent',
      format: 'tar',
    });
  });

  it('signs with several keys as a COSE_Sign and enforces --threshold', async () => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir, '--name', 'a']));
    json(await runCli(['keygen', '--out', dir, '--name', 'b']));
    const { file } = await payloadFile(dir, 100);
    const k = (n: string) => path.join(dir, n);
    const common = createArgs(file);
    json(await runCli([...common, '--key', k('a.pem'), '--key', k('b.pem'), '-o', k('both.cose')]));
    json(await runCli([...common, '--key', k('a.pem'), '-o', k('one.cose')]));
    expect((await readFile(k('both.cose'))).subarray(0, 2)).toEqual(Buffer.from([0xd8, 98]));
    const both = ['--key', k('a.pub.pem'), '--key', k('b.pub.pem'), '--threshold', '2'];
    expect(json(await runCli(['manifest', 'verify', k('both.cose'), ...both])).kids).toHaveLength(2);
    const one = await runCli(['manifest', 'verify', k('one.cose'), ...both]);
    expect(one).toMatchObject({ code: 1, stderr: expect.stringMatching(/rejected \(below-threshold\)/) });
  });

  it.each([
    ['the wrong board', ['--board', 'jetson-orin-nano'], /rejected \(wrong-hw\)/],
    ['the wrong component', ['--component', 'agent'], /rejected \(wrong-component\)/],
  ])('exits 1 naming the reason for %s', async (_name, extra, reason) => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir]));
    const { file } = await payloadFile(dir, 10);
    const out = path.join(dir, 'u.cose');
    json(await runCli([...createArgs(file), '--key', path.join(dir, 'fleet.pem'), '-o', out]));
    const r = await runCli(['manifest', 'verify', out, '--key', path.join(dir, 'fleet.pub.pem'), ...extra]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(reason) });
    expectNoStack(r);
  });

  it('exits 1 for an expired, a tampered or a foreign-signed manifest', async () => {
    const dir = await tempDir();
    json(await runCli(['keygen', '--out', dir]));
    json(await runCli(['keygen', '--out', dir, '--name', 'other']));
    const { file } = await payloadFile(dir, 10);
    const create = (extra: string[], out: string, key = 'fleet.pem') =>
      runCli([...createArgs(file), '--key', path.join(dir, key), '-o', path.join(dir, out), ...extra]);
    json(await create(['--expires', '2001-01-01T00:00:00Z'], 'old.cose'));
    json(await create([], 'good.cose'));
    json(await create([], 'foreign.cose', 'other.pem'));
    const good = await readFile(path.join(dir, 'good.cose'));
    const tampered = Buffer.from(good);
    tampered[tampered.length - 70]! ^= 1; // a payload byte, just before the signature
    await writeFile(path.join(dir, 'tampered.cose'), tampered);
    const verify = (f: string) =>
      runCli(['manifest', 'verify', path.join(dir, f), '--key', path.join(dir, 'fleet.pub.pem')]);
    expect(await verify('old.cose')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/rejected \(expired\): manifest expired at 2001-01-01T00:00:00/),
    });
    expect(await verify('tampered.cose')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/rejected \(bad-signature\)/),
    });
    expect(await verify('foreign.cose')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/rejected \(unknown-key\)/),
    });
  });

  it('exits 78 for a key file that is not an Ed25519 key, and 2 for usage mistakes', async () => {
    const dir = await tempDir();
    const { file } = await payloadFile(dir, 10);
    await writeFile(
      path.join(dir, 'junk.pem'),
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    );
    execFileSync(toolPath('openssl'), ['genpkey', '-algorithm', 'x25519', '-out', path.join(dir, 'x.pem')]);
    const base = [...createArgs(file), '-o', path.join(dir, 'u.cose')];
    const junk = await runCli([...base, '--key', path.join(dir, 'junk.pem')]);
    expect(junk).toMatchObject({ code: 78, stderr: expect.stringMatching(/junk\.pem: not a private key/) });
    expectNoStack(junk);
    expect(await runCli([...base, '--key', path.join(dir, 'x.pem')])).toMatchObject({
      code: 78,
      stderr: expect.stringMatching(/x\.pem: expected an Ed25519 private key, got x25519/),
    });
    expect(await runCli([...base, '--key', path.join(dir, 'missing.pem')])).toMatchObject({
      code: 78,
      stderr: expect.stringMatching(/missing\.pem: cannot read key file/),
    });
    json(await runCli(['keygen', '--out', dir]));
    const key = ['--key', path.join(dir, 'fleet.pem')];
    expect(await runCli(['manifest', 'create', '--component', 'rootfs'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/required option/),
    });
    expect(await runCli([...base, ...key, '--seq', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--seq must be a non-negative integer/),
    });
    expect(await runCli([...base, ...key, '--expires', 'tomorrow'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--expires must be an ISO 8601/),
    });
    expect(await runCli([...base, ...key, '--url', 'ftp://x/y'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/url must be an http\(s\) URL/),
    });
    expect(await runCli([...base, ...key, '--payload', path.join(dir, 'none.img')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/none\.img: cannot read payload/),
    });
    expect(
      await runCli([
        'manifest',
        'verify',
        path.join(dir, 'none.cose'),
        '--key',
        path.join(dir, 'fleet.pub.pem'),
      ]),
    ).toMatchObject({ code: 2 });
    expect(await runCli(['manifest', 'verify', path.join(dir, 'u.cose')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/either --key .* or --trust/),
    });
    expect(await runCli(['manifest', 'create', '--bogus'])).toMatchObject({ code: 2 });
  });
});

describe('edge-agent trust', CLI_TESTS, () => {
  it('creates a root, verifies manifests against it, and rotates it to new keys', async () => {
    const dir = await tempDir();
    for (const n of ['a', 'b', 'c', 'd']) json(await runCli(['keygen', '--out', dir, '--name', n]));
    const k = (n: string) => path.join(dir, n);
    const root = json(
      await runCli([
        'trust',
        'create',
        '--threshold',
        '2',
        '--key',
        k('a.pub.pem'),
        '--key',
        k('b.pub.pem'),
        '--sign',
        k('a.pem'),
        '--sign',
        k('b.pem'),
        '-o',
        k('root.cose'),
      ]),
    );
    expect(root).toMatchObject({ v: 1, version: 1, threshold: 2 });
    const { file } = await payloadFile(dir, 64);
    const create = (keys: string[], out: string) =>
      runCli([...createArgs(file, 3), ...keys.flatMap((x) => ['--key', k(x)]), '-o', k(out)]);
    json(await create(['a.pem', 'b.pem'], 'ab.cose'));
    json(await create(['c.pem', 'd.pem'], 'cd.cose'));
    expect(
      json(await runCli(['manifest', 'verify', k('ab.cose'), '--trust', k('root.cose')])).kids,
    ).toHaveLength(2);
    expect(await runCli(['manifest', 'verify', k('cd.cose'), '--trust', k('root.cose')])).toMatchObject({
      code: 1,
    });

    // Rotation needs old AND new thresholds: signing with the new keys only is refused (exit 2, nothing written).
    const rotate = (signers: string[], out: string) =>
      runCli([
        'trust',
        'rotate',
        '--old',
        k('root.cose'),
        '--new-key',
        k('c.pub.pem'),
        '--new-key',
        k('d.pub.pem'),
        ...signers.flatMap((x) => ['--sign', k(x)]),
        '-o',
        k(out),
      ]);
    const refused = await rotate(['c.pem', 'd.pem'], 'bad.cose');
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringMatching(/below-old-threshold/) });
    expect(existsSync(k('bad.cose'))).toBe(false);
    expect(await rotate(['a.pem', 'b.pem'], 'bad.cose')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/below-new-threshold/),
    });
    expect(json(await rotate(['a.pem', 'b.pem', 'c.pem', 'd.pem'], 'root2.cose'))).toMatchObject({
      version: 2,
      threshold: 2,
    });
    expect(
      json(await runCli(['manifest', 'verify', k('cd.cose'), '--trust', k('root2.cose')])).kids,
    ).toHaveLength(2);
    expect(await runCli(['manifest', 'verify', k('ab.cose'), '--trust', k('root2.cose')])).toMatchObject({
      code: 1,
    });
  });

  it('refuses to write a root its signers cannot make valid', async () => {
    const dir = await tempDir();
    for (const n of ['a', 'b']) json(await runCli(['keygen', '--out', dir, '--name', n]));
    const r = await runCli([
      'trust',
      'create',
      '--threshold',
      '2',
      '--key',
      path.join(dir, 'a.pub.pem'),
      '--key',
      path.join(dir, 'b.pub.pem'),
      '--sign',
      path.join(dir, 'a.pem'),
      '-o',
      path.join(dir, 'root.cose'),
    ]);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/do not make a valid root/) });
    expect(existsSync(path.join(dir, 'root.cose'))).toBe(false);
  });
});
