/**
 * Signed telemetry and events: through `signingTelemetryLink`, a batch published on the telemetry or
 * the events topic leaves as a device COSE_Sign1 whose payload is the batch, with its MQTT user
 * properties intact; other topics pass. The protected header names the payload by CoAP Content-Format
 * (RFC 9052 §3.1 `content type`, label 3: "Integers are from the 'CoAP Content-Formats' IANA registry
 * table"): 112 application/senml+cbor (RFC 8428 §12.3), 60 application/cbor (RFC 8949 §9.5). The
 * expected headers and Sig_structure are written by hand and the signature checked by @noble/curves,
 * so our COSE encoder is not its own witness.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { signDeviceCose1, verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import {
  createBatchSigner,
  SIGNED_BATCH_CONTENT_TYPE,
  signingTelemetryLink,
} from '../../../agent/attest/sign-batch.js';
import { deviceTopics } from '../../../agent/link/topics.js';
import type { Link, PublishOptions } from '../../../agent/link/types.js';
import { concatBytes } from '../../support/concat-bytes.js';
import { ed25519TestSigner, p256TestSigner } from '../../support/device-signers.js';
import { cbor, hexBytes } from '../../support/hand-cbor.js';

type Sent = { topic: string; payload: Uint8Array; options?: PublishOptions };

function recordingLink(sent: Sent[]): Link {
  return {
    deviceId: 'gw-1',
    topics: deviceTopics('edge', 'gw-1'),
    connected: true,
    status: () => ({
      state: 'up',
      url: 'mqtt://x',
      clientId: 'gw-1',
      upSinceWallMs: 0,
      reconnects: 0,
      lastError: undefined,
    }),
    publish: async (topic, payload, options) => {
      sent.push({ topic, payload, ...(options ? { options } : {}) });
    },
    subscribe: () => () => undefined,
    on: () => undefined,
    off: () => undefined,
  };
}

/** `18([h'<protected>', {4: kid}, ...` written by hand. */
function expectedHead(protectedHex: string, kid: Uint8Array): Uint8Array {
  return concatBytes([
    hexBytes('d2 84'),
    cbor.bstr(hexBytes(protectedHex)),
    hexBytes('a1 04'),
    cbor.bstr(kid),
  ]);
}

const senml = hexBytes('81 a2 00 61 78 02 01'); // [{0: "x", 2: 1}]
const events = hexBytes('81 a1 64 74797065 65 616c61726d'); // [{"type": "alarm"}]

