/**
 * The command line: `edge-agent run` and the tools subcommands (console, passwd, keygen, manifest,
 * trust, identity, attest, fleet), parsed with commander. It touches no process state of its own:
 * main.ts, the entry, hands it the streams, the environment and what `run` does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { identitySettingsFrom } from '../attest/attest-schema.js';
import { loadConfig } from '../config/load-config.js';
import { DEFAULT_CONSOLE_SOCKET, runConsoleClient } from '../console/socket-client.js';
import { SystemClock } from '../core/clock.js';
import { isConfigError } from '../core/errors.js';
import { hostPaths } from '../core/host-paths.js';
import { packageInfo } from '../core/package-info.js';
import { DRIVERS } from '../hal/drivers/registry.js';
import type { RunOptions } from '../run-options.js';
import { addAttestTools } from './attest/add-attest-tools.js';
import { addOtaTools } from './ota/add-ota-tools.js';
import { CliError, type CliProcess, EXIT_BAD_KEY, toolAction } from './shared/cli-io.js';

export interface ProgramIo {
  /** `edge-agent run`: the agent itself (main.ts). */
  run(options: RunOptions): Promise<void>;
  /** Output, exit codes and the clock for the tools subcommands. */
  readonly cli: CliProcess;
  readonly stdio: {
    readonly stdin: NodeJS.ReadStream;
    readonly stdout: NodeJS.WriteStream;
    readonly stderr: NodeJS.WriteStream;
  };
  readonly env: NodeJS.ProcessEnv;
}

export function buildProgram(io: ProgramIo): Command {
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
      await io.run({ configFile: opts.config, boardFile: opts.board });
    });

  program
    .command('console')
    .description('the technician console of the running agent, over its Unix socket')
    .option('-s, --socket <path>', 'console socket', DEFAULT_CONSOLE_SOCKET)
    .option('-c, --command <line>', 'run this command line and exit (repeatable)', collect, [])
    .option('-u, --user <name>', 'with -c: the console user', 'tech')
    .option(
      '--password-file <file>',
      'with -c: read the password from this file (else EDGE_AGENT_CONSOLE_PASSWORD)',
    )
    .addHelpText(
      'after',
      '\nExit status with -c or piped commands: 0 all succeeded, 1 login failed, 2 a command failed.',
    )
    .action(async (opts: { socket: string; command: string[]; user: string; passwordFile?: string }) => {
      const { stdin, stdout, stderr } = io.stdio;
      let script: { commands: string[]; user: string; password: string } | undefined;
      if (opts.command.length > 0) {
        const password = await consolePassword(opts.passwordFile, io);
        if (password === undefined) {
          stderr.write(
            'edge-agent console: no password (--password-file, EDGE_AGENT_CONSOLE_PASSWORD, or a terminal)\n',
          );
          io.cli.setExitCode(1);
          return;
        }
        script = { commands: opts.command, user: opts.user, password };
      }
      io.cli.setExitCode(await runConsoleClient({ socketPath: opts.socket, stdin, stdout, stderr, script }));
    });

  program
    .command('passwd')
    .description('make a console.users entry (scrypt hash) for the configuration')
    .option('-u, --user <name>', 'console user name', 'tech')
    .option(
      '--unlock',
      "instead: lift the console lockout of --user at its next login attempt (the agent's state directory)",
    )
    .option('-c, --config <file>', 'with --unlock: the agent configuration (for its stateDir)')
    .action(
      toolAction(io.cli, async (opts: { user: string; unlock?: boolean; config?: string }) => {
        const { stdin, stdout, stderr } = io.stdio;
        if (opts.unlock) {
          const stateDir = (await loadAgentConfig(io, opts.config)).stateDir;
          const { UnlockRequests } = await import('../console/unlock-requests.js');
          const file = await new UnlockRequests(stateDir).request(opts.user);
          stderr.write(`edge-agent passwd: ${opts.user} is unlocked at its next login attempt (${file})\n`);
          return;
        }
        const { runPasswd } = await import('../console/passwd-command.js');
        io.cli.setExitCode(await runPasswd({ user: opts.user, stdin, stdout, stderr }));
      }),
    );

  addOtaTools(program, io.cli);
  addAttestTools(program, io.cli, {
    clock: new SystemClock(),
    identitySettings: async (o) => {
      const loaded = await loadAgentConfig(io, o.config, o.board);
      return identitySettingsFrom(loaded.config, loaded.stateDir);
    },
  });
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The password for `console -c`: a file's first line, EDGE_AGENT_CONSOLE_PASSWORD, or asked on a tty. */
async function consolePassword(file: string | undefined, io: ProgramIo): Promise<string | undefined> {
  if (file) return (await readFile(file, 'utf8')).split(/\r?\n/)[0];
  const fromEnv = io.env.EDGE_AGENT_CONSOLE_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!io.stdio.stdin.isTTY) return undefined;
  const { readSecret } = await import('../console/passwd-command.js');
  return readSecret('password: ', io.stdio);
}

/** The agent's configuration, for the tools that act on its state; a mistake exits 78 as `run` does. */
async function loadAgentConfig(io: ProgramIo, configFile?: string, boardFile?: string) {
  try {
    return await loadConfig({
      configFile,
      boardFile,
      env: io.env,
      paths: hostPaths(),
      drivers: DRIVERS,
      boardsDir: path.join(packageInfo().root, 'boards'),
    });
  } catch (e) {
    if (isConfigError(e)) throw new CliError(EXIT_BAD_KEY, `configuration error\n${e.message}`);
    throw e;
  }
}
