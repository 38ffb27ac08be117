/**
 * `node dist/scripts/fleet-sim/main.js steady|outage|rollout|fanout --agents N [--seconds S]
 * [--per-host K]`: runs one fleet scenario (README "Fleets"). Progress and the per-device table go to
 * stderr; the last line on stdout is one JSON object with the scenario's figures.
 */
import { parseFlags } from '../bench/stats.js';
import { runScenario, SCENARIOS, type ScenarioName } from './run-scenario.js';

const [name, ...args] = process.argv.slice(2);
if (!name || !(SCENARIOS as readonly string[]).includes(name)) {
  process.stderr.write(
    `usage: fleet-sim <${SCENARIOS.join('|')}> --agents N [--seconds S] [--per-host K] [--outage-s S]\n`,
  );
  process.exit(2);
}
const summary = await runScenario(name as ScenarioName, parseFlags(args), (l) =>
  process.stderr.write(`${l}\n`),
);
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
