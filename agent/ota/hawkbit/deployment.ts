/**
 * Which artifacts of a hawkBit deployment this device installs. The COSE manifest stays the authority:
 * a payload is installed only with its signed manifest beside it, an artifact named `<payload>.cose`
 * in the same chunk (software module); the manifest names the component and carries the hashes, and
 * hawkBit's own SHA-256 and size of the payload must agree with it. One signed payload per action:
 * the OTA manager installs one component at a time, each with its own trial boot, so a distribution
 * of several is refused with a reason rather than half installed.
 */
import type { DdiArtifact, DdiDeploymentBase } from './ddi-types.js';

export type ArtifactChoice =
  | {
      readonly ok: true;
      readonly payload: DdiArtifact;
      readonly manifest: DdiArtifact;
      readonly module: string;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export const MANIFEST_SUFFIX = '.cose';

export function chooseArtifacts(deployment: DdiDeploymentBase['deployment']): ArtifactChoice {
  const pairs: { payload: DdiArtifact; manifest: DdiArtifact; module: string }[] = [];
  const unsigned: string[] = [];
  for (const chunk of deployment.chunks) {
    const byName = new Map(chunk.artifacts.map((a) => [a.filename, a]));
    for (const a of chunk.artifacts) {
      if (a.filename.endsWith(MANIFEST_SUFFIX)) continue;
      const manifest = byName.get(`${a.filename}${MANIFEST_SUFFIX}`);
      if (manifest) pairs.push({ payload: a, manifest, module: `${chunk.name} ${chunk.version}` });
      else unsigned.push(a.filename);
    }
  }
  if (pairs.length === 1 && unsigned.length === 0) return { ok: true, ...pairs[0]! };
  if (pairs.length === 0) {
    return {
      ok: false,
      reason: 'no-manifest',
      message:
        unsigned.length > 0
          ? `no signed manifest beside ${unsigned.join(', ')} (expected ${unsigned[0]}${MANIFEST_SUFFIX} in the same software module)`
          : 'the deployment has no artifacts',
    };
  }
  return {
    ok: false,
    reason: 'several-payloads',
    message: `one signed payload per action, found ${[...pairs.map((p) => p.payload.filename), ...unsigned].join(', ')}`,
  };
}

/** hawkBit's hash and size of the payload against the manifest's: both must describe the same bytes. */
export function agreesWithManifest(
  payload: DdiArtifact,
  manifest: { readonly sha256: string; readonly sizeBytes: number },
): string | undefined {
  if (payload.hashes.sha256.toLowerCase() !== manifest.sha256) {
    return `hawkBit's sha256 of ${payload.filename} (${payload.hashes.sha256}) is not the signed manifest's (${manifest.sha256})`;
  }
  if (payload.size !== manifest.sizeBytes) {
    return `hawkBit's size of ${payload.filename} (${payload.size} bytes) is not the signed manifest's (${manifest.sizeBytes})`;
  }
  return undefined;
}

/** The action id in a `…/deploymentBase/{id}` or `…/cancelAction/{id}` link. */
export function actionIdOf(href: string): string | undefined {
  return /\/(?:deploymentBase|cancelAction|installedBase)\/([^/?#]+)/.exec(new URL(href).pathname)?.[1];
}
