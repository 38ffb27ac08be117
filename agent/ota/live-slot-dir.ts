/**
 * The slot directory a live component (`kind: model | rules`) runs from, read without the OTA manager:
 * the local part of the agent (build-local.ts) loads models before updates are even imported.
 * The same file the manager's LiveSlotBackend writes once a switch is proven.
 */
import path from 'node:path';
import { LiveSlotBackend } from './boot/live.js';
import type { OtaConfig } from './ota-schema.js';

export function liveSlotFile(stateDir: string, component: string): string {
  return path.join(stateDir, 'ota', component, 'live-slot.env');
}

export async function liveSlotDir(
  ota: OtaConfig | undefined,
  where: { stateDir: string; baseDir: string },
  component: string,
): Promise<string> {
  const c = ota?.components[component];
  if (!c || c.kind === 'system')
    throw new Error(`ota component ${component} is not a model or rules component`);
  const slot = await new LiveSlotBackend({ file: liveSlotFile(where.stateDir, component) }).getCurrent();
  return path.resolve(where.baseDir, c.slots[slot]);
}
