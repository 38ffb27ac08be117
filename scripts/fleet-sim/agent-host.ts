/**
 * An agent host: one Node.js process running many real agents in-process (HostedDevice), each with
 * its own configuration, state directory, identity, simulated board and MQTT session. One process
 * per agent would cost a V8 heap and the module graph each (~50 MB); sharing them is what lets a
 * thousand agents fit the machine. Agents share nothing else: the agent keeps no process-global
 * state (only main.ts touches the process, and it is not used here).
 *
 * Started by host-pool.ts with an IPC channel; answers the requests of host-protocol.ts. Agents log
 * warnings and errors as JSON lines to `--log FILE`.
 */
import pino from 'pino';
import { SystemClock } from '../../agent/core/clock.js';
import type { Logger } from '../../agent/core/log.js';
import { deviceFiles } from './device-config.js';
import type { HostReply, HostRequest } from './host-protocol.js';
import { HostedDevice } from './hosted-device.js';
import { findRepoRoot } from './repo-root.js';

const REPO_ROOT = findRepoRoot();

const logFile = process.argv[process.argv.indexOf('--log') + 1];
const log: Logger = pino({ level: 'warn' }, pino.destination({ dest: logFile ?? 2, sync: false }));
const clock = new SystemClock();
const devices: HostedDevice[] = [];

function reply(message: HostReply): void {
  process.send?.(message);
}

async function handle(req: HostRequest): Promise<HostReply> {
  switch (req.op) {
    case 'start': {
      const added = req.devices.map(
        (d) => new HostedDevice(deviceFiles(d.dir), d.planted, { clock, log, repoRoot: REPO_ROOT }),
      );
      devices.push(...added);
      // A few at a time: a thousand LevelDB opens and key generations at once only queue up anyway.
      for (let i = 0; i < added.length; i += 8)
        await Promise.all(added.slice(i, i + 8).map((d) => d.start()));
      return {
        id: req.id,
        ok: true,
        started: added.map((d) => ({ dir: d.files.dir, deviceId: d.deviceId, publicKeyPem: d.publicKeyPem })),
      };
    }
    case 'snapshot': {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      return {
        id: req.id,
        ok: true,
        usage: {
          rssBytes: mem.rss,
          heapUsedBytes: mem.heapUsed,
          cpuMicros: cpu.user + cpu.system,
          agents: devices.length,
        },
        devices: devices.map((d) => d.snapshot()),
      };
    }
    case 'ledger':
      return { id: req.id, ok: true, ledger: Object.fromEntries(devices.map((d) => [d.deviceId, d.sealed])) };
    case 'stop':
      await Promise.all(devices.map((d) => d.stop()));
      return { id: req.id, ok: true, stopped: true };
  }
}

process.on('message', (req: HostRequest) => {
  handle(req).then(reply, (error: unknown) =>
    reply({
      id: req.id,
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
  );
});
// The simulator went away: nothing left to host.
process.on('disconnect', () => process.exit(0));
