/**
 * The identity, attest and fleet configuration sections: defaults that run a software identity with
 * the channel's limits, TPM handles written as YAML hex or text, and mistakes named by field.
 */
import { describe, expect, it } from 'vitest';
import { identitySettingsFrom } from '../../../agent/attest/attest-schema.js';
import { agentConfigSchema } from '../../../agent/config/agent-schema.js';

describe('identity, attest and fleet configuration', () => {
  it('defaults to a software identity and the documented channel limits', () => {
    const c = agentConfigSchema.parse({});
    expect(c.identity).toMatchObject({
      backend: 'software',
      signTelemetry: false,
      tpm: { tcti: 'device:/dev/tpmrm0', keyHandle: 0x81010020, akHandle: 0x81010021, pcr: 23 },
    });
    expect(c.fleet).toEqual({
      clockSkewMs: 60_000,
      maxTtlS: 3600,
      maxCommandBytes: 65_536,
      replayCacheEntries: 4096,
      maxQueued: 32,
      rejectReportsPerMinute: 30,
    });
    expect(identitySettingsFrom({ ...c, deviceId: 'GW-1' }, '/var/lib/edge-agent')).toMatchObject({
      backend: 'software',
      dir: '/var/lib/edge-agent/identity',
      serial: 'GW-1',
    });
  });

  it('reads TPM handles as numbers or 0x text, and refuses non-persistent or equal handles', () => {
    expect(
      agentConfigSchema.parse({ identity: { tpm: { keyHandle: '0x81000100' } } }).identity.tpm.keyHandle,
    ).toBe(0x81000100);
    const bad = agentConfigSchema.safeParse({ identity: { tpm: { keyHandle: 0x80000001 } } });
    expect(bad.success ? '' : bad.error.issues[0]!.path.join('.')).toBe('identity.tpm.keyHandle');
    const same = agentConfigSchema.safeParse({ identity: { tpm: { keyHandle: 0x81010021 } } });
    expect(same.success ? '' : same.error.issues[0]!.message).toMatch(/must differ/);
  });

  it('takes fleet trust as a root or as keys with a threshold, and nothing else', () => {
    expect(agentConfigSchema.parse({ fleet: { trust: { keys: ['a.pem'] } } }).fleet.trust).toEqual({
      keys: ['a.pem'],
      threshold: 1,
    });
    expect(agentConfigSchema.safeParse({ fleet: { trust: { url: 'https://x' } } }).success).toBe(false);
  });
});
