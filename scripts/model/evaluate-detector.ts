/**
 * Evaluates the committed chamber anomaly model as the agent would run it: simulated days with faults
 * of every kind injected at random (seeds other than the training ones), the model file run through
 * onnxruntime-node on the last 30 min every 10 s, and the alarm rule models/README.md recommends
 * (`above: 1, hysteresis: 0.2, forMs: 60000`). Reports recall per fault kind and overall, precision,
 * false alarms per simulated day, the median detection delay, and score percentiles for normal
 * operation and each fault — the separation the issue asks to show.
 *
 *   npm run build && node dist/scripts/model/evaluate-detector.js [--days 10] [--seed 7000]
 *
 * Counting: a fault episode [onset, end) is detected if the alarm is up at some time in
 * [onset, end + GRACE_S]; the delay is from onset to the first such time. An alarm that rises in
 * [onset, end + ATTRIBUTION_S] is the episode's (the window still holds fault samples for 30 min after
 * the end, and the loop needs a while to settle the chamber back); any other rising alarm is a false
 * alarm. Precision = the episodes' alarms / all alarms. The last line printed is one JSON object.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNELS, WINDOW_SIZE } from './chamber-features.js';
import { type FaultEpisode, type FaultPlan, faultScenario, runChamber } from './chamber-trace.js';
import { DAY_S, EVERY_MS, MODEL_PATH } from './train-chamber-anomaly.js';

/** The alarm rule models/README.md recommends for `anomaly_score`. */
export const ALARM_RULE = { above: 1, hysteresis: 0.2, forMs: 60_000 } as const;
/** Time after a fault's end during which the alarm still counts as detecting it, s. */
export const GRACE_S = 300;
/** Time after a fault's end during which a rising alarm is attributed to it, not false, s. */
export const ATTRIBUTION_S = WINDOW_SIZE + 1800;

/** Faults of the evaluation: 6 a day (2 of each kind), 20 min–2 h each, sizes as documented. */
export const EVALUATION_FAULTS: FaultPlan = {
  count: 6,
  minForS: 1200,
  maxForS: 7200,
  gapS: 3600,
  driftCPerH: [6, 15],
  lossFactor: [0.5, 2],
};

export interface DetectorOptions {
  readonly days: number;
  /** Day d uses seed + d (training uses 20 260 116 onwards; keep clear of it). */
  readonly seed: number;
  readonly modelFile: string;
  readonly plan?: FaultPlan;
}

export interface KindFigures {
  readonly episodes: number;
  readonly detected: number;
  readonly recall: number;
  readonly medianDelayS: number | null;
  /** Score percentiles while the fault is active. */
  readonly score: Percentiles;
}

