/**
 * Every check the device makes on an offered manifest, in one call, for tests: `verifySignedManifest`
 * then `checkManifest`, the order agent/ota/manifest.ts's header gives. The agent itself runs the two
 * steps separately (check-offer.ts), so this composition is not shipped.
 */
import {
  checkManifest,
  type VerifyContext,
  type VerifyResult,
  verifySignedManifest,
} from '../../agent/ota/manifest.js';

export function verifyManifest(bytes: Uint8Array, ctx: VerifyContext): VerifyResult {
  const signed = verifySignedManifest(bytes, ctx.trust);
  if (!signed.ok) return signed;
  const problem = checkManifest(signed.manifest, ctx);
  return problem ?? signed;
}
