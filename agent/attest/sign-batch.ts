/**
 * Telemetry batches signed by the device key (`identity.signTelemetry`), so a backend can check each
 * batch end to end through an untrusted broker: the SenML CBOR bytes become the payload of a device
 * COSE_Sign1 (the same profile as evidence and command results; verify with `verifyDeviceCose1`). A
 * batch costs one Ed25519 signature (~0.02 ms through OpenSSL) or one TPM signature (~15–30 ms).
 * build-agent.ts hands telemetry a `signingTelemetryLink` when `identity.signTelemetry` is set, so the
 * uplink needs no change.
 */

import type { Link } from '../link/types.js';
import { signDeviceCose1 } from './device-cose.js';
import type { DeviceSigner } from './device-key.js';

export type SignBatch = (batch: Uint8Array) => Promise<Uint8Array>;

export function createBatchSigner(signer: DeviceSigner): SignBatch {
  return (batch) => signDeviceCose1(batch, signer);
}

/** MQTT 5 content type of a signed batch. */
export const SIGNED_BATCH_CONTENT_TYPE = 'application/cose; cose-type="cose-sign1"';

/**
 * The link as telemetry sees it when batches are to be signed: publishes to the telemetry topic carry
 * the signed batch (content type COSE, MQTT user properties unchanged); everything else passes through.
 */
export function signingTelemetryLink(link: Link, signBatch: SignBatch): Link {
  return {
    get deviceId() {
      return link.deviceId;
    },
    get topics() {
      return link.topics;
    },
    get connected() {
      return link.connected;
    },
    status: () => link.status(),
    subscribe: (filter, handler, options) => link.subscribe(filter, handler, options),
    on: (event, listener) => link.on(event, listener),
    off: (event, listener) => link.off(event, listener),
    publish: async (topic, payload, options) => {
      if (topic !== link.topics.telemetry) return link.publish(topic, payload, options);
      return link.publish(topic, await signBatch(payload), {
        ...options,
        contentType: SIGNED_BATCH_CONTENT_TYPE,
      });
    },
  };
}
