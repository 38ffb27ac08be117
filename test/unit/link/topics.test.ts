import { describe, expect, it } from 'vitest';
import { deviceTopics, topicMatches } from '../../../agent/link/topics.js';

describe('deviceTopics', () => {
  it('names every topic of a device under the prefix (DESIGN.md)', () => {
    expect(deviceTopics('edge', 'gw-1')).toEqual({
      telemetry: 'edge/gw-1/telemetry',
      events: 'edge/gw-1/events',
      status: 'edge/gw-1/status',
      cmd: 'edge/gw-1/cmd',
      cmdResult: 'edge/gw-1/cmd/result',
      otaStatus: 'edge/gw-1/ota/status',
    });
    expect(deviceTopics('acme/plant-3', 'gw-1').telemetry).toBe('acme/plant-3/gw-1/telemetry');
  });

  it.each([
    ['edge/#', 'gw'],
    ['/edge', 'gw'],
    ['edge', 'g/w'],
    ['edge', 'g+w'],
  ])('rejects prefix %j with device id %j', (prefix, id) => {
    expect(() => deviceTopics(prefix, id)).toThrow(TypeError);
  });
});

describe('topicMatches (MQTT 5 §4.7)', () => {
  it.each([
    ['edge/+/cmd', 'edge/gw/cmd', true],
    ['edge/+/cmd', 'edge/gw/cmd/result', false],
    ['edge/#', 'edge', true],
    ['edge/#', 'edge/gw/cmd/result', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/x', '$SYS/x', false],
    ['edge/gw/cmd', 'edge/gw/cmd', true],
    ['edge/gw/cmd', 'edge/gw', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
