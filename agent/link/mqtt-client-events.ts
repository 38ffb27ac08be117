/**
 * The calls `MqttLink` makes on an MQTT.js client, as promises: publish (its failure as a LinkError),
 * wait until the connection closes (with the last error seen as the reason), and end a client.
 */
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { LinkError } from './errors.js';
import type { PublishOptions } from './types.js';

export function waitForClose(client: MqttClient, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    let lastError: string | undefined;
    const onError = (e: Error) => {
      lastError = e.message;
    };
    const done = (reason: string) => {
      client.off('close', onClose);
      client.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    const onClose = () => done(lastError ?? 'connection closed');
    const onAbort = () => done('stopped');
    client.on('error', onError);
    client.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Ends a client; `force` drops the socket and fails its pending callbacks with `Connection closed`. */
export function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    client.removeAllListeners('message');
    client.on('error', () => undefined);
    client.end(force, {}, () => resolve());
  });
}

/** Publishes one message; a refusal by the broker is `EREJECTED`, a lost connection `ECLOSED`. */
export function publishOn(
  client: MqttClient,
  topic: string,
  payload: Uint8Array,
  options: PublishOptions,
): Promise<void> {
  const publishOptions: IClientPublishOptions = {
    qos: options.qos ?? 1,
    retain: options.retain ?? false,
  };
  if (options.userProperties || options.contentType) {
    publishOptions.properties = {};
    if (options.userProperties) publishOptions.properties.userProperties = { ...options.userProperties };
    if (options.contentType) publishOptions.properties.contentType = options.contentType;
  }
  const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return new Promise<void>((resolve, reject) => {
    client.publish(topic, buffer, publishOptions, (error) => {
      if (!error) {
        resolve();
        return;
      }
      const reasonCode = (error as { code?: unknown }).code;
      if (typeof reasonCode === 'number') {
        reject(new LinkError('EREJECTED', error.message, { cause: error, reasonCode }));
      } else {
        reject(new LinkError('ECLOSED', error.message, { cause: error }));
      }
    });
  });
}
