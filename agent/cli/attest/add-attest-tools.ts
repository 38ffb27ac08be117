/**
 * Wires the identity, attestation and fleet commands into the `edge-agent` command line:
 * `identity show`, `attest verify`, `fleet sign-command`, `fleet verify-result`. Same conventions as
 * the release commands (cli/ota/add-ota-tools.ts): a CliError becomes its message and exit code,
 * anything else exit 1, usage mistakes commander finds exit 2 — never a stack trace. (The running
 * agent's `attest` command, which makes evidence, is attest/attest-command.ts.)
 */
import type { Command, CommanderError } from 'commander';
import type { IdentitySettings } from '../../attest/identity.js';
import type { Clock } from '../../core/clock.js';
import { type CliProcess, EXIT_OK, EXIT_USAGE, toolAction } from '../shared/cli-io.js';
import { collect } from '../shared/parse-args.js';
import type { signCommandCommand } from './fleet-commands.js';

export interface AttestToolsDeps {
  /** Reads the agent configuration (`--config`, `--board` as for `run`) into identity settings. */
  identitySettings(options: { config?: string; board?: string }): Promise<IdentitySettings>;
  readonly clock: Clock;
}

export function addAttestTools(program: Command, proc: CliProcess, deps: AttestToolsDeps): void {
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => toolAction(proc, fn);

  const identity = program.command('identity').description("the device's identity (key and id)");
  identity
    .command('show')
    .description('print the device id and public key (JSON); --pem writes the public key file')
    .option('-c, --config <file>', 'configuration file (as for `run`)')
    .option('-b, --board <file>', 'board profile (as for `run`)')
    .option('--create', 'make the identity if the agent has not yet')
    .option('--pem <file>', 'write the public key (SPKI PEM) here')
    .action(
      run((o: { config?: string; board?: string; create?: boolean; pem?: string }) =>
        import('./identity-show.js').then((m) =>
          m.identityShowCommand(o, { settings: () => deps.identitySettings(o), clock: deps.clock }, proc),
        ),
      ),
    );

  const attest = program.command('attest').description('check attestation evidence (the fleet side)');
  attest
    .command('verify')
    .description('verify evidence against the device key and nonce; --expect says which claim differs')
    .argument('<evidence>', 'evidence file (COSE_Sign1 bytes or base64)')
    .requiredOption('--pubkey <file>', "the device's public key (PEM)")
    .requiredOption('--nonce <hex>', 'the nonce the evidence was asked for')
    .option('--expect <file>', 'reference values (YAML)')
    .action(
      run((file: string, o: { pubkey: string; nonce: string; expect?: string }) =>
        import('./attest-verify.js').then((m) => m.attestVerifyCommand(file, o, proc)),
      ),
    );

  const fleet = program.command('fleet').description('sign commands for a device and check its results');
  fleet
    .command('sign-command')
    .description('write a signed command for one device (several --key: threshold signing)')
    .option('--key <file>', 'fleet private key PEM (repeatable)', collect)
    .requiredOption('--device <id>', 'the device id the command is bound to')
    .requiredOption('--command <name>', 'registry command, e.g. status, attest, loop.setpoint')
    .option('--arg <k=v>', 'argument: k=text or k:=json (repeatable)', collect)
    .option('--ttl <duration>', 'lifetime: 60s, 5m, 1h', '60s')
    .option('--id <id>', 'command id (default: random)')
    .requiredOption('-o, --output <file>', 'where to write the signed command')
    .action(
      run((o: Parameters<typeof signCommandCommand>[0]) =>
        import('./fleet-commands.js').then((m) => m.signCommandCommand(o, proc)),
      ),
    );
  fleet
    .command('verify-result')
    .description("verify a command result's device signature and print it")
    .argument('<result>', 'result file (COSE_Sign1 bytes or base64)')
    .requiredOption('--pubkey <file>', "the device's public key (PEM)")
    .option('--id <id>', 'also require the result to answer this command id')
    .action(
      run((file: string, o: { pubkey: string; id?: string }) =>
        import('./fleet-commands.js').then((m) => m.verifyResultCommand(file, o, proc)),
      ),
    );

  const onExit = (err: CommanderError): never => proc.exit(err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE);
  for (const cmd of [identity, attest, fleet, ...identity.commands, ...attest.commands, ...fleet.commands]) {
    cmd.exitOverride(onExit);
  }
}
