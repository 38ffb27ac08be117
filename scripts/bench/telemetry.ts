/**
 * telemetry: the figures of issue 4, each with a baseline measured in the same run.
 *  - ingest: durable readings/s through the outbox's group commit (default 50 ms interval, fsync);
 *    baseline: one synchronous LevelDB put per reading. Median of `--runs`.
 *  - wire: bytes per reading of the simulated board's real traffic (the built agent, `boards/sim.yaml`
 *    with `wiring/chamber-kit-sim.yaml`, sending to a local mosquitto for `--trace-s`), against naive JSON (one object per reading with
 *    device, point, value, unit, ISO time, quality) and SenML JSON of the same packs.
 *  - drain: a backlog of `--backlog` readings sent to a local mosquitto after an "outage": readings/s
 *    until all are acknowledged, while a live reading every 10 ms measures end-to-end latency (taken →
 *    received by a subscriber) — p50/p99, paced (the default `drainReadingsPerS`) and once unpaced.
 *    Baseline: one QoS 1 message per reading (naive JSON), the same in-flight window.
 *  - peak RSS (VmHWM): of the agent process during the wire capture (sim board, telemetry, link),
 *    and of this bench process (which holds the backlogs and the subscriber) after each part.
 *   npm run bench -- telemetry [--runs 3] [--readings 1000000] [--backlog 500000] [--trace-s 20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'cbor-x';
import { Level } from 'level';
import { connect, type MqttClient } from 'mqtt';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { MqttLink } from '../../agent/link/mqtt-link.js';
import { nextBootId } from '../../agent/telemetry/boot-id.js';
import { Outbox, type OutboxOptions } from '../../agent/telemetry/outbox.js';
import { type SenmlRecord, toSenmlJson } from '../../agent/telemetry/senml.js';
import { openTelemetryStore } from '../../agent/telemetry/store.js';
import { telemetrySchema } from '../../agent/telemetry/telemetry-schema.js';
import { Uplink } from '../../agent/telemetry/uplink.js';
import { median, parseFlags, quantile, round } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULTS = telemetrySchema.parse(undefined);
const OUTBOX: OutboxOptions = {
  commitIntervalMs: DEFAULTS.commitIntervalMs,
  commitMaxItems: DEFAULTS.commitMaxReadings,
  batchMaxAgeMs: DEFAULTS.batchMaxAgeMs,
  batchMaxItems: DEFAULTS.batchMaxReadings,
  budgetBytes: 1 << 30,
  downsampleWindowMs: 60_000,
};
const clock = new SystemClock();
const log = silentLogger();
const progress = (line: string) => process.stderr.write(`${line}\n`);

export async function telemetryBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const runs = Number(flags.get('runs') ?? 3);
  const readings = Number(flags.get('readings') ?? 1_000_000);
  const backlog = Number(flags.get('backlog') ?? 500_000);
  const traceS = Number(flags.get('trace-s') ?? 20);
  // On the checkout's disk (var/ is gitignored), not /tmp: a tmpfs would make fsync free.
  await mkdir(path.join(ROOT, 'var'), { recursive: true });
  const work = await mkdtemp(path.join(ROOT, 'var', 'bench-telemetry-'));
  try {
    const ingest = await ingestFigures(work, runs, readings);
    const ingestPeakRssMb = peakRssMb();
    const broker = await Broker.start();
    try {
      const wire = await wireFigures(broker, work, traceS);
      const drain = await drainFigures(broker, work, backlog, runs);
      return {
        runs,
        commitIntervalMs: OUTBOX.commitIntervalMs,
        batchMaxAgeMs: OUTBOX.batchMaxAgeMs,
        ingest,
        wire,
        drain,
        ingestPeakRssMb,
        peakRssMb: peakRssMb(),
        goal: {
          ingestReadingsPerS: 100_000,
          wireReductionVsNaiveJsonPct: 75,
          drainReadingsPerS: 50_000,
          liveLatencyP99Ms: 1000,
        },
      };
    } finally {
      await broker.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// --- ingest -------------------------------------------------------------------------------------

async function ingestFigures(work: string, runs: number, n: number) {
  const rates: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await ingestOnce(path.join(work, `ingest-${i}`), n);
    progress(
      `ingest run ${i + 1}/${runs}: ${round(r.perS / 1000)} k readings/s, ack p99 ${round(r.ackP99Ms)} ms`,
    );
    rates.push(r.perS);
    p99s.push(r.ackP99Ms);
  }
  const baseline = await syncPutBaseline(path.join(work, 'baseline'), 2000);
  progress(`ingest baseline (one fsynced put per reading): ${round(baseline)} readings/s`);
  return {
    readingsPerSMedian: Math.round(median(rates)),
    ackLatencyP99MsMedian: round(median(p99s)),
    baselineSyncPutPerReadingPerS: Math.round(baseline),
  };
}

async function ingestOnce(dir: string, n: number): Promise<{ perS: number; ackP99Ms: number }> {
  const store = await openTelemetryStore(dir);
  const outbox = new Outbox(
    { clock, log, store, bootId: await nextBootId(store.meta), trust: { trusted: true } },
    OUTBOX,
  );
  await outbox.open();
  const names = ['chamber.temp', 'chamber.humidity', 'chamber.pressure', 'air.pm2_5', 'coolant.rate'];
  const acks: number[] = [];
  const t0 = performance.now();
  let last: Promise<void> = Promise.resolve();
  let previous: Promise<void> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    const taken = performance.now();
    last = outbox.appendReading({
      name: names[i % names.length] as string,
      unit: 'Cel',
      value: 20 + (i % 1000) / 997,
      wallMs: Date.now(),
      monoMs: taken,
    });
    if (i % 1000 === 0) void last.then(() => acks.push(performance.now() - taken));
    // A producer yields to the event loop now and then (commits, fsync callbacks), and keeps at
    // most two commits' worth unacknowledged, as a well-behaved producer does.
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
    if (i % OUTBOX.commitMaxItems === OUTBOX.commitMaxItems - 1) {
      await previous;
      previous = last;
    }
  }
  await last;
  const perS = n / ((performance.now() - t0) / 1000);
  await outbox.close();
  await store.close();
  return { perS, ackP99Ms: quantile(acks, 0.99) };
}

async function syncPutBaseline(dir: string, n: number): Promise<number> {
  const db = new Level<string, string>(dir);
  await db.open();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await db.put(String(i).padStart(10, '0'), JSON.stringify({ point: 'chamber.temp', value: i }), {
      sync: true,
    } as object);
  }
  const perS = n / ((performance.now() - t0) / 1000);
  await db.close();
  return perS;
}

// --- wire bytes ---------------------------------------------------------------------------------

async function wireFigures(broker: Broker, work: string, traceS: number) {
  const cli = path.join(ROOT, 'dist/agent/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm run bench builds it`);
  const sub = await subscriber(broker.url, ['edge/bench-sim/telemetry']);
  const config = path.join(work, 'agent.yaml');
  await writeFile(
    config,
    [
      `board: ${path.join(ROOT, 'boards/sim.yaml')}`,
      `wiring: ${path.join(ROOT, 'wiring/chamber-kit-sim.yaml')}`,
      `stateDir: ${path.join(work, 'agent-state')}`,
      'deviceId: bench-sim',
      'log: { level: warn, format: json }',
      `link: { url: "${broker.url}" }`,
      'telemetry: { timeTrust: system }',
      '',
    ].join('\n'),
  );
  const agent = spawn(process.execPath, [cli, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  progress(`wire: capturing the simulated board's telemetry for ${traceS} s…`);
  await new Promise((r) => setTimeout(r, traceS * 1000));
  const agentPeakRssMb = await vmHwmMb(agent.pid);
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  await sub.client.endAsync(true);

  let cbor = 0;
  let senmlJson = 0;
  let naive = 0;
  let count = 0;
  for (const { payload } of sub.messages) {
    cbor += payload.length;
    const pack = labelled(decode(payload) as Record<string, unknown>[]);
    senmlJson += Buffer.byteLength(toSenmlJson(pack));
    for (const r of resolve(pack)) {
      naive += Buffer.byteLength(
        JSON.stringify({
          device: 'bench-sim',
          point: r.name,
          value: r.value,
          unit: r.unit,
          time: new Date(r.timeMs).toISOString(),
          quality: 'good',
        }),
      );
      count++;
    }
  }
  const figures = {
    agentPeakRssMb,
    messages: sub.messages.length,
    readings: count,
    senmlCborBytesPerReading: round(cbor / count, 2),
    senmlJsonBytesPerReading: round(senmlJson / count, 2),
    naiveJsonBytesPerReading: round(naive / count, 2),
    reductionVsNaiveJsonPct: round(100 * (1 - cbor / naive), 1),
    reductionVsSenmlJsonPct: round(100 * (1 - cbor / senmlJson), 1),
  };
  progress(`wire: ${JSON.stringify(figures)}`);
  return figures;
}

const LABELS: Record<string, string> = {
  '-2': 'bn',
  '-3': 'bt',
  '-4': 'bu',
  0: 'n',
  1: 'u',
  2: 'v',
  3: 'vs',
  4: 'vb',
  6: 't',
};

function labelled(items: Record<string, unknown>[]): SenmlRecord[] {
  return items.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [LABELS[k] ?? k, v])));
}

function resolve(
  pack: SenmlRecord[],
): { name: string; value: unknown; unit: string | undefined; timeMs: number }[] {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  return pack.map((r) => {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    const full = bn + (r.n ?? '');
    return {
      name: full.slice(full.indexOf(':', 8) + 1),
      value: r.v ?? r.vb ?? r.vs,
      unit: r.u ?? bu,
      timeMs: (bt + (r.t ?? 0)) * 1000,
    };
  });
}

// --- drain --------------------------------------------------------------------------------------

async function drainFigures(broker: Broker, work: string, backlog: number, runs: number) {
  const rates: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await drainOnce(broker, path.join(work, `drain-${i}`), backlog);
    progress(
      `drain run ${i + 1}/${runs}: ${round(r.perS / 1000)} k readings/s, live latency p50 ${round(r.p50)} ms p99 ${round(r.p99)} ms (${r.live} live readings)`,
    );
    rates.push(r.perS);
    p50s.push(r.p50);
    p99s.push(r.p99);
  }
  const unpaced = await drainOnce(broker, path.join(work, 'drain-unpaced'), backlog, 1e12);
  progress(
    `drain without pacing: ${round(unpaced.perS / 1000)} k readings/s, live latency p99 ${round(unpaced.p99)} ms`,
  );
  const baseline = await naivePublishBaseline(broker, 20_000);
  progress(`drain baseline (one QoS 1 JSON message per reading): ${round(baseline)} readings/s`);
  return {
    backlogReadings: backlog,
    readingsPerSMedian: Math.round(median(rates)),
    liveLatencyP50MsMedian: round(median(p50s)),
    liveLatencyP99MsMedian: round(median(p99s)),
    unpacedReadingsPerS: Math.round(unpaced.perS),
    unpacedLiveLatencyP99Ms: round(unpaced.p99),
    baselineMessagePerReadingPerS: Math.round(baseline),
    drainReadingsPerSConfigured: DEFAULTS.drainReadingsPerS,
    inFlight: DEFAULTS.inFlight,
  };
}

async function drainOnce(
  broker: Broker,
  dir: string,
  backlog: number,
  ratePerS = DEFAULTS.drainReadingsPerS,
) {
  const store = await openTelemetryStore(dir);
  const bootId = await nextBootId(store.meta);
  const outbox = new Outbox({ clock, log, store, bootId, trust: { trusted: true } }, OUTBOX);
  await outbox.open();
  // The outage: a backlog of sensor readings (a few points, like the simulated board).
  const names = [
    'chamber.temp',
    'chamber.humidity',
    'chamber.pressure',
    'air.pm1_0',
    'air.pm2_5',
    'air.pm10',
  ];
  let last: Promise<void> = Promise.resolve();
  const t0 = Date.now() - backlog; // as if taken over the outage, 1 ms apart
  for (let i = 0; i < backlog; i++) {
    last = outbox.appendReading({
      name: names[i % names.length] as string,
      unit: 'Cel',
      value: 20 + (i % 1000) / 997,
      wallMs: t0 + i,
      monoMs: performance.now(),
    });
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
  }
  await last;
  await outbox.flush({ seal: true });

  const sub = await subscriber(broker.url, [`edge/bench-drain/telemetry`]);
  const latencies: number[] = [];
  sub.onMessage = (payload) => {
    const now = Date.now();
    for (const r of resolve(labelled(decode(payload) as Record<string, unknown>[]))) {
      if (r.name === 'live.t') latencies.push(now - (r.value as number));
    }
  };
  const link = new MqttLink(
    { clock, log },
    {
      url: broker.url,
      deviceId: 'bench-drain',
      topicPrefix: 'edge',
      keepaliveS: 30,
      connectTimeoutMs: 5000,
      backoff: { baseMs: 100, maxMs: 1000 },
    },
  );
  const uplink = new Uplink(
    { clock, log, outbox, link, wallClock: { trusted: true, offsetFor: () => undefined } },
    {
      inFlightMax: DEFAULTS.inFlight,
      drainReadingsPerS: ratePerS,
      drainBurstReadings: DEFAULTS.drainBurstReadings,
      trustWaitMs: 0,
      retryMs: 1000,
    },
  );
  let backlogSent = 0;
  let drainedAt = 0;
  uplink.on('sent', (b) => {
    if (b.live) return;
    backlogSent += b.items;
    if (backlogSent >= backlog && drainedAt === 0) drainedAt = performance.now();
  });
  uplink.start();
  const live = setInterval(() => {
    const now = Date.now();
    void outbox.appendReading({ name: 'live.t', value: now, wallMs: now, monoMs: performance.now() });
  }, 10);
  const up = new Promise<void>((r) => link.once('up', () => r()));
  link.start();
  await up;
  const start = performance.now();
  while (drainedAt === 0) await new Promise((r) => setTimeout(r, 20));
  clearInterval(live);
  await new Promise((r) => setTimeout(r, DEFAULTS.batchMaxAgeMs + 300));
  await uplink.stop();
  await link.stop();
  await outbox.close();
  await store.close();
  await sub.client.endAsync(true);
  return {
    perS: backlog / ((drainedAt - start) / 1000),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    live: latencies.length,
  };
}

async function naivePublishBaseline(broker: Broker, n: number): Promise<number> {
  const client = connect(broker.url, { protocolVersion: 5 });
  await new Promise<void>((r) => client.once('connect', () => r()));
  const t0 = performance.now();
  const window = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p = client.publishAsync(
      'edge/bench-naive/telemetry',
      JSON.stringify({
        device: 'bench',
        point: 'chamber.temp',
        value: 20 + i / 997,
        unit: 'Cel',
        time: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    window.add(p);
    void p.then(() => window.delete(p));
    if (window.size >= DEFAULTS.inFlight) await Promise.race(window);
  }
  await Promise.all(window);
  const perS = n / ((performance.now() - t0) / 1000);
  await client.endAsync();
  return perS;
}

// --- helpers ------------------------------------------------------------------------------------

async function subscriber(url: string, topics: string[]) {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const state = {
    client,
    messages: [] as { payload: Buffer }[],
    onMessage: undefined as ((payload: Buffer) => void) | undefined,
  };
  client.on('message', (_topic, payload) => {
    if (state.onMessage) state.onMessage(payload);
    else state.messages.push({ payload });
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await client.subscribeAsync(topics, { qos: 1 });
  return state as {
    client: MqttClient;
    messages: { payload: Buffer }[];
    onMessage?: (payload: Buffer) => void;
  };
}

/** Peak RSS (VmHWM) of a process, from /proc. */
async function vmHwmMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024, 1);
}

function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

export class Broker {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
  }

  static async start(): Promise<Broker> {
    const bin = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) =>
      existsSync(p),
    );
    if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-mosquitto-'));
    const conf = path.join(dir, 'mosquitto.conf');
    await writeFile(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\nuser ${userInfo().username}\npersistence false\nmax_queued_messages 0\nlog_type error\n`,
    );
    const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const sock = createConnection({ port, host: '127.0.0.1' });
        sock.once('connect', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (ok) return new Broker(`mqtt://127.0.0.1:${port}`, child, dir);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('mosquitto did not start');
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGTERM');
    await exited;
    await rm(this.#dir, { recursive: true, force: true });
  }
}
