/**
 * `npm run bench -- mqtt-oversize [--size-mb 200] [--settle-s 3]`: what an oversized publish to the
 * command topic costs the device process. A child process runs the link (dist/agent/link/mqtt-link.js)
 * with a handler on its command topic against a local mosquitto; the bench publishes `--size-mb` to
 * that topic and reads the child's RSS before, at its peak and after a GC. Twice: with the link's
 * Maximum Packet Size (the 64 KiB command limit) and with a limit above the message (as before it was
 * set), to show the difference (issue 20 pt 9).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'mqtt';
import { parseFlags, round } from './stats.js';
import { Broker } from './telemetry.js';

const LINK_MODULE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../agent/link/mqtt-link.js',
);
const CLOCK_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../agent/core/clock.js');
const LOG_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../agent/core/log.js');

const CHILD = `
const { MqttLink } = await import(${JSON.stringify(LINK_MODULE)});
const { SystemClock } = await import(${JSON.stringify(CLOCK_MODULE)});
const { silentLogger } = await import(${JSON.stringify(LOG_MODULE)});
const [url, maxIncoming] = process.argv.slice(1);
const link = new MqttLink({ clock: new SystemClock(), log: silentLogger() }, {
  url, deviceId: 'bench-big', topicPrefix: 'edge', keepaliveS: 60, connectTimeoutMs: 5000,
  backoff: { baseMs: 100, maxMs: 1000 }, maxIncomingPayloadBytes: Number(maxIncoming) });
let received = 0, downs = 0, peak = 0;
link.subscribe(link.topics.cmd, () => { received++; }, { qos: 1 });
link.on('down', () => downs++);
link.once('up', () => console.log(JSON.stringify({ up: true, rss: process.memoryUsage().rss })));
link.start();
setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
process.stdin.on('data', () => { gc(); gc();
  console.log(JSON.stringify({ rss: process.memoryUsage().rss, peak, received, downs, connected: link.connected }));
  process.exit(0); });
`;

interface Run {
  readonly rssBeforeMB: number;
  readonly rssPeakMB: number;
  readonly rssAfterGcMB: number;
  readonly received: number;
  readonly reconnects: number;
  readonly connected: boolean;
}

async function runOnce(url: string, maxIncoming: number, sizeBytes: number, settleS: number): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', CHILD, url, String(maxIncoming)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
  const before = lines[0]!.rss as number;
  const fleet = connect(url, { protocolVersion: 5, clientId: 'bench-fleet' });
  await new Promise<void>((resolve) => fleet.once('connect', () => resolve()));
  await fleet.publishAsync('edge/bench-big/cmd', Buffer.alloc(sizeBytes, 0x61), { qos: 1 });
  await new Promise((r) => setTimeout(r, settleS * 1000));
  await fleet.endAsync();
  child.stdin.write('measure\n');
  while (lines.length < 2) await new Promise((r) => setTimeout(r, 20));
  const after = lines[1]!;
  const mb = (b: unknown) => round((b as number) / 1048576, 1);
  return {
    rssBeforeMB: mb(before),
    rssPeakMB: mb(after.peak),
    rssAfterGcMB: mb(after.rss),
    received: after.received as number,
    reconnects: after.downs as number,
    connected: after.connected as boolean,
  };
}

export async function mqttOversizeBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const sizeMB = Number(flags.get('size-mb') ?? 200);
  const settleS = Number(flags.get('settle-s') ?? 3);
  const broker = await Broker.start();
  try {
    const sizeBytes = sizeMB * 1024 * 1024;
    process.stderr.write(`publishing ${sizeMB} MiB to the command topic, 64 KiB limit …\n`);
    const limited = await runOnce(broker.url, 64 * 1024, sizeBytes, settleS);
    process.stderr.write('… and with a limit above the message (no effective limit) …\n');
    const unlimited = await runOnce(broker.url, sizeBytes + 1024 * 1024, sizeBytes, settleS);
    return { sizeMB, limited, unlimited };
  } finally {
    await broker.stop();
  }
}
