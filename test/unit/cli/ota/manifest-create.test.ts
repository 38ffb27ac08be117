import { describe, expect, it } from 'vitest';
import { defaultChunkBytes } from '../../../../agent/cli/ota/manifest-create.js';
import { MAX_CHUNK_BYTES } from '../../../../agent/ota/check-offer.js';
import { MANIFEST_LIMITS } from '../../../../agent/ota/manifest.js';

const MiB = 1 << 20;

describe('the default chunk of manifest create', () => {
  it('is 1 MiB while the payload fits in the chunk limit, then doubles, up to what devices take', () => {
    expect(defaultChunkBytes(1)).toBe(MiB);
    expect(defaultChunkBytes(MANIFEST_LIMITS.maxChunks * MiB)).toBe(MiB);
    expect(defaultChunkBytes(MANIFEST_LIMITS.maxChunks * MiB + 1)).toBe(2 * MiB);
    expect(defaultChunkBytes(MANIFEST_LIMITS.maxChunks * 5 * MiB)).toBe(8 * MiB);
    expect(defaultChunkBytes(Number.MAX_SAFE_INTEGER)).toBe(MAX_CHUNK_BYTES);
  });
});