export interface Percentiles {
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface DetectorReport {
  readonly days: number;
  readonly seed: number;
  readonly rule: typeof ALARM_RULE;
  readonly episodes: number;
  readonly detected: number;
  readonly recall: number;
  readonly precision: number;
  readonly alarms: number;
  readonly falseAlarms: number;
  readonly falseAlarmsPerDay: number;
  readonly medianDelayS: number | null;
  readonly normalScore: Percentiles;
  readonly byKind: Readonly<Record<string, KindFigures>>;
  readonly goalMet: boolean;
}

interface Session {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

interface EpisodeResult extends FaultEpisode {
  delayS: number | null;
  scores: number[];
}

export async function evaluateDetector(options: DetectorOptions): Promise<DetectorReport> {
  const ort = await import('onnxruntime-node');
  const session = (await ort.InferenceSession.create(options.modelFile)) as unknown as Session;
  const plan = options.plan ?? EVALUATION_FAULTS;
  const results: EpisodeResult[] = [];
  const normalScores: number[] = [];
  let alarms = 0;
  let falseAlarms = 0;
  const stepS = EVERY_MS / 1000;
  const window = new Float32Array(WINDOW_SIZE * CHANNELS);
  try {
    for (let d = 0; d < options.days; d++) {
      const scenario = faultScenario(options.seed + d, DAY_S, 3600, plan);
      const trace = runChamber(scenario);
      const episodes: EpisodeResult[] = scenario.episodes.map((e) => ({ ...e, delayS: null, scores: [] }));
      results.push(...episodes);
      let above = false;
      let aboveSinceS = 0;
      let alarmUp = false;
      for (let end = WINDOW_SIZE; end <= trace.length; end += stepS) {
        window.set(trace.samples.subarray((end - WINDOW_SIZE) * CHANNELS, end * CHANNELS));
        const out = await session.run({
          window: new ort.Tensor('float32', window, [1, WINDOW_SIZE, CHANNELS]),
        });
        const score = (out.anomaly_score as { data: Float32Array }).data[0] as number;
        const nowS = end; // one sample a second: sample index = seconds since the start
        // The rule engine's condition with hysteresis, then forMs before the alarm.
        if (!above && score > ALARM_RULE.above) {
          above = true;
          aboveSinceS = nowS;
        } else if (above && score < ALARM_RULE.above - ALARM_RULE.hysteresis) above = false;
        const rising: boolean = above && !alarmUp && nowS - aboveSinceS >= ALARM_RULE.forMs / 1000;
        alarmUp = above && (alarmUp || rising);

        const active = episodes.find((e) => nowS >= e.atS && nowS < e.atS + e.forS);
        if (active) active.scores.push(score);
        else if (!episodes.some((e) => nowS >= e.atS && nowS < e.atS + e.forS + ATTRIBUTION_S)) {
          normalScores.push(score);
        }
        for (const e of episodes) {
          if (alarmUp && e.delayS === null && nowS >= e.atS && nowS <= e.atS + e.forS + GRACE_S) {
            e.delayS = nowS - e.atS;
          }
        }
        if (rising) {
          alarms++;
          if (!episodes.some((e) => nowS >= e.atS && nowS <= e.atS + e.forS + ATTRIBUTION_S)) falseAlarms++;
        }
      }
    }
  } finally {
    await session.release();
  }

  const byKind: Record<string, KindFigures> = {};
  for (const kind of ['heater-stuck-on', 'sensor-drift', 'door-open']) {
    const mine = results.filter((e) => e.kind === kind);
    byKind[kind] = figures(mine);
  }
  const all = figures(results);
  const falseAlarmsPerDay = falseAlarms / options.days;
  return {
    days: options.days,
    seed: options.seed,
    rule: ALARM_RULE,
    episodes: all.episodes,
    detected: all.detected,
    recall: all.recall,
    precision: alarms === 0 ? 1 : (alarms - falseAlarms) / alarms,
    alarms,
    falseAlarms,
    falseAlarmsPerDay,
    medianDelayS: all.medianDelayS,
    normalScore: percentiles(normalScores),
    byKind,
    goalMet: all.recall >= 0.9 && falseAlarmsPerDay <= 1,
  };
}

function figures(episodes: readonly EpisodeResult[]): KindFigures {
  const delays = episodes.flatMap((e) => (e.delayS === null ? [] : [e.delayS]));
  return {
    episodes: episodes.length,
    detected: delays.length,
    recall: episodes.length === 0 ? 0 : delays.length / episodes.length,
    medianDelayS: delays.length === 0 ? null : quantile(delays, 0.5),
    score: percentiles(episodes.flatMap((e) => e.scores)),
  };
}

function percentiles(values: readonly number[]): Percentiles {
  return {
    p10: quantile(values, 0.1),
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
  };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))] as number;
}

/** The report as a few human lines (the JSON follows them when run alone). */
export function describeReport(r: DetectorReport): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const p = (s: Percentiles) =>
    `p10 ${s.p10.toFixed(3)}  p50 ${s.p50.toFixed(3)}  p90 ${s.p90.toFixed(3)}  p99 ${s.p99.toFixed(3)}  max ${s.max.toFixed(3)}`;
  const lines = [
    `chamber anomaly detector: ${r.days} simulated days (seeds ${r.seed}…${r.seed + r.days - 1}), ` +
      `rule above ${r.rule.above} hysteresis ${r.rule.hysteresis} for ${r.rule.forMs / 1000} s`,
    `score while normal        ${p(r.normalScore)}`,
  ];
  for (const [kind, k] of Object.entries(r.byKind)) {
    lines.push(`score ${kind.padEnd(19)} ${p(k.score)}`);
  }
  for (const [kind, k] of Object.entries(r.byKind)) {
    lines.push(
      `${kind.padEnd(16)} recall ${pct(k.recall)} (${k.detected}/${k.episodes}), median delay ${k.medianDelayS ?? '—'} s`,
    );
  }
  lines.push(
    `overall          recall ${pct(r.recall)} (${r.detected}/${r.episodes}), precision ${pct(r.precision)}, ` +
      `${r.falseAlarms} false alarms (${r.falseAlarmsPerDay.toFixed(2)}/day), median delay ${r.medianDelayS ?? '—'} s`,
    `goal (recall >= 0.9 at <= 1 false alarm a day): ${r.goalMet ? 'met' : 'NOT met'}`,
  );
  return lines;
}

async function main(argv: readonly string[]): Promise<number> {
  const arg = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const report = await evaluateDetector({
    days: arg('--days', 10),
    seed: arg('--seed', 7000),
    modelFile: path.join(root, MODEL_PATH),
  });
  for (const line of describeReport(report)) console.log(line);
  console.log(JSON.stringify(report));
  return report.goalMet ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