describe('signed telemetry and event batches', () => {
  it('sign a SenML pack with protected {1: -8, 3: 112}, verifiable by an independent Ed25519', async () => {
    const sent: Sent[] = [];
    const signer = ed25519TestSigner();
    const link = signingTelemetryLink(recordingLink(sent), createBatchSigner(signer));
    await link.publish(link.topics.telemetry, senml, {
      qos: 1,
      userProperties: { boot: 'b', seq: '7' },
      contentType: 'application/senml+cbor',
    });
    expect(sent[0]).toMatchObject({
      topic: 'edge/gw-1/telemetry',
      options: { qos: 1, userProperties: { boot: 'b', seq: '7' }, contentType: SIGNED_BATCH_CONTENT_TYPE },
    });
    const bytes = sent[0]!.payload;
    const head = expectedHead('a2 01 27 03 18 70', signer.kid);
    expect(bytes.subarray(0, head.length)).toEqual(head);
    // Sig_structure (RFC 9052 §4.4): ["Signature1", protected, h'', payload]
    const tbs = cbor.array([
      cbor.tstr('Signature1'),
      cbor.bstr(hexBytes('a2 01 27 03 18 70')),
      cbor.bstr(new Uint8Array(0)),
      cbor.bstr(senml),
    ]);
    expect(ed25519.verify(bytes.subarray(bytes.length - 64), tbs, signer.publicKey)).toBe(true);
    expect(verifyDeviceCose1(bytes, signer.publicKey)).toMatchObject({
      ok: true,
      payload: senml,
      contentType: 112,
    });
  });

  it('sign an events batch too (alarms are verifiable end to end), with protected {1: -7, 3: 60}', async () => {
    const sent: Sent[] = [];
    const signer = p256TestSigner();
    const link = signingTelemetryLink(recordingLink(sent), createBatchSigner(signer));
    await link.publish(link.topics.events, events, {
      qos: 1,
      userProperties: { boot: 'b', seq: '8' },
      contentType: 'application/cbor',
    });
    expect(sent[0]).toMatchObject({
      topic: 'edge/gw-1/events',
      options: { qos: 1, userProperties: { boot: 'b', seq: '8' }, contentType: SIGNED_BATCH_CONTENT_TYPE },
    });
    const head = expectedHead('a2 01 26 03 18 3c', signer.kid);
    expect(sent[0]!.payload.subarray(0, head.length)).toEqual(head);
    expect(verifyDeviceCose1(sent[0]!.payload, signer.publicKey)).toMatchObject({
      ok: true,
      payload: events,
      contentType: 60,
    });
  });

  it('leave every other topic alone', async () => {
    const sent: Sent[] = [];
    const link = signingTelemetryLink(recordingLink(sent), createBatchSigner(ed25519TestSigner()));
    await link.publish(link.topics.status, hexBytes('a0'), { qos: 1, retain: true });
    await link.publish(link.topics.otaStatus, hexBytes('a0'));
    expect(sent).toEqual([
      { topic: 'edge/gw-1/status', payload: hexBytes('a0'), options: { qos: 1, retain: true } },
      { topic: 'edge/gw-1/ota/status', payload: hexBytes('a0') },
    ]);
  });
});

describe('content type (label 3) of device COSE', () => {
  it('is absent from results and evidence: their protected header stays {1: alg}', async () => {
    const signer = ed25519TestSigner();
    const bytes = await signDeviceCose1(senml, signer);
    expect(bytes.subarray(0, 6)).toEqual(hexBytes('d2 84 43 a1 01 27'));
    const verified = verifyDeviceCose1(bytes, signer.publicKey);
    expect(verified.ok && 'contentType' in verified).toBe(false);
  });

  it('is read as text too (RFC 9052 §3.1: tstr / uint), and refused as anything else', async () => {
    const signer = ed25519TestSigner();
    const signWith = (protectedBytes: Uint8Array) => {
      const tbs = cbor.array([
        cbor.tstr('Signature1'),
        cbor.bstr(protectedBytes),
        cbor.bstr(new Uint8Array(0)),
        cbor.bstr(senml),
      ]);
      const signature = ed25519.sign(tbs, signer.seed);
      return cbor.tag(
        18,
        cbor.array([
          cbor.bstr(protectedBytes),
          cbor.map([[cbor.uint(4), cbor.bstr(signer.kid)]]),
          cbor.bstr(senml),
          cbor.bstr(signature),
        ]),
      );
    };
    const text = signWith(
      cbor.map([
        [cbor.uint(1), cbor.nint(-8)],
        [cbor.uint(3), cbor.tstr('application/senml+cbor')],
      ]),
    );
    expect(verifyDeviceCose1(text, signer.publicKey)).toMatchObject({
      ok: true,
      contentType: 'application/senml+cbor',
    });
    const bstr = signWith(
      cbor.map([
        [cbor.uint(1), cbor.nint(-8)],
        [cbor.uint(3), cbor.bstr(hexBytes('70'))],
      ]),
    );
    expect(verifyDeviceCose1(bstr, signer.publicKey)).toMatchObject({ ok: false, code: 'bad-cose' });
  });

  it('must be a CoAP Content-Format when we write it (misuse is a TypeError naming the parameter)', async () => {
    await expect(signDeviceCose1(senml, ed25519TestSigner(), { contentFormat: -1 })).rejects.toThrow(
      /contentFormat/,
    );
  });
});
