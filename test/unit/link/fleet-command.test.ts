/**
 * The stateless checks on a fleet command, as a rejection table (each row one property violated and
 * everything else valid), the time rule with and without a trusted wall clock, hand-written hostile
 * CBOR, and fast-check properties: arbitrary and mutated bytes are refused, never thrown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, signCose } from '../../../agent/core/cose.js';
import {
  type CheckContext,
  checkFleetCommand,
  decodeCommand,
  encodeFleetCommand,
  type FleetCommand,
  signFleetCommand,
} from '../../../agent/link/fleet-command.js';
import { cbor } from '../../support/hand-cbor.js';

const fleet = generateKeyPair();
const fleet2 = generateKeyPair();
const NOW_S = 1_767_225_600; // 2026-01-01T00:00:00Z

function ctx(extra: Partial<CheckContext> = {}): CheckContext {
  return {
    trustKeys: [fleet.publicKey, fleet2.publicKey],
    threshold: 1,
    deviceId: 'gw-0042',
    nowMs: NOW_S * 1000,
    clockTrusted: true,
    skewMs: 60_000,
    maxTtlS: 3600,
    maxBytes: 4096,
    ...extra,
  };
}

function command(extra: Partial<FleetCommand> = {}): FleetCommand {
  return {
    id: 'c-0001',
    device: 'gw-0042',
    iat: NOW_S - 5,
    exp: NOW_S + 55,
    cmd: 'loop.setpoint',
    args: { loop: 'chamber', value: 21.5 },
    ...extra,
  };
}

describe('fleet command checks', () => {
  it('accept a command signed by a trusted fleet key for this device within its window', () => {
    const r = checkFleetCommand(signFleetCommand(command(), [fleet]), ctx());
    expect(r).toMatchObject({ ok: true, command: command() });
  });

  it.each<[string, string, () => Uint8Array, Partial<CheckContext>?]>([
    [
      'signed by a key not in the trust root',
      'unknown-key',
      () => signFleetCommand(command(), [generateKeyPair()]),
    ],
    [
      'with a signature that does not verify',
      'bad-signature',
      () => {
        const b = signFleetCommand(command(), [fleet]);
        b[b.length - 1]! ^= 1;
        return b;
      },
    ],
    [
      'signed by fewer keys than the threshold',
      'below-threshold',
      () => signFleetCommand(command(), [fleet]),
      { threshold: 2 },
    ],
    ['for another device', 'wrong-device', () => signFleetCommand(command({ device: 'gw-0043' }), [fleet])],
    [
      'expired (exp + skew before now)',
      'expired',
      () => signFleetCommand(command({ iat: NOW_S - 200, exp: NOW_S - 61 }), [fleet]),
    ],
    [
      'not yet valid (iat - skew after now)',
      'not-yet-valid',
      () => signFleetCommand(command({ iat: NOW_S + 61, exp: NOW_S + 120 }), [fleet]),
    ],
    [
      'valid for longer than the limit',
      'ttl-too-long',
      () => signFleetCommand(command({ exp: NOW_S + 3600 }), [fleet]),
    ],
    ['with exp before iat', 'bad-payload', () => signFleetCommand(command({ exp: NOW_S - 10 }), [fleet])],
    [
      'larger than the size limit',
      'too-large',
      () => signFleetCommand(command({ args: { blob: 'x'.repeat(5000) } }), [fleet]),
    ],
    [
      'with an unknown field (a constraint this agent would ignore)',
      'bad-payload',
      () =>
        signCose(
          cbor.map([
            [cbor.tstr('v'), cbor.uint(1)],
            [cbor.tstr('only-on'), cbor.tstr('tuesday')],
          ]),
          [fleet],
        ),
    ],
    ['with a payload that is not CBOR', 'bad-payload', () => signCose(Uint8Array.of(0xff, 0x00), [fleet])],
    ['that is not COSE at all', 'bad-cose', () => new TextEncoder().encode('{"cmd":"reboot"}')],
  ])('refuse a command %s (%s)', (_what, code, make, extra) => {
    expect(checkFleetCommand(make(), ctx(extra))).toMatchObject({ ok: false, code });
  });

  it('accept a threshold of distinct fleet keys as COSE_Sign', () => {
    expect(
      checkFleetCommand(signFleetCommand(command(), [fleet, fleet2]), ctx({ threshold: 2 })),
    ).toMatchObject({
      ok: true,
    });
  });

  it('tell the id and name of an authentic command that was refused, but nothing of an unauthentic one', () => {
    const wrongDevice = checkFleetCommand(signFleetCommand(command({ device: 'gw-9' }), [fleet]), ctx());
    expect(wrongDevice).toMatchObject({ ok: false, command: { id: 'c-0001', cmd: 'loop.setpoint' } });
    const forged = checkFleetCommand(signFleetCommand(command(), [generateKeyPair()]), ctx());
    expect(forged).not.toHaveProperty('command');
  });

  it('accept an iat ahead of an untrusted wall clock (a Pi booted without RTC), still judging exp', () => {
    const ahead = signFleetCommand(command({ iat: NOW_S + 86_400, exp: NOW_S + 86_460 }), [fleet]);
    expect(checkFleetCommand(ahead, ctx())).toMatchObject({ ok: false, code: 'not-yet-valid' });
    expect(checkFleetCommand(ahead, ctx({ clockTrusted: false }))).toMatchObject({ ok: true });
    const expired = signFleetCommand(command({ iat: NOW_S - 200, exp: NOW_S - 100 }), [fleet]);
    expect(checkFleetCommand(expired, ctx({ clockTrusted: false }))).toMatchObject({
      ok: false,
      code: 'expired',
    });
  });

  it('carry arguments of every CBOR kind a command may need through encode and decode', () => {
    const args = {
      text: 'a',
      int: -3,
      float: 21.5,
      bool: true,
      none: null,
      list: [1, 'b'],
      nested: { k: { v: 1 } },
    };
    const decoded = decodeCommand(encodeFleetCommand(command({ args })));
    expect(decoded).toMatchObject({ ok: true, command: { args } });
  });

  it('refuse argument maps with non-text keys', () => {
    const payload = cbor.map([
      [cbor.tstr('v'), cbor.uint(1)],
      [cbor.tstr('id'), cbor.tstr('x')],
      [cbor.tstr('device'), cbor.tstr('gw-0042')],
      [cbor.tstr('iat'), cbor.uint(NOW_S)],
      [cbor.tstr('exp'), cbor.uint(NOW_S + 10)],
      [cbor.tstr('cmd'), cbor.tstr('status')],
      [cbor.tstr('args'), cbor.map([[cbor.uint(1), cbor.uint(2)]])],
    ]);
    expect(checkFleetCommand(signCose(payload, [fleet]), ctx())).toMatchObject({
      ok: false,
      code: 'bad-payload',
      reason: expect.stringMatching(/keys must be text/),
    });
  });

  it.each([
    [
      'a duplicate map key',
      cbor.map([
        [cbor.tstr('v'), cbor.uint(1)],
        [cbor.tstr('v'), cbor.uint(1)],
      ]),
    ],
    ['an indefinite-length map', Uint8Array.of(0xbf, 0x61, 0x76, 0x01, 0xff)],
    ['a tag inside', cbor.map([[cbor.tstr('v'), cbor.tag(1, cbor.uint(1))]])],
    ['trailing bytes', Uint8Array.of(...cbor.map([[cbor.tstr('v'), cbor.uint(1)]]), 0x00)],
  ])('refuse a signed payload with %s as malformed CBOR', (_what, payload) => {
    expect(checkFleetCommand(signCose(payload, [fleet]), ctx())).toMatchObject({
      ok: false,
      code: 'bad-payload',
      reason: expect.stringMatching(/malformed CBOR/),
    });
  });

  it('never throw on arbitrary bytes, arbitrary signed payloads, or mutations of a valid command', () => {
    const valid = signFleetCommand(command(), [fleet]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(checkFleetCommand(bytes, ctx()).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (payload) => {
        const r = checkFleetCommand(signCose(payload, [fleet]), ctx());
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const b = new Uint8Array(valid);
        b[at]! ^= xor;
        expect(checkFleetCommand(b, ctx()).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
