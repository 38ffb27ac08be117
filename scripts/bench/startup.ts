/**
 * startup: time from process spawn to the first good reading of every sensor point on the simulated
 * board, and peak RSS (VmHWM) after idling. Medians over several runs (default 5 runs, 60 s idle).
 * Baseline in the same run: a bare `node -e ""` start, so the figure can be read net of Node itself.
 * The agent runs as the service unit runs it: with the node options of its ExecStart (unless
 * `--node-args` says otherwise; `--node-args ""` for none) and its `Environment=` settings.
 *   npm run bench -- startup [--runs 5] [--idle-s 60] [--node-args "--max-semi-space-size=1"]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { unitRuntime } from './service-unit.js';
import { median, parseFlags, round } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface RunResult {
  firstAllMs: number;
  rssAfterIdleMb: number;
  peakRssMb: number;
}

export async function startupBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const runs = Number(flags.get('runs') ?? 5);
  const idleS = Number(flags.get('idle-s') ?? 60);
  const unit = await unitRuntime();
  const nodeArgs = flags.get('node-args')?.split(' ').filter(Boolean) ?? unit.nodeArgs;
  const unitEnv = unit.env;
  const results: RunResult[] = [];
  const nodeStart: number[] = [];
  for (let i = 0; i < runs; i++) {
    nodeStart.push(await bareNodeMs());
    const r = await oneRun(idleS, nodeArgs, unitEnv);
    process.stderr.write(
      `run ${i + 1}/${runs}: first readings ${round(r.firstAllMs)} ms, RSS ${round(r.rssAfterIdleMb)} MB (peak ${round(r.peakRssMb)} MB)\n`,
    );
    results.push(r);
  }
  return {
    runs,
    idleS,
    nodeArgs: nodeArgs.join(' '),
    unitEnvironment: unitEnv,
    firstReadingsMsMedian: round(median(results.map((r) => r.firstAllMs))),
    bareNodeStartMsMedian: round(median(nodeStart)),
    rssAfterIdleMbMedian: round(median(results.map((r) => r.rssAfterIdleMb))),
    peakRssMbMedian: round(median(results.map((r) => r.peakRssMb))),
    goal: { firstReadingsMs: 500, rssMb: 60 },
  };
}

async function bareNodeMs(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve) => spawn(process.execPath, ['-e', '']).on('exit', () => resolve()));
  return performance.now() - t0;
}

async function oneRun(
  idleS: number,
  nodeArgs: string[],
  unitEnv: Record<string, string>,
): Promise<RunResult> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(ROOT, 'dist/agent/main.js'),
      'run',
      '--config',
      path.join(ROOT, 'config/dev.yaml'),
    ],
    {
      // A fresh state directory per run: a backlog left by an earlier run would be measured too.
      env: {
        ...process.env,
        ...unitEnv,
        EDGE_AGENT_LOG_FORMAT: 'json',
        EDGE_AGENT_STATE_DIR: await mkdtemp(path.join(tmpdir(), 'edge-agent-bench-')),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const expected = new Set<string>();
  const seen = new Set<string>();
  let firstAllMs = Number.NaN;
  const lines = createInterface({ input: child.stdout });
  const allSeen = new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(
      () =>
        reject(
          new Error(
            `not every sensor read within 10 s; missing ${[...expected].filter((p) => !seen.has(p))}`,
          ),
        ),
      10_000,
    );
    lines.on('line', (line) => {
      let rec: { msg?: string; point?: string; sensors?: string[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        return; // not a log record
      }
      if (rec.msg === 'edge-agent running' && rec.sensors) for (const p of rec.sensors) expected.add(p);
      if (rec.msg === 'reading' && rec.point) seen.add(rec.point);
      if (expected.size > 0 && [...expected].every((p) => seen.has(p)) && Number.isNaN(firstAllMs)) {
        firstAllMs = performance.now() - t0;
        clearTimeout(timeout);
        resolve();
      }
    });
  });
  try {
    await allSeen;
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { firstAllMs, rssAfterIdleMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
