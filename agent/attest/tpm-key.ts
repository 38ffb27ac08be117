/**
 * The TPM-backed identity through tpm2-tools. Two persistent keys under the owner hierarchy, made on
 * first use under a primary created from the owner seed (same template, same primary, every time):
 *  - the identity key at `keyHandle`: ECC NIST P-256, unrestricted, sign, ECDSA-SHA256, fixedTPM —
 *    it signs COSE objects (ES256, alg -7) and never leaves the TPM;
 *  - the attestation key (AK) at `akHandle`: the same but *restricted*, so it signs only structures the
 *    TPM itself produced (quotes) — an unrestricted key could be made to sign a forged TPMS_ATTEST.
 * The TPM has no Ed25519, hence ES256 for this backend (device-key.ts). At start the agent resets its
 * PCR (23 by default: the PC Client "application support" PCR, resettable from locality 0) and extends
 * each measurement digest into its SHA-256 bank; a quote over that PCR with the verifier's nonce then
 * proves, signed by the AK, what the agent measured. Without a resource manager (swtpm, /dev/tpm0)
 * every tool leaves its transient objects loaded, so provisioning flushes them (`tpm2_flushcontext -t`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePrivateDir } from '../core/durable-file.js';
import { ALG_ES256, type DeviceSigner, deviceKidOf } from './device-key.js';
import { IdentityError } from './errors.js';
import { ecdsaDerToRaw } from './es256.js';
import type { TpmQuote } from './tpm-quote.js';
import type { Tpm2Tools } from './tpm2-tools.js';

export interface TpmKeyOptions {
  readonly keyHandle: number;
  readonly akHandle: number;
  /** The SHA-256 PCR measurements are extended into. */
  readonly pcr: number;
  /** Scratch files (digests, signatures, quotes); a private temp dir when absent. */
  readonly workDir?: string;
}

const KEY_ATTRS = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign';
const AK_ATTRS = `${KEY_ATTRS}|restricted`;

export class TpmKey {
  readonly #tools: Tpm2Tools;
  readonly #opts: TpmKeyOptions;
  #workDir: string | undefined;

  constructor(tools: Tpm2Tools, options: TpmKeyOptions) {
    for (const [name, h] of [
      ['keyHandle', options.keyHandle],
      ['akHandle', options.akHandle],
    ] as const) {
      if (!Number.isInteger(h) || h < 0x81000000 || h > 0x81ffffff) {
        throw new TypeError(`${name} must be a persistent handle 0x81000000..0x81ffffff, got ${h}`);
      }
    }
    if (options.keyHandle === options.akHandle) throw new TypeError('keyHandle and akHandle must differ');
    if (!Number.isInteger(options.pcr) || options.pcr < 0 || options.pcr > 23) {
      throw new TypeError(`pcr must be 0..23, got ${options.pcr}`);
    }
    this.#tools = tools;
    this.#opts = options;
  }

  get pcr(): number {
    return this.#opts.pcr;
  }

  /**
   * The identity signer and the AK's public point, making both keys first if `create` and they are
   * missing. A handle holding a key of another kind is an error, never overwritten.
   */
  async load(create: boolean): Promise<{ signer: DeviceSigner; akPublicKey: Uint8Array; created: boolean }> {
    return this.#tools.exclusive(async () => {
      const present = await this.#persistentHandles();
      const missing = [this.#opts.keyHandle, this.#opts.akHandle].filter((h) => !present.has(h));
      if (missing.length > 0) {
        if (!create) {
          throw new IdentityError('ENOIDENTITY', `TPM holds no key at ${missing.map(handleText).join(', ')}`);
        }
        await this.#provision(missing);
      }
      const publicKey = await this.#readPublic(this.#opts.keyHandle, false);
      const akPublicKey = await this.#readPublic(this.#opts.akHandle, true);
      return { signer: this.#signer(publicKey), akPublicKey, created: missing.length > 0 };
    });
  }

