/**
 * A `Link` for unit tests of what sits on top of it: the test decides when the session is up and
 * when each publish is acknowledged (PUBACK) or fails.
 */
import { EventEmitter } from 'node:events';
import { LinkError } from '../../../agent/link/errors.js';
import { deviceTopics } from '../../../agent/link/topics.js';
import type { Link, LinkEvents, LinkStatus, PublishOptions } from '../../../agent/link/types.js';

export interface Published {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly options: PublishOptions;
  ack(): void;
  fail(error?: Error): void;
}

export class FakeLink extends EventEmitter<LinkEvents> implements Link {
  readonly deviceId: string;
  readonly topics;
  connected = false;
  readonly published: Published[] = [];
  /** Acknowledge every publish at once. */
  autoAck = false;

  constructor(deviceId = 'gw-1') {
    super();
    this.deviceId = deviceId;
    this.topics = deviceTopics('edge', deviceId);
  }

  up(): void {
    this.connected = true;
    this.emit('up');
  }

  down(): void {
    this.connected = false;
    for (const p of this.published.splice(0)) p.fail(new LinkError('ECLOSED', 'Connection closed'));
    this.emit('down', { reason: 'test' });
  }

  status(): LinkStatus {
    return {
      state: this.connected ? 'up' : 'down',
      url: 'mqtt://fake',
      clientId: this.deviceId,
      upSinceWallMs: undefined,
      reconnects: 0,
      lastError: undefined,
    };
  }

  publish(topic: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    if (!this.connected) return Promise.reject(new LinkError('ENOTCONNECTED', 'not connected'));
    return new Promise((resolve, reject) => {
      const p: Published = {
        topic,
        payload,
        options,
        ack: () => {
          this.published.splice(this.published.indexOf(p), 1);
          resolve();
        },
        fail: (e = new LinkError('ECLOSED', 'Connection closed')) => {
          const i = this.published.indexOf(p);
          if (i >= 0) this.published.splice(i, 1);
          reject(e);
        },
      };
      if (this.autoAck) {
        resolve();
        return;
      }
      this.published.push(p);
    });
  }

  subscribe(): () => void {
    return () => undefined;
  }
}
