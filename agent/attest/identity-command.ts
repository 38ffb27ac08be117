/**
 * `identity`: who this device says it is — the device id (the MQTT topic level and the fleet's name
 * for it), where its key lives (`software` or `tpm`), the algorithm, the key id and the public key's
 * SHA-256 fingerprint a technician reads out to the fleet operator, and since when the binding holds.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CommandRegistry } from '../commands/registry.js';
import { algName, hex } from './device-key.js';
import type { Identity } from './identity.js';

export function registerIdentityCommand(
  registry: CommandRegistry,
  identity: Pick<Identity, 'deviceId' | 'backend' | 'signer' | 'createdWallMs'>,
): void {
  registry.register({
    name: 'identity',
    summary: 'the device id, where its key lives, the key id and the public key fingerprint',
    args: z.strictObject({}),
    run: async () => ({
      deviceId: identity.deviceId,
      keyStore: identity.backend,
      alg: algName(identity.signer.alg),
      kid: hex(identity.signer.kid),
      fingerprint: `SHA256:${createHash('sha256').update(identity.signer.publicKey).digest('base64url')}`,
      since: new Date(identity.createdWallMs).toISOString(),
    }),
  });
}
