/**
 * A minimal fleet backend for tests: a persistent MQTT 5 session on `<prefix>/+/telemetry` and
 * `/events` that decodes payloads with a *generic* CBOR decoder (cbor-x's plain `decode`, knowing
 * nothing of our encoder), maps RFC 8428 integer labels itself, resolves the SenML, and drops
 * duplicates by the `boot`/`seq` user properties — as any backend implementation would.
 */
import { decode } from 'cbor-x';
import { connect, type MqttClient } from 'mqtt';
import type { SenmlRecord } from '../../agent/telemetry/senml.js';
import { type ResolvedRecord, resolveSenml } from './senml-decode.js';

const LABELS: Record<string, string> = {
  '-1': 'bver',
  '-2': 'bn',
  '-3': 'bt',
  '-4': 'bu',
  '-5': 'bv',
  '-6': 'bs',
  '0': 'n',
  '1': 'u',
  '2': 'v',
  '3': 'vs',
  '4': 'vb',
  '5': 's',
  '6': 't',
  '7': 'ut',
  '8': 'vd',
};

export interface ReceivedBatch {
  readonly topic: string;
  readonly boot: string;
  readonly seq: number;
  readonly bytes: number;
  readonly receivedAtMs: number;
}

export class TelemetryBackend {
  readonly batches: ReceivedBatch[] = [];
  readonly readings: ResolvedRecord[] = [];
  readonly events: Record<string, unknown>[] = [];
  /** Problems found in payloads: not CBOR, not SenML, tags, bad user properties. */
  readonly invalid: string[] = [];
  duplicates = 0;
  readonly #seen = new Set<string>();
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload, packet) =>
      this.#onMessage(topic, payload, packet.properties?.userProperties),
    );
  }

  static async connect(
    url: string,
    options: { clientId: string; prefix?: string },
  ): Promise<TelemetryBackend> {
    const client = connect(url, {
      protocolVersion: 5,
      clientId: options.clientId,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 100,
    });
    client.on('error', () => undefined);
    const backend = new TelemetryBackend(client);
    await new Promise((r) => client.once('connect', r));
    const prefix = options.prefix ?? 'edge';
    await client.subscribeAsync({
      [`${prefix}/+/telemetry`]: { qos: 1 },
      [`${prefix}/+/events`]: { qos: 1 },
    });
    return backend;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #onMessage(topic: string, payload: Buffer, props: Record<string, string | string[]> | undefined): void {
    const boot = props?.boot;
    const seq = Number(props?.seq);
    if (typeof boot !== 'string' || !Number.isSafeInteger(seq)) {
      this.invalid.push(`${topic}: missing boot/seq user properties`);
      return;
    }
    const key = `${boot}/${seq}`;
    if (this.#seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.#seen.add(key);
    this.batches.push({ topic, boot, seq, bytes: payload.length, receivedAtMs: Date.now() });
    let item: unknown;
    try {
      item = decode(payload);
    } catch (e) {
      this.invalid.push(`${topic} ${key}: not CBOR: ${String(e)}`);
      return;
    }
    if (!Array.isArray(item)) {
      this.invalid.push(`${topic} ${key}: not an array`);
      return;
    }
    if (topic.endsWith('/events')) {
      for (const e of item) this.events.push(e as Record<string, unknown>);
      return;
    }
    const pack: SenmlRecord[] = [];
    for (const raw of item) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        this.invalid.push(`${key}: a record is not a map`);
        return;
      }
      const record: SenmlRecord = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (!['string', 'number', 'boolean'].includes(typeof v) && !(v instanceof Uint8Array)) {
          this.invalid.push(`${key}: field ${k} is a ${typeof v} (a tag or extension type?)`);
          return;
        }
        const label = LABELS[k];
        if (label === undefined && /^-?\d+$/.test(k)) {
          this.invalid.push(`${key}: unknown integer label ${k}`);
          return;
        }
        record[label ?? k] = v;
      }
      pack.push(record);
    }
    const resolved = resolveSenml(pack, { understood: ['tq_'] });
    if (!resolved.ok) {
      this.invalid.push(`${key}: ${resolved.reason}`);
      return;
    }
    this.readings.push(...resolved.value);
  }
}
