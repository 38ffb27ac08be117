/**
 * `models`: the inference models, as `devices` shows the devices — each model's state (`running`,
 * `faulted`, …), the file it runs, why its outputs are stale if they are (the runtime not installed,
 * a run that threw or was late, an input that is not good), its run counters and the last run's
 * duration. The outputs themselves are points (`points`), their alarms alarms (`alarms`).
 */
import { z } from 'zod';
import type { ModelStatus } from '../infer/inference-engine.js';
import type { CommandRegistry } from './registry.js';

export function registerInferenceCommands(
  registry: CommandRegistry,
  deps: { inference: { status(): ModelStatus[] } },
): void {
  registry.register({
    name: 'models',
    summary: 'inference models: state, file, why the outputs are stale, runs and run time',
    args: z.strictObject({}),
    run: async () => deps.inference.status(),
  });
}
