/**
 * MQTT.js, loaded when the first connection is made, with mqtt-packet's number cache off. On its
 * first write mqtt-packet makes a 2-byte Buffer for each of the 65 536 packet ids — ~7 MB of heap for
 * the life of the process, most of what a connected agent has over an offline one — to save
 * allocating two bytes per packet, which at the agent's few messages a second is nothing.
 */
import type { connect } from 'mqtt';

export async function loadMqttConnect(): Promise<typeof connect> {
  const [mqtt, packet] = await Promise.all([import('mqtt'), import('mqtt-packet')]);
  packet.writeToStream.cacheNumbers = false;
  return mqtt.connect;
}
