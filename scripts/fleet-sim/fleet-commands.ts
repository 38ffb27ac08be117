/**
 * The fleet's side of the signed command channel in the simulation: one command per device, signed
 * with the run's fleet key by the agent's own command codec (as `edge-agent fleet sign-command`
 * does), published to `<prefix>/<id>/cmd`, and the wait for the devices' signed results.
 */
import { signFleetCommand } from '../../agent/link/fleet-command.js';
import type { CommandResult } from './backend.js';
import type { Fleet } from './fleet.js';

export function signCommand(
  fleet: Fleet,
  device: string,
  id: string,
  cmd: string,
  args: Record<string, unknown> = {},
  ttlS = 600,
): Uint8Array {
  const iat = Math.floor(Date.now() / 1000);
  return signFleetCommand({ id, device, iat, exp: iat + ttlS, cmd, args }, [fleet.keys]);
}

/** The results the backend holds for command `id` of `device`. */
export function resultsOf(fleet: Fleet, device: string, id: string): readonly CommandResult[] {
  return fleet.backend.devices.get(device)?.results.get(id) ?? [];
}

/** Waits until `done(device)` holds for every device, or `timeoutMs`; returns the devices still waiting. */
export async function waitForAll(
  devices: readonly string[],
  done: (device: string) => boolean,
  timeoutMs: number,
): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const waiting = devices.filter((d) => !done(d));
    if (waiting.length === 0 || Date.now() > until) return waiting;
    await new Promise((r) => setTimeout(r, 250));
  }
}
