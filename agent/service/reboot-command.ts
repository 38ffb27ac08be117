/**
 * `reboot`: restarts the gateway through systemd (`systemctl reboot`, allowed for the agent's user by
 * the polkit rule scripts/install.sh writes), so every service stops in order — the agent itself
 * leaves its actuators in their safe state on the way down. The answer is sent first; the reboot
 * starts `delayMs` later. Registered only if nothing else (the fleet channel) registered one.
 */
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { CommandRegistry } from '../commands/registry.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface RebootDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Starts the reboot (default: `systemctl reboot`). */
  readonly reboot?: () => Promise<void>;
}

export function registerRebootCommand(registry: CommandRegistry, deps: RebootDeps, delayMs = 2000): void {
  if (registry.get('reboot')) return;
  const reboot = deps.reboot ?? systemctlReboot;
  registry.register({
    name: 'reboot',
    summary: 'restart the gateway (services stop in order; outputs go to their safe state)',
    actuates: true,
    args: z.strictObject({}),
    describe: async () => [`the gateway reboots in ${delayMs / 1000} s; every console session ends`],
    run: async (_args, ctx) => {
      deps.log.warn({ by: `${ctx.via}:${ctx.who}`, inMs: delayMs }, 'reboot requested');
      deps.clock.setTimeout(() => {
        reboot().catch((error: unknown) => deps.log.error({ err: errorMessage(error) }, 'reboot failed'));
      }, delayMs);
      return { rebootingInS: delayMs / 1000 };
    },
  });
}

function systemctlReboot(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('systemctl', ['reboot'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`systemctl reboot: ${stderr.trim()}`)),
    );
  });
}
