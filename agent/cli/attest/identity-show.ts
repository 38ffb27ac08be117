/**
 * `edge-agent identity show [-c CONFIG] [-b BOARD] [--create] [--pem FILE]`: the device id and public
 * key of the identity the agent with this configuration uses, as JSON (and the public key as a PEM
 * file with `--pem`, for `attest verify --pubkey` and the fleet's registry). Without `--create` it only
 * reads: before the agent's first start there is no identity yet (exit 1 saying so).
 */

import { algName, hex } from '../../attest/device-key.js';
import { isIdentityError } from '../../attest/errors.js';
import { type IdentitySettings, loadIdentity } from '../../attest/identity.js';
import type { RunTool } from '../../attest/tpm2-tools.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { CliError, type CliIo, EXIT_FAILED } from '../shared/cli-io.js';
import { writeOutputFile } from '../shared/output-file.js';

export interface IdentityShowOptions {
  readonly create?: boolean;
  readonly pem?: string;
}

export interface IdentityShowDeps {
  /** The identity settings from the agent's configuration. */
  settings(): Promise<IdentitySettings>;
  readonly clock: Clock;
  readonly runTool?: RunTool;
}

export async function identityShowCommand(
  opts: IdentityShowOptions,
  deps: IdentityShowDeps,
  io: CliIo,
): Promise<void> {
  const settings = await deps.settings();
  let identity: Awaited<ReturnType<typeof loadIdentity>>;
  try {
    identity = await loadIdentity(
      settings,
      { clock: deps.clock, ...(deps.runTool ? { runTool: deps.runTool } : {}) },
      { create: opts.create === true },
    );
  } catch (e) {
    const hint =
      isIdentityError(e) && e.code === 'ENOIDENTITY' ? ' (start the agent once, or pass --create)' : '';
    throw new CliError(EXIT_FAILED, `${errorMessage(e)}${hint}`, { cause: e });
  }
  try {
    const pem = identity.publicKeyPem();
    if (opts.pem) await writeOutputFile(opts.pem, pem, { mode: 0o644 });
    const { signer } = identity;
    io.out(
      `${JSON.stringify({
        deviceId: identity.deviceId,
        backend: identity.backend,
        alg: algName(signer.alg),
        kid: hex(signer.kid),
        publicKey: hex(signer.publicKey),
        created: identity.created,
        createdAt: new Date(identity.createdWallMs).toISOString(),
        ...(identity.tpm
          ? { tpm: { pcr: identity.tpm.pcr, akPublicKey: hex(identity.tpm.akPublicKey) } }
          : {}),
        publicKeyPem: pem,
      })}\n`,
    );
  } finally {
    await identity.close();
  }
}
