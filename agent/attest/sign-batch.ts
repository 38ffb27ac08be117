/**
 * Telemetry and event batches signed by the device key (`identity.signTelemetry`), so a backend can
 * check each batch — readings and alarms alike — end to end through an untrusted broker: the CBOR
 * bytes become the payload of a device COSE_Sign1 (the same profile as evidence and command results;
 * verify with `verifyDeviceCose1`) whose protected header names them by CoAP Content-Format (RFC 9052
 * §3.1 `content type`, label 3): 112 `application/senml+cbor` for a SenML pack (RFC 8428 §12.3), 60
 * `application/cbor` for an events array (RFC 8949 §9.5). Numbers rather than media-type text: two
 * bytes instead of 23 on every batch, and the registry the EAT measurements claim already uses; a
 * backend maps them back with one table. A batch costs one Ed25519 signature (~0.02 ms through
 * OpenSSL) or one TPM signature (~15–30 ms). build-agent.ts hands telemetry a `signingTelemetryLink`
 * when `identity.signTelemetry` is set, so the uplink needs no change.
 */

import type { Link } from '../link/types.js';
import { signDeviceCose1 } from './device-cose.js';
import type { DeviceSigner } from './device-key.js';

export type SignBatch = (batch: Uint8Array, contentFormat: number) => Promise<Uint8Array>;

/** CoAP Content-Formats (IANA "CoAP Content-Formats") of what the signed batches carry. */
export const BATCH_CONTENT_FORMATS = {
  /** `application/senml+cbor`, RFC 8428 §12.3. */
  senmlCbor: 112,
  /** `application/cbor`, RFC 8949 §9.5. */
  cbor: 60,
} as const;

export function createBatchSigner(signer: DeviceSigner): SignBatch {
  return (batch, contentFormat) => signDeviceCose1(batch, signer, { contentFormat });
}

/** MQTT 5 content type of a signed batch. */
export const SIGNED_BATCH_CONTENT_TYPE = 'application/cose; cose-type="cose-sign1"';

/**
 * The link as telemetry sees it when batches are to be signed: publishes to the telemetry and events
 * topics carry the signed batch (content type COSE, MQTT user properties unchanged); everything else
 * passes through.
 */
export function signingTelemetryLink(link: Link, signBatch: SignBatch): Link {
  const formatOf = (topic: string): number | undefined =>
    topic === link.topics.telemetry
      ? BATCH_CONTENT_FORMATS.senmlCbor
      : topic === link.topics.events
        ? BATCH_CONTENT_FORMATS.cbor
        : undefined;
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
      const contentFormat = formatOf(topic);
      if (contentFormat === undefined) return link.publish(topic, payload, options);
      return link.publish(topic, await signBatch(payload, contentFormat), {
        ...options,
        contentType: SIGNED_BATCH_CONTENT_TYPE,
      });
    },
  };
}
