/**
 * Attestation evidence: the EAT claims set (eat.ts) signed as COSE_Sign1 by the device key. The
 * measurements are taken once, at `start()`, in the background — a slot image may take seconds to hash,
 * and what runs does not change until the next start — and on a TPM identity extended into the PCR
 * right after, in the order they appear in the claim. `evidence(nonce)` waits for that, then adds the
 * live claims (uptime, the device's clock) and, with a TPM, a quote over the PCR with the same nonce.
 * A measurement that cannot be taken fails every `evidence()` call with its reason rather than
 * producing evidence with a hole in it.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { BootClaims } from './boot-count.js';
import { signDeviceCose1 } from './device-cose.js';
import { EAT_PROFILE, type EvidenceClaims, encodeClaims, type Measurement, UEID_RAND } from './eat.js';
import type { Identity } from './identity.js';

export interface MeasurementSource {
  readonly name: string;
  measure(): Promise<Uint8Array>;
}

export interface AttesterDeps {
  readonly identity: Pick<Identity, 'deviceId' | 'signer' | 'tpm'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly sources: readonly MeasurementSource[];
  /** Boot count and seed (boot-count.ts), read once at start. */
  bootClaims(): Promise<BootClaims>;
  /** Seconds since the system booted. */
  uptimeS(): number;
  /** Whether the last update rolled back; undefined when there is no OTA (claim left out). */
  lastUpdateRolledBack?(): Promise<boolean | undefined>;
}

export interface AttesterOptions {
  readonly swName: string;
  readonly swVersion: string;
}

interface Baseline {
  readonly measurements: readonly Measurement[];
  readonly boot: BootClaims;
}

export const MIN_NONCE_BYTES = 8;
export const MAX_NONCE_BYTES = 64;

export class Attester {
  readonly #d: AttesterDeps;
  readonly #opts: AttesterOptions;
  readonly #ueid: Uint8Array;
  #baseline: Promise<Baseline> | undefined;

  constructor(deps: AttesterDeps, options: AttesterOptions) {
    this.#d = deps;
    this.#opts = options;
    const names = deps.sources.map((s) => s.name);
    if (new Set(names).size !== names.length)
      throw new TypeError(`sources must have distinct names: ${names.join(', ')}`);
    this.#ueid = Uint8Array.of(
      UEID_RAND,
      ...createHash('sha256').update(deps.identity.signer.publicKey).digest(),
    );
  }

  /** Starts measuring (and extending the TPM PCR) in the background; returns at once. */
  start(): void {
    if (this.#baseline) return;
    const started = this.#d.clock.monotonicMs();
    this.#baseline = this.#measure();
    this.#baseline.then(
      (b) =>
        this.#d.log.info(
          {
            measurements: Object.fromEntries(
              b.measurements.map((m) => [m.name, Buffer.from(m.digest).toString('hex')]),
            ),
            tookMs: Math.round(this.#d.clock.monotonicMs() - started),
            tpmPcr: this.#d.identity.tpm?.pcr,
          },
          'attest: measured',
        ),
      (e: unknown) =>
        this.#d.log.error({ err: errorMessage(e) }, 'attest: measuring failed; evidence unavailable'),
    );
  }

  /** The measurements taken at start (starting them if `start` was not called). */
  async measurements(): Promise<readonly Measurement[]> {
    this.start();
    return (await this.#baseline!).measurements;
  }

  /** Signed evidence over `nonce` (8..64 bytes, RFC 9711 §4.1). */
  async evidence(nonce: Uint8Array): Promise<Uint8Array> {
    if (!(nonce instanceof Uint8Array) || nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_NONCE_BYTES) {
      throw new TypeError(`nonce must be ${MIN_NONCE_BYTES}..${MAX_NONCE_BYTES} bytes`);
    }
    this.start();
    const { measurements, boot } = await this.#baseline!;
    const { identity, clock } = this.#d;
    const [rolledBack, tpmQuote] = await Promise.all([
      this.#d.lastUpdateRolledBack?.(),
      identity.tpm?.quote(nonce),
    ]);
    const claims: EvidenceClaims = {
      nonce,
      ueid: this.#ueid,
      deviceId: identity.deviceId,
      iat: Math.floor(clock.nowMs() / 1000),
      profile: EAT_PROFILE,
      swName: this.#opts.swName,
      swVersion: this.#opts.swVersion,
      measurements,
      uptimeS: Math.max(0, Math.floor(this.#d.uptimeS())),
      bootCount: boot.bootCount,
      bootSeed: boot.bootSeed,
      rolledBack,
      tpmQuote,
    };
    return signDeviceCose1(encodeClaims(claims), identity.signer);
  }

  async #measure(): Promise<Baseline> {
    const measurements: Measurement[] = [];
    for (const source of this.#d.sources) {
      try {
        const digest = await source.measure();
        if (digest.length !== 32) throw new TypeError(`measured ${digest.length} bytes, expected a SHA-256`);
        measurements.push({ name: source.name, digest });
      } catch (e) {
        throw new Error(`cannot measure ${source.name}: ${errorMessage(e)}`, { cause: e });
      }
    }
    const boot = await this.#d.bootClaims();
    await this.#d.identity.tpm?.measure(measurements.map((m) => m.digest));
    return { measurements, boot };
  }
}
