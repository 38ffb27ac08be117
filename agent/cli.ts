#!/usr/bin/env node
/**
 * Command-line entry: `edge-agent run`, and the subcommands later capabilities add. Parses arguments
 * and hands over to main.ts, which alone touches the process.
 */
import { Command } from 'commander';
import { packageInfo } from './core/package-info.js';
import { runAgent } from './main.js';

const program = new Command()
  .name('edge-agent')
  .description('Edge gateway agent: sensors, local control, durable telemetry, A/B updates')
  .version(packageInfo().version, '-V, --version')
  .showHelpAfterError()
  .showSuggestionAfterError();

program
  .command('run')
  .description('run the agent (the systemd service runs this)')
  .option(
    '-c, --config <file>',
    'configuration file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/agent.yaml)',
  )
  .option('-b, --board <file>', "board profile (default: the configuration's `board`, else detected)")
  .action(async (opts: { config?: string; board?: string }) => {
    await runAgent({ configFile: opts.config, boardFile: opts.board });
  });

await program.parseAsync(process.argv);
