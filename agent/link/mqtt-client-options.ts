/**
 * The MQTT.js client options of one connection attempt of `MqttLink` (mqtt-link.ts): MQTT 5, clean
 * start with session expiry 0 (or, with `sessionExpiryS`, a session the broker keeps — and clean start
 * off, so the next connect takes up its queued commands), MQTT.js's own reconnect off, the retained `offline` last will, our
 * Maximum Packet Size (packet-size.ts), and credentials and TLS files as configured (read afresh at
 * each attempt, so a renewed certificate applies at the next connect).
 */
import type { IClientOptions } from 'mqtt';
import type { MqttLinkOptions } from './mqtt-link.js';

export interface ClientOptionsContext {
  readonly clientId: string;
  readonly willTopic: string;
  readonly willPayload: Uint8Array;
  /** MQTT 5 Maximum Packet Size the broker must respect when sending to us. */
  readonly maximumPacketSize: number;
  readonly readFile: (path: string) => Promise<Buffer>;
}

export async function mqttClientOptions(
  o: MqttLinkOptions,
  ctx: ClientOptionsContext,
): Promise<IClientOptions> {
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: ctx.clientId,
    clean: (o.sessionExpiryS ?? 0) === 0,
    keepalive: o.keepaliveS,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs,
    resubscribe: false,
    properties: { sessionExpiryInterval: o.sessionExpiryS ?? 0, maximumPacketSize: ctx.maximumPacketSize },
    will: {
      topic: ctx.willTopic,
      payload: Buffer.from(ctx.willPayload),
      qos: 1,
      retain: true,
      properties: { contentType: 'application/cbor' },
    },
  };
  if (o.username !== undefined) options.username = o.username;
  if (o.password !== undefined) options.password = o.password;
  if (o.tls?.ca) options.ca = await ctx.readFile(o.tls.ca);
  if (o.tls?.cert) options.cert = await ctx.readFile(o.tls.cert);
  if (o.tls?.key) options.key = await ctx.readFile(o.tls.key);
  if (o.tls?.rejectUnauthorized !== undefined) options.rejectUnauthorized = o.tls.rejectUnauthorized;
  return options;
}
