import { EventEmitter } from 'node:events';
import { decode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/core/log.js';
import type { Link } from '../../../agent/link/types.js';
import { OtaReporter } from '../../../agent/ota/ota-reporter.js';
import type { OtaReport } from '../../../agent/ota/report-queue.js';
import { concatBytes } from '../../support/concat-bytes.js';
import { FakeClock } from '../../support/fake-clock.js';
import { cbor, hexBytes } from '../../support/hand-cbor.js';

/** A link whose broker the test controls: up or down, and whether publishes are acknowledged. */
class TestLink extends EventEmitter {
  readonly deviceId = 'dev1';
  readonly topics = { otaStatus: 'edge/dev1/ota/status' } as Link['topics'];
  connected = true;
  failPublish = false;
  readonly published: {
    topic: string;
    qos: number | undefined;
    body: Record<string, unknown>;
    bytes: Uint8Array;
  }[] = [];
  async publish(topic: string, payload: Uint8Array, options?: { qos?: 0 | 1 }): Promise<void> {
    if (this.failPublish) throw new Error('connection lost before PUBACK');
    const body = decode(payload) as Record<string, unknown>;
    this.published.push({ topic, qos: options?.qos, body, bytes: new Uint8Array(payload) });
  }
}

function setup(reports: OtaReport[]) {
  const clock = new FakeClock();
  const link = new TestLink();
  const acked: string[] = [];
  const ota = Object.assign(new EventEmitter(), {
    reports: {
      pending: async () => reports.filter((r) => !acked.includes(r.id)),
      ack: async (id: string) => void acked.push(id),
    },
  });
  const reporter = new OtaReporter({
    clock,
    log: silentLogger(),
    link,
    ota,
  });
  return { clock, link, ota, acked, reporter };
}

const report = (id: string, state: OtaReport['state']): OtaReport =>
  ({ id, installId: id.split('.')[0], state, component: 'rootfs', version: '1.4.0', seq: 14 }) as OtaReport;

describe('OtaReporter', () => {
  it('sends every pending final state with QoS 1 and acknowledges it only after the publish', async () => {
    const { link, acked, reporter } = setup([
      report('i1.installed', 'installed'),
      report('i1.committed', 'committed'),
    ]);
    reporter.start();
    await reporter.flush();
    expect(link.published.map((p) => [p.topic, p.qos, p.body.state])).toEqual([
      ['edge/dev1/ota/status', 1, 'installed'],
      ['edge/dev1/ota/status', 1, 'committed'],
    ]);
    expect(acked).toEqual(['i1.installed', 'i1.committed']);
    reporter.stop();
  });

  it('keeps reports made offline, or whose publish failed, and sends them when the link is up', async () => {
    const { link, acked, reporter } = setup([report('i2.rolled-back', 'rolled-back')]);
    link.connected = false;
    reporter.start();
    await reporter.flush();
    expect(acked).toEqual([]);
    link.connected = true;
    link.failPublish = true;
    await reporter.flush();
    expect(acked).toEqual([]);
    link.failPublish = false;
    link.emit('up');
    await reporter.flush();
    expect(acked).toEqual(['i2.rolled-back']);
    expect(link.published[0]?.body).toMatchObject({ type: 'report', state: 'rolled-back' });
    reporter.stop();
  });

  it('writes a report in RFC 8949 §4.1 preferred serialization: short map head, wallMs an integer', async () => {
    const { link, reporter } = setup([
      {
        id: 'i4.committed',
        installId: 'i4',
        state: 'committed',
        component: 'rootfs',
        version: undefined,
        seq: 14,
        targetSlot: 'B',
        bootedSlot: 'B',
        wallMs: 1768465811123,
        order: 70000,
      },
    ]);
    reporter.start();
    await reporter.flush();
    // Written by hand: 10 pairs (version undefined is left out), so the head is aa, not b9 00 0a;
    // 1768465811123 = 0x19bc0c6c6b3 needs the 8-byte argument (1b), 70000 the 4-byte one (1a).
    expect(link.published[0]?.bytes).toEqual(
      concatBytes([
        hexBytes('aa'),
        ...[
          ['type', 'report'],
          ['id', 'i4.committed'],
          ['installId', 'i4'],
          ['state', 'committed'],
          ['component', 'rootfs'],
        ].flatMap(([k, v]) => [cbor.tstr(k!), cbor.tstr(v!)]),
        cbor.tstr('seq'),
        hexBytes('0e'),
        cbor.tstr('targetSlot'),
        cbor.tstr('B'),
        cbor.tstr('bootedSlot'),
        cbor.tstr('B'),
        cbor.tstr('wallMs'),
        hexBytes('1b 00 00 01 9b c0 c6 c6 b3'),
        cbor.tstr('order'),
        hexBytes('1a 00 01 11 70'),
      ]),
    );
    reporter.stop();
  });

  it('publishes progress at most once a second, and always the last byte', async () => {
    const { clock, link, ota, reporter } = setup([]);
    reporter.start();
    const p = (bytes: number) => ({
      installId: 'i3',
      component: 'rootfs',
      version: '1',
      phase: 'download',
      bytes,
      totalBytes: 100,
    });
    ota.emit('progress', p(10));
    ota.emit('progress', p(20));
    await clock.advance(1000);
    ota.emit('progress', p(30));
    ota.emit('progress', p(100));
    await clock.advance(0);
    expect(link.published.map((x) => [x.qos, x.body.bytes])).toEqual([
      [0, 10],
      [0, 30],
      [0, 100],
    ]);
    reporter.stop();
  });
});
