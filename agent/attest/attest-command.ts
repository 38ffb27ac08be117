/**
 * `attest {nonce}`: signed attestation evidence over the caller's nonce (8..64 bytes: a CBOR byte
 * string from the fleet, or hex text from the console). The fleet gets the COSE_Sign1 bytes as a byte
 * string; the console, which shows text, gets them base64-encoded to copy into `attest verify`.
 */
import { z } from 'zod';
import type { CommandRegistry } from '../commands/registry.js';
import { algName } from './device-key.js';
import { type Attester, MAX_NONCE_BYTES, MIN_NONCE_BYTES } from './evidence.js';

const nonceArg = z.union([
  z
    .string()
    .regex(
      new RegExp(`^([0-9a-fA-F]{2}){${MIN_NONCE_BYTES},${MAX_NONCE_BYTES}}$`),
      `expected ${MIN_NONCE_BYTES}..${MAX_NONCE_BYTES} bytes as hex`,
    )
    .transform((h) => new Uint8Array(Buffer.from(h, 'hex'))),
  z.instanceof(Uint8Array).refine((b) => b.length >= MIN_NONCE_BYTES && b.length <= MAX_NONCE_BYTES, {
    message: `expected ${MIN_NONCE_BYTES}..${MAX_NONCE_BYTES} bytes`,
  }),
]);

export function registerAttestCommand(
  registry: CommandRegistry,
  deps: { readonly attester: Attester; readonly signer: { readonly alg: -8 | -7; readonly kid: Uint8Array } },
): void {
  registry.register({
    name: 'attest',
    summary: 'attestation evidence (EAT, COSE_Sign1 by the device key) over a nonce',
    args: z.strictObject({ nonce: nonceArg }),
    run: async ({ nonce }, ctx) => {
      const evidence = await deps.attester.evidence(nonce);
      return {
        evidence: ctx.via === 'console' ? Buffer.from(evidence).toString('base64') : evidence,
        sizeBytes: evidence.length,
        alg: algName(deps.signer.alg),
        kid: Buffer.from(deps.signer.kid).toString('hex'),
      };
    },
  });
}
