/**
 * The JSON shape `manifest create` and `manifest verify` print: the manifest's fields with byte strings
 * in lowercase hex, plus `kids`, the key ids of the signers (of the verified signatures, for verify).
 */
import type { Manifest } from '../../ota/manifest.js';

export function manifestJson(m: Manifest, kids: readonly Uint8Array[]): Record<string, unknown> {
  return {
    v: m.v,
    component: m.component,
    version: m.version,
    seq: m.seq,
    hw: m.hw,
    size: m.size,
    sha256: hex(m.sha256),
    format: m.format,
    ...(m.url !== undefined ? { url: m.url } : {}),
    ...(m.expires !== undefined ? { expires: m.expires } : {}),
    ...(m.created !== undefined ? { created: m.created } : {}),
    ...(m.chunk !== undefined ? { chunk: m.chunk, chunks: (m.chunks ?? []).map(hex) } : {}),
    kids: kids.map(hex),
  };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