  /** Resets the PCR and extends `digests` into its SHA-256 bank, in order. */
  async measure(digests: readonly Uint8Array[]): Promise<void> {
    await this.#tools.exclusive(async () => {
      await this.#tools.runNow('tpm2_pcrreset', [String(this.#opts.pcr)]);
      for (const d of digests) {
        await this.#tools.runNow('tpm2_pcrextend', [
          `${this.#opts.pcr}:sha256=${Buffer.from(d).toString('hex')}`,
        ]);
      }
    });
  }

  /** A quote of the PCR over `nonce` (8..64 bytes) by the AK. */
  async quote(nonce: Uint8Array, akPublicKey: Uint8Array): Promise<TpmQuote> {
    if (!(nonce instanceof Uint8Array) || nonce.length < 1 || nonce.length > 64) {
      throw new TypeError('nonce must be 1..64 bytes (a TPM2B_DATA)');
    }
    return this.#tools.exclusive(async () => {
      const dir = await this.#dir();
      const id = randomBytes(4).toString('hex');
      const [msg, sig, pcrs] = ['msg', 'sig', 'pcrs'].map((s) => path.join(dir, `quote-${id}.${s}`)) as [
        string,
        string,
        string,
      ];
      try {
        await this.#tools.runNow('tpm2_quote', [
          ...['-c', handleText(this.#opts.akHandle), '-l', `sha256:${this.#opts.pcr}`],
          ...['-q', Buffer.from(nonce).toString('hex'), '-g', 'sha256'],
          ...['-m', msg, '-s', sig, '-f', 'plain', '-o', pcrs, '-F', 'values', '-Q'],
        ]);
        const value = new Uint8Array(await readFile(pcrs));
        if (value.length !== 32)
          throw new IdentityError('ETPM', `tpm2_quote wrote ${value.length} PCR bytes, expected 32`);
        return {
          ak: akPublicKey,
          attest: new Uint8Array(await readFile(msg)),
          signature: ecdsaDerToRaw(new Uint8Array(await readFile(sig))),
          pcr: this.#opts.pcr,
          value,
        };
      } finally {
        await Promise.all([msg, sig, pcrs].map((f) => rm(f, { force: true })));
      }
    });
  }

  /** Removes the scratch directory if this instance made it. */
  async close(): Promise<void> {
    if (this.#workDir && !this.#opts.workDir) await rm(this.#workDir, { recursive: true, force: true });
    this.#workDir = undefined;
  }

  #signer(publicKey: Uint8Array): DeviceSigner {
    return {
      alg: ALG_ES256,
      publicKey,
      kid: deviceKidOf(publicKey),
      sign: (message) =>
        this.#tools.exclusive(async () => {
          const dir = await this.#dir();
          const id = randomBytes(4).toString('hex');
          const digestFile = path.join(dir, `sign-${id}.digest`);
          const sigFile = path.join(dir, `sign-${id}.sig`);
          try {
            // Hash here and sign the digest (-d): one TPM command instead of a hash sequence.
            await writeFile(digestFile, createHash('sha256').update(message).digest());
            await this.#tools.runNow('tpm2_sign', [
              ...['-c', handleText(this.#opts.keyHandle), '-g', 'sha256', '-s', 'ecdsa', '-d'],
              ...['-f', 'plain', '-o', sigFile, digestFile],
            ]);
            return ecdsaDerToRaw(new Uint8Array(await readFile(sigFile)));
          } finally {
            await Promise.all([digestFile, sigFile].map((f) => rm(f, { force: true })));
          }
        }),
    };
  }

  async #provision(missing: readonly number[]): Promise<void> {
    const dir = await this.#dir();
    const primary = path.join(dir, 'primary.ctx');
    const run = (tool: string, args: string[]) => this.#tools.runNow(tool, args);
    await run('tpm2_flushcontext', ['-t']).catch(() => undefined);
    try {
      await run('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', primary, '-Q']);
      await run('tpm2_flushcontext', ['-t']);
      for (const handle of missing) {
        const restricted = handle === this.#opts.akHandle;
        const pub = path.join(dir, `key-${handle.toString(16)}.pub`);
        const priv = path.join(dir, `key-${handle.toString(16)}.priv`);
        const ctx = path.join(dir, `key-${handle.toString(16)}.ctx`);
        try {
          // A restricted signing key must name its scheme and have a null symmetric algorithm.
          await run('tpm2_create', [
            ...['-C', primary, '-G', restricted ? 'ecc256:ecdsa-sha256:null' : 'ecc256:ecdsa-sha256'],
            ...['-a', restricted ? AK_ATTRS : KEY_ATTRS, '-u', pub, '-r', priv, '-Q'],
          ]);
          await run('tpm2_flushcontext', ['-t']);
          await run('tpm2_load', ['-C', primary, '-u', pub, '-r', priv, '-c', ctx, '-Q']);
          await run('tpm2_evictcontrol', ['-C', 'o', '-c', ctx, handleText(handle), '-Q']);
        } finally {
          await run('tpm2_flushcontext', ['-t']).catch(() => undefined);
          await Promise.all([pub, priv, ctx].map((f) => rm(f, { force: true })));
        }
      }
    } finally {
      await rm(primary, { force: true });
    }
  }

  async #persistentHandles(): Promise<Set<number>> {
    const out = await this.#tools.runNow('tpm2_getcap', ['handles-persistent']);
    return new Set([...out.matchAll(/0x([0-9a-fA-F]{8})/g)].map((m) => Number.parseInt(m[1]!, 16)));
  }

  /** The P-256 point at `handle`, after checking the key is the kind we made there. */
  async #readPublic(handle: number, restricted: boolean): Promise<Uint8Array> {
    const out = await this.#tools.runNow('tpm2_readpublic', ['-c', handleText(handle)]);
    const attrs = /^attributes:\s*\n\s*value:\s*(\S+)/m.exec(out)?.[1]?.split('|') ?? [];
    const curve = /^curve-id:\s*\n\s*value:\s*(.+)$/m.exec(out)?.[1]?.trim();
    const want = (restricted ? AK_ATTRS : KEY_ATTRS).split('|');
    const wrongAttrs =
      !want.every((a) => attrs.includes(a)) ||
      (!restricted && attrs.includes('restricted')) ||
      attrs.includes('decrypt');
    if (curve !== 'NIST p256' || wrongAttrs) {
      throw new IdentityError(
        'ETPM',
        `TPM handle ${handleText(handle)} holds ${curve ?? 'a non-ECC key'} (${attrs.join('|') || 'no attributes'}), not the ${restricted ? 'restricted ' : ''}P-256 signing key edge-agent makes there`,
      );
    }
    const coord = (name: string) => {
      const text = new RegExp(`^${name}:\\s*([0-9a-fA-F]+)\\s*$`, 'm').exec(out)?.[1];
      if (!text || text.length > 64)
        throw new IdentityError('ETPM', `tpm2_readpublic gave no usable ${name}`);
      return Buffer.from(text.padStart(64, '0'), 'hex');
    };
    return new Uint8Array(Buffer.concat([Buffer.of(0x04), coord('x'), coord('y')]));
  }

  async #dir(): Promise<string> {
    if (this.#workDir) return this.#workDir;
    if (this.#opts.workDir) await ensurePrivateDir(this.#opts.workDir);
    this.#workDir = this.#opts.workDir ?? (await mkdtemp(path.join(tmpdir(), 'edge-agent-tpm-')));
    return this.#workDir;
  }
}

function handleText(handle: number): string {
  return `0x${handle.toString(16).padStart(8, '0')}`;
}
