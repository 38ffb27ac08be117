/**
 * The device identity: one signing key (software Ed25519 in a 0600 file, or a P-256 key inside a TPM)
 * and the device id bound to it. On first start the key is made and `identity/identity.json` records
 * the binding — backend, public key, kid and device id. The id is the kid in RFC 4648 §6 base32, lower
 * case and unpadded (13 characters of a–z 2–7, a valid MQTT topic level), or a serial from the configuration (`deviceId:`), bound at
 * that first start. Afterwards the binding is the truth: a different key, backend or serial in the
 * configuration is refused (`EBINDING`) instead of silently becoming another device; moving the
 * identity directory away is the deliberate way to re-provision.
 */
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { equalBytes } from '../core/cose.js';
import { ensurePrivateDir, readIfExists, writeDurable } from '../core/durable-file.js';
import { algName, base32, type DeviceSigner, devicePublicKeyToPem, hex } from './device-key.js';
import { IdentityError } from './errors.js';
import { loadSoftwareKey } from './software-key.js';
import { TpmKey } from './tpm-key.js';
import type { TpmQuote } from './tpm-quote.js';
import { type RunTool, Tpm2Tools } from './tpm2-tools.js';

export interface TpmSettings {
  readonly tcti: string;
  readonly keyHandle: number;
  readonly akHandle: number;
  readonly pcr: number;
  readonly timeoutMs: number;
}

export interface IdentitySettings {
  readonly backend: 'software' | 'tpm';
  /** Where the identity lives (`<stateDir>/identity`). */
  readonly dir: string;
  /** A serial to use as the device id instead of the derived one (bound at first start). */
  readonly serial?: string | undefined;
  readonly tpm?: TpmSettings | undefined;
}

/** What a TPM identity adds: measurements extended into a PCR, and quotes over it. */
export interface TpmAttestation {
  readonly pcr: number;
  readonly akPublicKey: Uint8Array;
  measure(digests: readonly Uint8Array[]): Promise<void>;
  quote(nonce: Uint8Array): Promise<TpmQuote>;
}

export interface Identity {
  readonly deviceId: string;
  readonly backend: 'software' | 'tpm';
  readonly signer: DeviceSigner;
  readonly tpm: TpmAttestation | undefined;
  /** The identity was made by this load. */
  readonly created: boolean;
  /** Wall time the identity was made (POSIX ms, as the clock said then). */
  readonly createdWallMs: number;
  publicKeyPem(): string;
  close(): Promise<void>;
}

interface Binding {
  readonly v: 1;
  readonly backend: 'software' | 'tpm';
  readonly alg: 'EdDSA' | 'ES256';
  readonly publicKey: string;
  readonly kid: string;
  readonly deviceId: string;
  readonly createdWallMs: number;
}

export interface IdentityDeps {
  readonly clock: Clock;
  /** Seam for tests: runs tpm2-tools (default: execFile). */
  readonly runTool?: RunTool;
}

/**
 * Loads the identity in `settings.dir`, making it first when `create` (the agent at start); without
 * `create` a missing identity is `ENOIDENTITY` (e.g. `identity show` before the first start).
 */
export async function loadIdentity(
  settings: IdentitySettings,
  deps: IdentityDeps,
  options: { create: boolean },
): Promise<Identity> {
  if (options.create) await ensurePrivateDir(settings.dir);
  let signer: DeviceSigner;
  let created: boolean;
  let tpm: TpmAttestation | undefined;
  let close: () => Promise<void> = async () => undefined;
  if (settings.backend === 'software') {
    ({ signer, created } = await loadSoftwareKey(path.join(settings.dir, 'device.key'), options));
  } else {
    const t = settings.tpm;
    if (!t) throw new TypeError('settings.tpm is required for the tpm backend');
    const tools = new Tpm2Tools({ tcti: t.tcti, timeoutMs: t.timeoutMs }, deps.runTool);
    const key = new TpmKey(tools, { keyHandle: t.keyHandle, akHandle: t.akHandle, pcr: t.pcr });
    let akPublicKey: Uint8Array;
    try {
      ({ signer, akPublicKey, created } = await key.load(options.create));
    } catch (e) {
      await key.close();
      throw e;
    }
    tpm = {
      pcr: t.pcr,
      akPublicKey,
      measure: (digests) => key.measure(digests),
      quote: (nonce) => key.quote(nonce, akPublicKey),
    };
    close = () => key.close();
  }
  try {
    const binding = await bind(settings, signer, deps.clock, options.create);
    return {
      deviceId: binding.deviceId,
      backend: settings.backend,
      signer,
      tpm,
      created,
      createdWallMs: binding.createdWallMs,
      publicKeyPem: () => devicePublicKeyToPem(signer.publicKey),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function bind(
  settings: IdentitySettings,
  signer: DeviceSigner,
  clock: Clock,
  create: boolean,
): Promise<Binding> {
  const file = path.join(settings.dir, 'identity.json');
  const text = await readIfExists(file);
  if (text === undefined) {
    if (!create) throw new IdentityError('ENOIDENTITY', `${file}: no identity yet (start the agent once)`);
    const binding: Binding = {
      v: 1,
      backend: settings.backend,
      alg: algName(signer.alg),
      publicKey: hex(signer.publicKey),
      kid: hex(signer.kid),
      deviceId: settings.serial ?? base32(signer.kid),
      createdWallMs: clock.nowMs(),
    };
    try {
      await writeDurable(file, `${JSON.stringify(binding, null, 2)}\n`, { mode: 0o644, exclusive: true });
      return binding;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return bind(settings, signer, clock, false);
    }
  }
  const binding = parseBinding(file, text);
  const fix = `move ${settings.dir} away to make a new identity`;
  if (binding.backend !== settings.backend) {
    throw new IdentityError(
      'EBINDING',
      `${file}: the identity is ${binding.backend}-backed but the configuration asks for ${settings.backend}; ${fix}`,
    );
  }
  if (!equalBytes(Buffer.from(binding.publicKey, 'hex'), signer.publicKey)) {
    throw new IdentityError(
      'EBINDING',
      `${file}: the device key is not the key bound to ${binding.deviceId}; ${fix}`,
    );
  }
  if (settings.serial !== undefined && settings.serial !== binding.deviceId) {
    throw new IdentityError(
      'EBINDING',
      `${file}: this device is bound to the id ${binding.deviceId}, but the configuration says deviceId ${settings.serial}; ${fix}`,
    );
  }
  return binding;
}

function parseBinding(file: string, text: Buffer): Binding {
  try {
    const b = JSON.parse(text.toString('utf8')) as Partial<Binding>;
    if (
      b.v === 1 &&
      (b.backend === 'software' || b.backend === 'tpm') &&
      typeof b.publicKey === 'string' &&
      typeof b.deviceId === 'string' &&
      typeof b.createdWallMs === 'number'
    ) {
      return b as Binding;
    }
  } catch {
    // fall through to the error below
  }
  throw new IdentityError('EBINDING', `${file}: not an edge-agent identity binding`);
}
