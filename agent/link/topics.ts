/**
 * MQTT topics of one device (docs/wire-formats.md): `<prefix>/<id>/telemetry`, `/events`, `/status`
 * (retained, last will offline), `/cmd` (signed, in), `/cmd/result`, `/ota/status`; and MQTT
 * topic-filter matching (MQTT 5 §4.7) for dispatching received messages to subscriptions.
 */
import type { Topics } from './types.js';

/**
 * What follows `<prefix>/<id>/` in each topic: the one list of topic names, which `deviceTopics` builds
 * from and the documentation test checks docs/wire-formats.md against.
 */
export const TOPIC_SUFFIXES = {
  telemetry: 'telemetry',
  events: 'events',
  status: 'status',
  cmd: 'cmd',
  cmdResult: 'cmd/result',
  otaStatus: 'ota/status',
} as const satisfies { readonly [K in keyof Topics]: string };

export function deviceTopics(prefix: string, deviceId: string): Topics {
  if (!/^[^#+]+$/.test(prefix) || prefix.startsWith('/') || prefix.endsWith('/')) {
    throw new TypeError(`topicPrefix must be topic levels without wildcards or outer slashes, got ${prefix}`);
  }
  if (!/^[^#+/]+$/.test(deviceId)) throw new TypeError(`deviceId must be one topic level, got ${deviceId}`);
  const base = `${prefix}/${deviceId}`;
  const topic = (key: keyof Topics) => `${base}/${TOPIC_SUFFIXES[key]}`;
  return {
    telemetry: topic('telemetry'),
    events: topic('events'),
    status: topic('status'),
    cmd: topic('cmd'),
    cmdResult: topic('cmdResult'),
    otaStatus: topic('otaStatus'),
  };
}

/** Whether `topic` matches the subscription `filter` (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i > 0 || !topic.startsWith('$');
    if (i >= t.length) return false;
    if (level === '+') {
      if (i === 0 && (t[0] as string).startsWith('$')) return false;
      continue;
    }
    if (level !== t[i]) return false;
  }
  return f.length === t.length;
}
