/**
 * Signed telemetry: through `signingTelemetryLink`, a batch published on the telemetry topic leaves as a
 * device COSE_Sign1 whose payload is the batch, with its MQTT user properties intact; other topics pass.
 */
import { describe, expect, it } from 'vitest';
import { verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import {
  createBatchSigner,
  SIGNED_BATCH_CONTENT_TYPE,
  signingTelemetryLink,
} from '../../../agent/attest/sign-batch.js';
import { deviceTopics } from '../../../agent/link/topics.js';
import type { Link, PublishOptions } from '../../../agent/link/types.js';
import { p256TestSigner } from '../../support/device-signers.js';

function recordingLink(sent: { topic: string; payload: Uint8Array; options?: PublishOptions }[]): Link {
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

describe('signed telemetry batches', () => {
  it('sign what goes to the telemetry topic and leave the rest alone', async () => {
    const sent: { topic: string; payload: Uint8Array; options?: PublishOptions }[] = [];
    const signer = p256TestSigner();
    const link = signingTelemetryLink(recordingLink(sent), createBatchSigner(signer));
    const batch = Uint8Array.of(0x81, 0xa1, 0x00, 0x61, 0x78);
    await link.publish(link.topics.telemetry, batch, {
      qos: 1,
      userProperties: { boot: 'b', seq: '7' },
      contentType: 'application/senml+cbor',
    });
    await link.publish(link.topics.events, batch);
    expect(sent[0]).toMatchObject({
      topic: 'edge/gw-1/telemetry',
      options: { qos: 1, userProperties: { boot: 'b', seq: '7' }, contentType: SIGNED_BATCH_CONTENT_TYPE },
    });
    expect(verifyDeviceCose1(sent[0]!.payload, signer.publicKey)).toMatchObject({ ok: true, payload: batch });
    expect(sent[1]).toMatchObject({ topic: 'edge/gw-1/events', payload: batch });
  });
});
