/**
 * The link to the fleet: one MQTT session that telemetry, the signed command channel and OTA share.
 * The session owns connecting (with backoff and jitter), the retained status topic with its last will,
 * and the subscriptions, which it renews after every reconnect; users only publish and subscribe.
 *
 * Behaviour callers rely on:
 *  - `publish` with QoS 1 resolves when the broker's PUBACK arrives (not when the bytes are written)
 *    and rejects with `LinkError` `ENOTCONNECTED` when there is no session, `ECLOSED` when the session
 *    ends before the PUBACK (the message may or may not have arrived: send it again, the receiver
 *    dedupes), or `EREJECTED` when the broker answers with an error reason code (MQTT 5 §3.4.2.1).
 *  - `subscribe` registers at once and is sent to the broker whenever a session is up, so a handler
 *    registered before the first connect still gets its messages. The returned function unsubscribes.
 *  - `up` is emitted after the status and the subscriptions are in place; `down` when the session is
 *    lost or stopped. Messages from a session that went down are never delivered afterwards.
 */
export type LinkState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

export interface PublishOptions {
  readonly qos?: 0 | 1;
  readonly retain?: boolean;
  /** MQTT 5 user properties (e.g. telemetry's `boot` and `seq`). */
  readonly userProperties?: Readonly<Record<string, string>>;
  /** MQTT 5 content type (`application/senml+cbor`). */
  readonly contentType?: string;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
  readonly userProperties: Readonly<Record<string, string | string[]>>;
  readonly contentType: string | undefined;
  readonly responseTopic: string | undefined;
  readonly correlationData: Uint8Array | undefined;
}

export type MessageHandler = (message: IncomingMessage) => void;

export interface LinkStatus {
  readonly state: LinkState;
  /** Broker URL without credentials. */
  readonly url: string;
  readonly clientId: string;
  /** Wall time the current session came up. */
  readonly upSinceWallMs: number | undefined;
  /** Connection attempts that failed or sessions that were lost since start. */
  readonly reconnects: number;
  readonly lastError: string | undefined;
}

export interface LinkEvents {
  up: [];
  down: [{ readonly reason: string }];
}

export interface Topics {
  readonly telemetry: string;
  readonly events: string;
  readonly status: string;
  readonly cmd: string;
  readonly cmdResult: string;
  readonly otaStatus: string;
}

export interface Link {
  readonly deviceId: string;
  readonly topics: Topics;
  readonly connected: boolean;
  status(): LinkStatus;
  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: MessageHandler, options?: { readonly qos?: 0 | 1 }): () => void;
  on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): unknown;
  off<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): unknown;
}
