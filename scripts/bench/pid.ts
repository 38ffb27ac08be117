/**
 * pid: nanoseconds per `Pid.compute()` (all refinements on: back-calculation, filtered derivative),
 * against a naive textbook PID (error sum, derivative on error, no limits handling beyond a clamp) in
 * the same run, on the same precomputed input sequence. Warm-up, then the median of several timed
 * batches (process.hrtime.bigint()); a checksum of the outputs keeps the JIT from dropping the work.
 *   npm run bench -- pid [--updates 1000000] [--batches 7]
 */
import { Pid } from '../../agent/control/pid.js';
import type { PidTunings } from '../../agent/control/types.js';
import { median, parseFlags, round } from './stats.js';

const TUNINGS: PidTunings = { kp: 0.29, ki: 0.0034, kd: 1.8 };
const SETPOINT = 60;

/** The beginner's PID of Beauregard's first post: what the refinements are measured against. */
class NaivePid {
  readonly #kp: number;
  readonly #ki: number;
  readonly #kd: number;
  readonly #dtS: number;
  #errorSum = 0;
  #lastError = 0;

  constructor(tunings: PidTunings, sampleMs: number) {
    this.#kp = tunings.kp;
    this.#ki = tunings.ki;
    this.#kd = tunings.kd;
    this.#dtS = sampleMs / 1000;
  }

  compute(input: number, setpoint: number): number {
    const error = setpoint - input;
    this.#errorSum += error * this.#dtS;
    const dError = (error - this.#lastError) / this.#dtS;
    this.#lastError = error;
    const output = this.#kp * error + this.#ki * this.#errorSum + this.#kd * dError;
    return Math.min(1, Math.max(0, output));
  }
}

interface Computes {
  compute(input: number, setpoint: number): number;
}

function timeBatch(controller: Computes, inputs: Float64Array): { ns: number; checksum: number } {
  let checksum = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < inputs.length; i++) checksum += controller.compute(inputs[i] as number, SETPOINT);
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, checksum };
}

export async function pidBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const updates = Number(flags.get('updates') ?? 1_000_000);
  const batches = Number(flags.get('batches') ?? 7);
  if (!(Number.isInteger(updates) && updates > 0))
    throw new TypeError(`--updates must be > 0, got ${updates}`);
  if (!(Number.isInteger(batches) && batches > 0))
    throw new TypeError(`--batches must be > 0, got ${batches}`);

  // A chamber-like measurement around the setpoint: slow wave plus a deterministic wobble, so both
  // controllers run unsaturated and saturated stretches and no branch is trivially predictable.
  const inputs = new Float64Array(updates);
  for (let i = 0; i < updates; i++)
    inputs[i] = SETPOINT + 8 * Math.sin(i / 500) + 0.05 * Math.sin(i * 12.9898);

  const makePid = () =>
    new Pid({ tunings: TUNINGS, sampleMs: 1000, outMin: 0, outMax: 1, derivativeFilterN: 10 });
  const makeNaive = () => new NaivePid(TUNINGS, 1000);
  const pidNs: number[] = [];
  const naiveNs: number[] = [];
  let checksum = 0;
  // Warm-up: let the JIT optimise both compute paths before anything is timed.
  checksum += timeBatch(makePid(), inputs).checksum + timeBatch(makeNaive(), inputs).checksum;
  for (let b = 0; b < batches; b++) {
    // Alternate the order so that neither always runs on a warmer cache or after the other's GC.
    const order = b % 2 === 0 ? (['pid', 'naive'] as const) : (['naive', 'pid'] as const);
    for (const which of order) {
      const r = timeBatch(which === 'pid' ? makePid() : makeNaive(), inputs);
      (which === 'pid' ? pidNs : naiveNs).push(r.ns / updates);
      checksum += r.checksum;
    }
    process.stderr.write(
      `batch ${b + 1}/${batches}: pid ${round(pidNs.at(-1) as number, 2)} ns, naive ${round(naiveNs.at(-1) as number, 2)} ns per update\n`,
    );
  }
  const nsPerUpdateMedian = median(pidNs);
  const naiveNsPerUpdateMedian = median(naiveNs);
  return {
    updates,
    batches,
    nsPerUpdateMedian: round(nsPerUpdateMedian, 2),
    baseline: { name: 'naive textbook PID', nsPerUpdateMedian: round(naiveNsPerUpdateMedian, 2) },
    ratioToBaseline: round(nsPerUpdateMedian / naiveNsPerUpdateMedian, 2),
    nsPerUpdateMin: round(Math.min(...pidNs), 2),
    peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    checksum: round(checksum, 3),
  };
}
