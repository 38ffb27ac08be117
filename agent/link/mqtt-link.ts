/**
 * The MQTT 5 session (MQTT.js), behaving as types.ts describes. MQTT.js's own reconnect (a fixed
 * period) is turned off: each attempt is a fresh client, and the delay between attempts comes from
 * `Backoff` (exponential, full jitter) so a fleet that lost its broker does not return in lockstep.
 * The backoff resets only after a session stayed up for a while, so a broker that accepts and drops at
 * once is not hammered. Clean start every time: subscriptions are renewed by us after each connect, and
 * unacknowledged QoS 1 publishes of a lost session fail with `ECLOSED` for their owner to resend.
 *
 * Status: on connect a retained `{state: "online", ...}` (CBOR, preferred serialization) goes to `<prefix>/<id>/status`; the
 * last will is the retained `{state: "offline"}`, which the broker publishes if we vanish; `stop()`
 * publishes it itself before a clean DISCONNECT (after which the broker would not send the will).
 * `mqtt` is imported when the first connection is made, so an agent without a link never loads it.
 *
 * A broker that cannot be reached is never fatal — telemetry waits in the outbox and control goes on —
 * and each failed attempt is a `warn`. One case is worth more: a broker host name that does not
 * resolve (ENOTFOUND, EAI_AGAIN) before any session was up is likely a typo in `link.url` or a missing
 * resolver, so that first failure is one `error` line naming the URL, the cause and a hint.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IClientOptions, MqttClient } from 'mqtt';
import { Backoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { encodePreferredMap } from '../core/preferred-cbor-map.js';
import {
  describeStartupFailure,
  isNameResolutionError,
  startupFailureFields,
} from '../core/startup-error.js';
import { LinkError } from './errors.js';
import { loadMqttConnect } from './load-mqtt.js';
import { endClient, publishOn, waitForClose } from './mqtt-client-events.js';
import { mqttClientOptions } from './mqtt-client-options.js';
import { guardIncomingPackets, maximumPacketSizeFor } from './packet-size.js';
import { deviceTopics, topicMatches } from './topics.js';
import type {
  IncomingMessage,
  Link,
  LinkEvents,
  LinkState,
  LinkStatus,
  MessageHandler,
  PublishOptions,
  Topics,
} from './types.js';

export type ConnectMqtt = (url: string, options: IClientOptions) => MqttClient;

export interface MqttLinkDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Seam: creates a client (default: `mqtt.connect`, imported on first use). */
  readonly connect?: ConnectMqtt | undefined;
  readonly readFile?: (path: string) => Promise<Buffer>;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

export interface MqttLinkOptions {
  readonly url: string;
  readonly deviceId: string;
  readonly clientId?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Absolute paths (build-agent.ts resolves them against the configuration file). */
  readonly tls?: {
    readonly ca?: string | undefined;
    readonly cert?: string | undefined;
    readonly key?: string | undefined;
    readonly rejectUnauthorized?: boolean | undefined;
  };
  readonly topicPrefix: string;
  readonly keepaliveS: number;
  /** MQTT 5 session expiry (s): 0 starts clean; above 0 the broker keeps the session and its queue. */
  readonly sessionExpiryS?: number | undefined;
  readonly connectTimeoutMs: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Extra fields of the retained `online` status (boot id, version). */
  readonly status?: () => Record<string, string | number | boolean>;
  /**
   * The largest payload we accept from the broker (the fleet's `maxCommandBytes`: commands are all it
   * sends us); with the topic and headers it makes the MQTT 5 Maximum Packet Size. Default 64 KiB.
   */
  readonly maxIncomingPayloadBytes?: number | undefined;
}

const DEFAULT_MAX_INCOMING_PAYLOAD_BYTES = 64 * 1024;

/** A session must last this long before the reconnect backoff starts again from its base. */
const STABLE_SESSION_MS = 30_000;
const STOP_PUBLISH_TIMEOUT_MS = 2000;

interface Subscription {
  readonly qos: 0 | 1;
  readonly handlers: Set<MessageHandler>;
}

export class MqttLink extends EventEmitter<LinkEvents> implements Link {
  readonly deviceId: string;
  readonly topics: Topics;
  readonly #deps: MqttLinkDeps;
  readonly #opts: MqttLinkOptions;
  readonly #clientId: string;
  readonly #subs = new Map<string, Subscription>();
  #client: MqttClient | undefined;
  #state: LinkState = 'idle';
  #upSinceWallMs: number | undefined;
  #reconnects = 0;
  #lastError: string | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #connect: ConnectMqtt | undefined;
  /** A session has been up since start (after that, a name that stops resolving is only a warning). */
  #everUp = false;
  #reportedUnresolved = false;

