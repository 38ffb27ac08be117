/**
 * The fleet backend of the simulation, written against docs/wire-formats.md only: one persistent
 * MQTT 5 session on `<prefix>/+/telemetry`, `/events`, `/status`, `/ota/status` and `/cmd/result`.
 * It deduplicates telemetry and events by the `(boot, seq)` user properties (delivery is at least
 * once), verifies every signed batch and every command result against the device's public key
 * (cose-check.ts), counts SenML readings per device, follows the retained status (the times a device
 * came online) and OTA reports (deduplicated by their `id`), and keeps each command's results.
 * Messages from a device whose key is not registered yet wait until it is.
 */
import type { KeyObject } from 'node:crypto';
import { decode } from 'cbor-x';
import { connect, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { checkSign1, devicePublicKey } from './cose-check.js';

/** SenML labels that carry a value (RFC 8428 §6: v, vs, vb, s, vd). */
const VALUE_LABELS = ['2', '3', '4', '5', '8'];
const SIGNED = 'application/cose';

export interface OtaReport {
  readonly id: string;
  readonly installId: string;
  readonly state: string;
  readonly version?: string;
  readonly reason?: string;
}

export interface CommandResult {
  readonly status: string;
  readonly code?: string;
  readonly receivedAtMs: number;
}

export interface DeviceRecord {
  readonly id: string;
  key: KeyObject | undefined;
  /** `<boot>/<seq>` → readings (telemetry) or events in that batch. */
  readonly batches: Map<string, number>;
  readings: number;
  events: number;
  duplicates: number;
  badSignatures: number;
  readonly invalid: string[];
  online: boolean;
  /** Wall times (ms) a live (not retained) `online` status arrived. */
  readonly onlineAtMs: number[];
  readonly otaReports: Map<string, OtaReport>;
  /** The last OTA report's state (`installed`, `committed`, `rolled-back`, `rejected`). */
  otaState: string | undefined;
  /** Command id → every result received for it. */
  readonly results: Map<string, CommandResult[]>;
}

interface Held {
  readonly topic: string;
  readonly payload: Buffer;
  readonly props: Record<string, string | string[]>;
  readonly contentType: string | undefined;
  readonly retain: boolean;
  readonly atMs: number;
}

export class FleetBackend {
  readonly devices = new Map<string, DeviceRecord>();
  /** Every message received (duplicates included), for the broker's message rate. */
  messages = 0;
  readonly #client: MqttClient;
  readonly #prefix: string;
  readonly #held = new Map<string, Held[]>();
  readonly #otaListeners: ((device: string, report: OtaReport) => void)[] = [];

  private constructor(client: MqttClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
    client.on('message', (topic, payload, packet) => {
      this.messages++;
      this.#receive({
        topic,
        payload,
        props: packet.properties?.userProperties ?? {},
        contentType: packet.properties?.contentType,
        retain: packet.retain,
        atMs: Date.now(),
      });
    });
  }

  static async connect(
    url: string,
    options: { prefix?: string; clientId?: string } = {},
  ): Promise<FleetBackend> {
    const prefix = options.prefix ?? 'edge';
    const client = connect(url, {
      protocolVersion: 5,
      clientId: options.clientId ?? 'fleet-backend',
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 500,
      resubscribe: false,
    });
    client.on('error', () => undefined);
    const backend = new FleetBackend(client, prefix);
    // Every session: a restarted broker without persistence has forgotten the subscriptions.
    const subscribe = () =>
      client.subscribeAsync(
        Object.fromEntries(
          ['telemetry', 'events', 'status', 'ota/status', 'cmd/result'].map((s) => [
            `${prefix}/+/${s}`,
            { qos: 1 as const },
          ]),
        ),
      );
    client.on('connect', () => void subscribe().catch(() => undefined));
    await new Promise((r) => client.once('connect', r));
    await subscribe();
    return backend;
  }

  /** The device's public key (PEM), from its identity; held messages are processed now. */
  register(deviceId: string, publicKeyPem: string): void {
    this.#device(deviceId).key = devicePublicKey(publicKeyPem);
    for (const h of this.#held.get(deviceId) ?? []) this.#receive(h);
    this.#held.delete(deviceId);
  }

  onOtaReport(listener: (device: string, report: OtaReport) => void): void {
    this.#otaListeners.push(listener);
  }

  /** Publishes a signed command to a device's `cmd` topic (QoS 1, never retained). */
  async sendCommand(deviceId: string, bytes: Uint8Array): Promise<void> {
    const options: IClientPublishOptions = { qos: 1, retain: false };
    await this.#client.publishAsync(`${this.#prefix}/${deviceId}/cmd`, Buffer.from(bytes), options);
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #device(id: string): DeviceRecord {
    let d = this.devices.get(id);
    if (!d) {
      d = {
        id,
        key: undefined,
        batches: new Map(),
        readings: 0,
        events: 0,
        duplicates: 0,
        badSignatures: 0,
        invalid: [],
        online: false,
        onlineAtMs: [],
        otaReports: new Map(),
        otaState: undefined,
        results: new Map(),
      };
      this.devices.set(id, d);
    }
    return d;
  }

  #receive(m: Held): void {
    const rest = m.topic.slice(this.#prefix.length + 1);
    const slash = rest.indexOf('/');
    const id = rest.slice(0, slash);
    const suffix = rest.slice(slash + 1);
    const d = this.#device(id);
    if (!d.key && (suffix === 'telemetry' || suffix === 'events' || suffix === 'cmd/result')) {
      const held = this.#held.get(id) ?? [];
      held.push(m);
      this.#held.set(id, held);
      return;
    }
    switch (suffix) {
      case 'telemetry':
      case 'events':
        this.#batch(d, suffix, m);
        return;
      case 'status':
        this.#status(d, m);
        return;
      case 'ota/status':
        this.#ota(d, m.payload);
        return;
      case 'cmd/result':
        this.#result(d, m);
        return;
    }
  }

  #batch(d: DeviceRecord, kind: 'telemetry' | 'events', m: Held): void {
    const boot = m.props.boot;
    const seq = Number(m.props.seq);
    if (typeof boot !== 'string' || !Number.isSafeInteger(seq)) {
      this.#invalid(d, 'no boot/seq');
      return;
    }
    const key = `${boot}/${seq}`;
    if (d.batches.has(key)) {
      d.duplicates++;
      return;
    }
    let body: Uint8Array = m.payload;
    if (m.contentType?.startsWith(SIGNED)) {
      const checked = checkSign1(m.payload, d.key as KeyObject);
      if (!checked.ok) {
        d.badSignatures++;
        this.#invalid(d, `${key}: ${checked.reason}`);
        return;
      }
      body = checked.payload;
    }
    let items: unknown;
    try {
      items = decode(body);
    } catch {
      this.#invalid(d, `${key}: not CBOR`);
      return;
    }
    if (!Array.isArray(items)) {
      this.#invalid(d, `${key}: not an array`);
      return;
    }
    if (kind === 'events') {
      d.batches.set(key, items.length);
      d.events += items.length;
      return;
    }
    const bn = (items[0] as Record<string, unknown> | undefined)?.['-2'];
    // The first record names the device; a pack that opens with a run of one point re-bases bn to
    // that point (`urn:dev:<id>:chamber.temp`), so only the device's prefix is checked.
    if (typeof bn !== 'string' || !bn.startsWith(`urn:dev:${d.id}:`)) {
      this.#invalid(d, `${key}: bn ${String(bn)} is not this device`);
      return;
    }
    const readings = items.filter(
      (r) => typeof r === 'object' && r !== null && VALUE_LABELS.some((l) => l in (r as object)),
    ).length;
    d.batches.set(key, readings);
    d.readings += readings;
  }

  #status(d: DeviceRecord, m: Held): void {
    let s: unknown;
    try {
      s = decode(m.payload);
    } catch {
      return;
    }
    const state = (s as { state?: unknown } | undefined)?.state;
    d.online = state === 'online';
    if (state === 'online' && !m.retain) d.onlineAtMs.push(m.atMs);
  }

  #ota(d: DeviceRecord, payload: Buffer): void {
    let r: unknown;
    try {
      r = decode(payload);
    } catch {
      return;
    }
    const report = r as Partial<OtaReport> & { type?: string };
    if (report.type !== 'report' || typeof report.id !== 'string' || d.otaReports.has(report.id)) return;
    const kept: OtaReport = {
      id: report.id,
      installId: String(report.installId),
      state: String(report.state),
      ...(typeof report.version === 'string' ? { version: report.version } : {}),
      ...(typeof report.reason === 'string' ? { reason: report.reason } : {}),
    };
    d.otaReports.set(report.id, kept);
    d.otaState = kept.state;
    for (const l of this.#otaListeners) l(d.id, kept);
  }

  #result(d: DeviceRecord, m: Held): void {
    const checked = checkSign1(m.payload, d.key as KeyObject);
    if (!checked.ok) {
      d.badSignatures++;
      this.#invalid(d, `result: ${checked.reason}`);
      return;
    }
    const r = decode(checked.payload) as { id?: unknown; status?: unknown; code?: unknown; device?: unknown };
    if (r.device !== d.id) {
      this.#invalid(d, `result for ${String(r.device)}`);
      return;
    }
    const id = typeof r.id === 'string' ? r.id : '(no id)';
    const list = d.results.get(id) ?? [];
    list.push({
      status: String(r.status),
      ...(typeof r.code === 'string' ? { code: r.code } : {}),
      receivedAtMs: m.atMs,
    });
    d.results.set(id, list);
  }

  #invalid(d: DeviceRecord, what: string): void {
    if (d.invalid.length < 5) d.invalid.push(what);
  }
}
