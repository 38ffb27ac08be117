/**
 * MQTT topics of one device (DESIGN.md): `<prefix>/<id>/telemetry`, `/events`, `/status` (retained,
 * last will offline), `/cmd` (signed, in), `/cmd/result`, `/ota/status`; and MQTT topic-filter matching
 * (MQTT 5 §4.7) for dispatching received messages to subscriptions.
 */
import type { Topics } from './types.js';

export function deviceTopics(prefix: string, deviceId: string): Topics {
  if (!/^[^#+]+$/.test(prefix) || prefix.startsWith('/') || prefix.endsWith('/')) {
    throw new TypeError(`topicPrefix must be topic levels without wildcards or outer slashes, got ${prefix}`);
  }
  if (!/^[^#+/]+$/.test(deviceId)) throw new TypeError(`deviceId must be one topic level, got ${deviceId}`);
  const base = `${prefix}/${deviceId}`;
  return {
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    status: `${base}/status`,
    cmd: `${base}/cmd`,
    cmdResult: `${base}/cmd/result`,
    otaStatus: `${base}/ota/status`,
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