  constructor(deps: MqttLinkDeps, options: MqttLinkOptions) {
    super();
    this.#deps = deps;
    this.#opts = options;
    this.deviceId = options.deviceId;
    this.topics = deviceTopics(options.topicPrefix, options.deviceId);
    this.#clientId = options.clientId ?? options.deviceId;
    this.#connect = deps.connect;
  }

  /** The MQTT 5 Maximum Packet Size stated in CONNECT and enforced on what arrives. */
  get maximumPacketSize(): number {
    const longestTopic = Object.values(this.topics).reduce((a, b) => (a.length >= b.length ? a : b));
    return maximumPacketSizeFor(
      this.#opts.maxIncomingPayloadBytes ?? DEFAULT_MAX_INCOMING_PAYLOAD_BYTES,
      longestTopic,
    );
  }

  get connected(): boolean {
    return this.#state === 'up';
  }

  status(): LinkStatus {
    return {
      state: this.#state,
      url: redact(this.#opts.url),
      clientId: this.#clientId,
      upSinceWallMs: this.#upSinceWallMs,
      reconnects: this.#reconnects,
      lastError: this.#lastError,
    };
  }

  /** Starts connecting in the background; returns at once. */
  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Publishes `offline` (retained), disconnects cleanly and stops reconnecting. */
  async stop(): Promise<void> {
    const abort = this.#abort;
    if (!abort) return;
    this.#abort = undefined;
    const client = this.#client;
    if (client && this.#state === 'up') {
      await this.#withTimeout(
        publishOn(client, this.topics.status, this.#statusPayload('offline'), {
          qos: 1,
          retain: true,
        }),
        STOP_PUBLISH_TIMEOUT_MS,
      ).catch(() => undefined);
    }
    abort.abort(new LinkError('ESTOPPED', 'link stopped'));
    await this.#loop;
    this.#loop = undefined;
    this.#setState('stopped');
  }

  publish(topic: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const client = this.#client;
    if (!client || this.#state !== 'up') {
      return Promise.reject(new LinkError('ENOTCONNECTED', `not connected to ${redact(this.#opts.url)}`));
    }
    return publishOn(client, topic, payload, options);
  }

  subscribe(filter: string, handler: MessageHandler, options: { readonly qos?: 0 | 1 } = {}): () => void {
    let sub = this.#subs.get(filter);
    if (!sub) {
      sub = { qos: options.qos ?? 1, handlers: new Set() };
      this.#subs.set(filter, sub);
      const client = this.#client;
      if (client && this.#state === 'up') {
        client.subscribe(filter, { qos: sub.qos }, (err) => {
          if (err) this.#deps.log.warn({ filter, err: err.message }, 'subscribe failed');
        });
      }
    }
    sub.handlers.add(handler);
    return () => {
      const s = this.#subs.get(filter);
      if (!s?.handlers.delete(handler) || s.handlers.size > 0) return;
      this.#subs.delete(filter);
      if (this.#client && this.#state === 'up') this.#client.unsubscribe(filter, () => undefined);
    };
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.#deps;
    const backoff = new Backoff({ ...this.#opts.backoff, jitter: 1, random: this.#deps.random });
    while (!signal.aborted) {
      this.#setState('connecting');
      let upAtMs: number | undefined;
      try {
        const client = await this.#connectOnce(signal);
        upAtMs = clock.monotonicMs();
        this.#everUp = true;
        const closed = waitForClose(client, signal);
        // The session's start (online status, subscriptions) waits on the broker's acks, which a
        // connection lost or a stop meanwhile would leave pending for good (MQTT.js keeps QoS 1
        // callbacks for a reconnect that never comes): whichever ends first decides.
        const starting = this.#sessionUp(client);
        const ended = await Promise.race([starting.then(() => undefined), closed]);
        if (ended !== undefined) {
          starting.catch(() => undefined); // rejected once the client is ended below
          throw new Error(`session ended while starting: ${ended}`);
        }
        const reason = await closed;
        this.#lastError = reason;
        log.warn({ reason }, 'link down');
      } catch (error) {
        if (!signal.aborted) {
          this.#lastError = errorMessage(error);
          if (!this.#everUp && !this.#reportedUnresolved && isNameResolutionError(error)) {
            this.#reportedUnresolved = true;
            const failure = describeStartupFailure(error, {
              step: 'link',
              what: 'connect to the MQTT broker',
              address: redact(this.#opts.url),
              setting: 'link.url',
            });
            log.error(
              startupFailureFields(failure),
              'broker host name does not resolve; the agent runs offline and keeps trying',
            );
          } else {
            log.warn({ url: redact(this.#opts.url), err: this.#lastError }, 'link connect failed');
          }
        }
      }
      const client = this.#client;
      this.#client = undefined;
      // A stop ends cleanly (DISCONNECT: no will); a lost session is dropped, failing its publishes.
      if (client)
        await this.#withTimeout(endClient(client, !signal.aborted), STOP_PUBLISH_TIMEOUT_MS).catch(() =>
          endClient(client, true),
        );
      if (this.#state === 'up') {
        this.#upSinceWallMs = undefined;
        this.#setState('down');
        this.emit('down', { reason: this.#lastError ?? 'closed' });
      } else {
        this.#setState('down');
      }
      if (signal.aborted) break;
      if (upAtMs !== undefined && clock.monotonicMs() - upAtMs >= STABLE_SESSION_MS) backoff.reset();
      this.#reconnects++;
      const delayMs = backoff.next();
      log.debug({ delayMs: Math.round(delayMs) }, 'link reconnect scheduled');
      await clock.sleep(delayMs, signal).catch(() => undefined);
    }
  }

  async #connectOnce(signal: AbortSignal): Promise<MqttClient> {
    const options = await this.#clientOptions();
    this.#connect ??= await loadMqttConnect();
    const client = this.#connect(this.#opts.url, options);
    // MQTT.js emits `error` for socket errors at any time; an unheard one would crash the process.
    client.on('error', () => undefined);
    guardIncomingPackets(client.stream, this.maximumPacketSize, (over) => {
      this.#deps.log.warn(
        { sizeBytes: over.sizeBytes, packetType: over.type, maximumPacketSize: this.maximumPacketSize },
        'broker sent a packet over the maximum packet size: connection dropped',
      );
    });
    this.#client = client;
    this.#listen(client);
    return new Promise<MqttClient>((resolve, reject) => {
      const timer = this.#deps.clock.setTimeout(
        () => fail(new Error(`no CONNACK within ${this.#opts.connectTimeoutMs} ms`)),
        this.#opts.connectTimeoutMs,
      );
      const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      const cleanup = () => {
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        client.off('connect', onConnect);
        client.off('error', fail);
        client.off('close', onClose);
      };
      function onConnect() {
        cleanup();
        resolve(client);
      }
      function onClose() {
        fail(new Error('connection closed'));
      }
      function fail(error: Error) {
        cleanup();
        reject(error);
      }
      client.on('connect', onConnect);
      client.on('error', fail);
      client.on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #clientOptions(): Promise<IClientOptions> {
    return mqttClientOptions(this.#opts, {
      clientId: this.#clientId,
      willTopic: this.topics.status,
      willPayload: this.#statusPayload('offline'),
      maximumPacketSize: this.maximumPacketSize,
      readFile: this.#deps.readFile ?? readFile,
    });
  }

  /**
   * Dispatches the client's messages to the subscriptions. Attached before CONNECT: a broker keeping
   * the session (`sessionExpiryS`) sends the queued commands right after CONNACK, in the same read.
   */
  #listen(client: MqttClient): void {
    client.on('message', (topic, payload, packet) => {
      if (this.#client !== client) return;
      const props = packet.properties ?? {};
      const message: IncomingMessage = {
        topic,
        payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
        retain: packet.retain,
        userProperties: (props.userProperties ?? {}) as Record<string, string | string[]>,
        contentType: props.contentType,
        responseTopic: props.responseTopic,
        correlationData: props.correlationData ? new Uint8Array(props.correlationData) : undefined,
      };
      for (const [filter, sub] of this.#subs) {
        if (!topicMatches(filter, topic)) continue;
        for (const handler of sub.handlers) {
          try {
            handler(message);
          } catch (error) {
            this.#deps.log.error({ topic, err: errorMessage(error) }, 'message handler failed');
          }
        }
      }
    });
  }

  async #sessionUp(client: MqttClient): Promise<void> {
    // Subscribed first, `online` second: a fleet that sends a command as soon as it sees `online`
    // must find the device listening (with clean start the broker drops what has no subscriber).
    if (this.#subs.size > 0) {
      const map = Object.fromEntries([...this.#subs].map(([filter, s]) => [filter, { qos: s.qos }]));
      await client.subscribeAsync(map);
    }
    await publishOn(client, this.topics.status, this.#statusPayload('online'), {
      qos: 1,
      retain: true,
    });
    if (this.#client !== client) throw new Error('session ended while starting');
    this.#upSinceWallMs = this.#deps.clock.nowMs();
    this.#setState('up');
    this.#deps.log.info({ url: redact(this.#opts.url), clientId: this.#clientId }, 'link up');
    this.emit('up');
  }

  #statusPayload(state: 'online' | 'offline'): Uint8Array {
    return encodePreferredMap({ state, ...(this.#opts.status?.() ?? {}) });
  }

  #withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = this.#deps.clock.setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      promise.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e) => {
          timer.cancel();
          reject(e);
        },
      );
    });
  }

  #setState(state: LinkState): void {
    this.#state = state;
  }
}

/** The URL without user:password. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
