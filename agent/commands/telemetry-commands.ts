/**
 * `telemetry`: the outbox (depth, bytes against the budget, oldest age), the link state, the uplink's
 * progress and every kind of drop — what a technician asks first when the backend shows a gap.
 */
import { z } from 'zod';
import type { TelemetryStatus } from '../telemetry/telemetry-service.js';
import type { CommandRegistry } from './registry.js';

export interface TelemetryCommandDeps {
  readonly telemetry: { status(): TelemetryStatus };
}

export function registerTelemetryCommands(registry: CommandRegistry, deps: TelemetryCommandDeps): void {
  registry.register({
    name: 'telemetry',
    summary: 'telemetry queue depth, oldest age, link state and drops',
    args: z.strictObject({}),
    run: async () => deps.telemetry.status(),
  });
}
