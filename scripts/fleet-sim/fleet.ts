/**
 * A simulated fleet: a run directory, a fleet signing key made for this run (its private half never
 * leaves the run directory, which is removed at the end), one mosquitto, the backend, and N
 * provisioned devices spread over agent host processes. Also the measurements every scenario shares:
 * resource use per agent and readings lost after deduplication against the agents' own ledgers.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair, type KeyPair } from '../../agent/core/cose.js';
import { publicKeyToPem } from '../../agent/core/ed25519-keys.js';
import { FleetBackend } from './backend.js';
import { SimBroker } from './broker.js';
import { provisionDevice } from './device-config.js';
import { HostPool, type PoolSnapshot } from './host-pool.js';
import { findRepoRoot } from './repo-root.js';

export interface FleetOptions {
  readonly agents: number;
  /** Agents per host process (default: 125, so 1,000 agents run in 8 processes). */
  readonly perHost?: number;
  /** Indexes of devices whose new image will not boot (the rollout's planted failures). */
  readonly planted?: ReadonlySet<number>;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly healthDeadlineMs?: number;
  readonly log?: (line: string) => void;
}

export interface LossReport {
  /** Readings in batches the agents sealed. */
  readonly sealedReadings: number;
  /** Of those, readings the backend stored (after dedup). */
  readonly deliveredReadings: number;
  /** Readings in sealed batches still in an outbox (not lost: not sent yet). */
  readonly pendingReadings: number;
  /** Sealed, not in any outbox any more, never stored by the backend. */
  readonly lost: number;
  readonly duplicatesDropped: number;
  readonly badSignatures: number;
  readonly invalid: number;
}

const ONLINE_TIMEOUT_MS = 120_000;

export class Fleet {
  readonly dir: string;
  readonly broker: SimBroker;
  readonly backend: FleetBackend;
  readonly pool: HostPool;
  readonly keys: KeyPair;
  readonly deviceIds: readonly string[];
  readonly startedAtMs: number;

  private constructor(
    parts: Pick<Fleet, 'dir' | 'broker' | 'backend' | 'pool' | 'keys' | 'deviceIds' | 'startedAtMs'>,
  ) {
    this.dir = parts.dir;
    this.broker = parts.broker;
    this.backend = parts.backend;
    this.pool = parts.pool;
    this.keys = parts.keys;
    this.deviceIds = parts.deviceIds;
    this.startedAtMs = parts.startedAtMs;
  }

  static async start(o: FleetOptions): Promise<Fleet> {
    const log = o.log ?? (() => undefined);
    const dir = await mkdtemp(path.join(tmpdir(), 'fleet-sim-'));
    const broker = await SimBroker.start();
    const backend = await FleetBackend.connect(broker.url);
    const keys = generateKeyPair();
    const fleetPubPem = path.join(dir, 'fleet.pub.pem');
    await writeFile(fleetPubPem, publicKeyToPem(keys.publicKey));
    const specs = Array.from({ length: o.agents }, (_, i) => ({
      dir: path.join(dir, 'devices', String(i).padStart(4, '0')),
      planted: o.planted?.has(i) ?? false,
    }));
    // Sixteen at a time: the files are small, the waits are the file system's.
    for (let i = 0; i < specs.length; i += 16)
      await Promise.all(
        specs.slice(i, i + 16).map((spec, j) =>
          provisionDevice(spec.dir, {
            brokerUrl: broker.url,
            fleetPubPem,
            repoRoot: findRepoRoot(),
            seed: i + j + 1,
            ...(o.backoff ? { backoff: o.backoff } : {}),
            ...(o.healthDeadlineMs ? { healthDeadlineMs: o.healthDeadlineMs } : {}),
          }),
        ),
      );
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    const perHost = o.perHost ?? 125;
    const pool = new HostPool(Math.max(1, Math.ceil(o.agents / perHost)), path.join(dir, 'logs'));
    log(
      `starting ${o.agents} agents in ${Math.ceil(o.agents / perHost)} host processes (${cpus().length} cores)`,
    );
    let started: Awaited<ReturnType<HostPool['start']>>;
    try {
      started = await pool.start(specs);
    } catch (error) {
      await pool.kill();
      await backend.close();
      await broker.stop();
      throw error;
    }
    // In provisioning order: deviceIds[i] is device i (stages and planted failures go by index).
    started.sort((a, b) => a.dir.localeCompare(b.dir));
    for (const s of started) backend.register(s.deviceId, s.publicKeyPem);
    // Running is not yet reachable: a device is `online` once it listens to its `cmd` topic
    // (docs/wire-formats.md, Status), and a command sent before that reaches nobody (clean start).
    const deadline = Date.now() + ONLINE_TIMEOUT_MS;
    const offline = () => started.filter((s) => backend.devices.get(s.deviceId)?.online !== true);
    while (offline().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (offline().length > 0)
      log(`${offline().length} devices not online after ${ONLINE_TIMEOUT_MS / 1000} s`);
    return new Fleet({
      dir,
      broker,
      backend,
      pool,
      keys,
      deviceIds: started.map((s) => s.deviceId),
      startedAtMs: Date.now(),
    });
  }

  /** Stops every agent cleanly, the backend and the broker; removes the run directory (and the key). */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    await this.pool.stop();
    await this.backend.close();
    await this.broker.stop();
    if (!options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Waits until every batch the agents sealed is in the backend, or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<LossReport> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.loss();
      if (report.pendingReadings === 0 || Date.now() > until) return report;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /**
   * Readings lost after dedup: every sealed telemetry batch the backend did not store and that is no
   * longer waiting in its outbox. A batch not in the backend while its agent's outbox still holds
   * sealed items counts as pending (the per-batch view of the outbox is the agent's own business).
   */
  async loss(): Promise<LossReport> {
    const ledger = await this.pool.ledger();
    const snap = await this.pool.snapshot();
    const queued = new Map(snap.devices.map((d) => [d.deviceId, d.queuedItems - d.openItems]));
    let sealed = 0;
    let delivered = 0;
    let pending = 0;
    let lost = 0;
    for (const [id, batches] of ledger) {
      const record = this.backend.devices.get(id);
      let missing = 0;
      for (const b of batches) {
        if (b.kind === 'event') continue;
        sealed += b.items;
        const got = record?.batches.get(`${b.boot}/${b.seq}`);
        if (got === undefined) missing += b.items;
        else delivered += Math.min(got, b.items);
      }
      const stillQueued = Math.min(missing, Math.max(0, queued.get(id) ?? 0));
      pending += stillQueued;
      lost += missing - stillQueued;
    }
    let duplicates = 0;
    let bad = 0;
    let invalid = 0;
    for (const d of this.backend.devices.values()) {
      duplicates += d.duplicates;
      bad += d.badSignatures;
      invalid += d.invalid.length;
    }
    return {
      sealedReadings: sealed,
      deliveredReadings: delivered,
      pendingReadings: pending,
      lost,
      duplicatesDropped: duplicates,
      badSignatures: bad,
      invalid,
    };
  }
}

/** Resource use per agent from a pool snapshot. */
export function perAgentUsage(snap: PoolSnapshot): {
  rssPerAgentMB: number;
  agents: number;
  rssTotalMB: number;
} {
  const agents = snap.hosts.reduce((n, h) => n + h.agents, 0);
  const rss = snap.hosts.reduce((n, h) => n + h.rssBytes, 0);
  return {
    agents,
    rssTotalMB: Math.round(rss / 2 ** 20),
    rssPerAgentMB: agents === 0 ? 0 : Math.round((rss / agents / 2 ** 20) * 100) / 100,
  };
}
