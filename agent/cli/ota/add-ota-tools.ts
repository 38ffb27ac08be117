/**
 * Wires the release-pipeline commands into the `edge-agent` command line: `keygen`, `manifest create`,
 * `manifest verify`, `trust create`, `trust rotate`. Each action runs one command function; a CliError
 * becomes its message on stderr and its exit code, anything else exit 1 — never a stack trace. Usage
 * mistakes commander detects (missing option, unknown flag) exit 2. Program options are made positional
 * (`edge-agent --version`, not `edge-agent manifest create --version`), since `manifest create` has a
 * `--version` of its own. The commands themselves are imported when run, so that `edge-agent run`
 * does not load them. (The running agent's `ota.*` console and fleet commands are another thing:
 * commands/ota-commands.ts.)
 */
import type { Command, CommanderError } from 'commander';
import { type CliProcess, EXIT_OK, EXIT_USAGE, toolAction } from '../shared/cli-io.js';
import { collect } from '../shared/parse-args.js';
import type { manifestCreateCommand } from './manifest-create.js';
import type { manifestVerifyCommand } from './manifest-verify.js';
import type { trustCreateCommand, trustRotateCommand } from './trust-commands.js';

export function addOtaTools(program: Command, proc: CliProcess): void {
  program.enablePositionalOptions();
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => toolAction(proc, fn);

  const keygen = program
    .command('keygen')
    .description('generate an Ed25519 signing key pair (NAME.pem, NAME.pub.pem)')
    .requiredOption('--out <dir>', 'directory to write the key files to')
    .option('--name <name>', 'file name stem', 'fleet')
    .option('--force', 'replace existing key files')
    .action(
      run((o: { out: string; name: string; force?: boolean }) =>
        import('./keygen.js').then((m) => m.keygenCommand(o, proc)),
      ),
    );

  const manifest = program.command('manifest').description('create and verify signed update manifests');
  manifest
    .command('create')
    .description('describe a payload file and sign the manifest (several --key: threshold signing)')
    .requiredOption('--component <name>', 'slot class: rootfs, agent, …')
    .requiredOption('--version <version>', 'version text of the payload')
    .requiredOption('--seq <n>', 'sequence number, strictly increasing per component')
    .option('--hw <board>', 'board id the payload runs on (repeatable)', collect)
    .requiredOption('--payload <file>', 'the image or bundle to describe')
    .option('--url <url>', 'where devices download the payload (http or https)')
    .option('--expires <iso>', 'ISO 8601 time after which devices refuse the manifest')
    .option('--format <format>', 'raw (image) or tar (directory bundle)', 'raw')
    .option(
      '--chunk <bytes>',
      'hash the payload in chunks of this size (default 1M, larger for huge payloads)',
    )
    .option('--no-chunk', 'no per-chunk hashes: devices can check the payload only once it is all written')
    .option('--key <file>', 'PKCS#8 PEM private key to sign with (repeatable)', collect)
    .requiredOption('-o, --output <file>', 'where to write the signed manifest')
    .action(
      run((o: Parameters<typeof manifestCreateCommand>[0]) =>
        import('./manifest-create.js').then((m) => m.manifestCreateCommand(o, proc)),
      ),
    );
  manifest
    .command('verify')
    .description('verify a signed manifest; prints its fields as JSON, or the reason and exit 1')
    .argument('<file>', 'signed manifest (COSE)')
    .option('--key <file>', 'trusted public key PEM (repeatable)', collect)
    .option('--threshold <n>', 'signatures required with --key (default 1)')
    .option('--trust <file>', 'trust root (COSE) instead of --key')
    .option('--board <id>', 'also require hw to include this board')
    .option('--component <name>', 'also require this component')
    .action(
      run((file: string, o: Parameters<typeof manifestVerifyCommand>[1]) =>
        import('./manifest-verify.js').then((m) => m.manifestVerifyCommand(file, o, proc)),
      ),
    );

  const trust = program.command('trust').description('create and rotate the fleet trust root');
  trust
    .command('create')
    .description('create a first trust root, self-signed by a threshold of its keys')
    .requiredOption('--threshold <n>', 'signatures required on manifests and on the next root')
    .option('--key <file>', 'public key PEM to trust (repeatable)', collect)
    .option('--sign <file>', 'private key PEM to sign the root with (repeatable)', collect)
    .option('--version <n>', 'root version (default 1)')
    .option('--expires <iso>', 'ISO 8601 time after which the root no longer authorises manifests')
    .requiredOption('-o, --output <file>', 'where to write the root')
    .action(
      run((o: Parameters<typeof trustCreateCommand>[0]) =>
        import('./trust-commands.js').then((m) => m.trustCreateCommand(o, proc)),
      ),
    );
  trust
    .command('rotate')
    .description('make the successor of a root, signed by a threshold of the old AND of the new keys')
    .requiredOption('--old <file>', 'the current trust root')
    .option('--new-key <file>', 'public key PEM of the new root (repeatable)', collect)
    .option('--threshold <n>', "the new root's threshold (default: the old one's)")
    .option('--sign <file>', 'private key PEM, old or new (repeatable)', collect)
    .option('--version <n>', 'new root version (default: old + 1)')
    .option('--expires <iso>', 'ISO 8601 time after which the new root no longer authorises manifests')
    .requiredOption('-o, --output <file>', 'where to write the new root')
    .action(
      run((o: Parameters<typeof trustRotateCommand>[0]) =>
        import('./trust-commands.js').then((m) => m.trustRotateCommand(o, proc)),
      ),
    );

  // Commander ends the process itself on usage errors (exit 1 by default); make those 2 (EX_USAGE).
  const onExit = (err: CommanderError): never => proc.exit(err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE);
  for (const cmd of [keygen, manifest, trust, ...manifest.commands, ...trust.commands])
    cmd.exitOverride(onExit);
}
