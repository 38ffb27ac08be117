/**
 * Runs a bootloader's host tool (`nvbootctrl`, `efibootmgr`) through the OTA layer's one seam for host
 * tools (`RunCommand`) and turns every way it can fail into `InstallError('EBOOT_ENV')` naming the
 * command line and what the tool said: a program that cannot be started, a non-zero exit, a signal.
 * The backends parse what it printed; output they cannot read is their `EBOOT_ENV` (`toolOutputError`).
 */
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';
import type { RunCommand } from '../run-command.js';

/** Runs `argv` and returns its standard output; rejects with `EBOOT_ENV` unless it exits with 0. */
export async function runBootTool(run: RunCommand, argv: readonly string[]): Promise<string> {
  const command = argv.join(' ');
  let out: Awaited<ReturnType<RunCommand>>;
  try {
    out = await run(argv, { timeoutMs: 30_000 });
  } catch (e) {
    throw new InstallError('EBOOT_ENV', 'boot-env', `cannot run ${command}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (out.code !== 0) {
    const said = lastLine(out.stderr) || lastLine(out.stdout) || 'no output';
    const how = out.code === null ? 'was killed' : `exited with ${out.code}`;
    throw new InstallError('EBOOT_ENV', 'boot-env', `${command} ${how}: ${said}`);
  }
  return out.stdout;
}

/** The error for output a backend cannot read: names the command and quotes what it printed. */
export function toolOutputError(argv: readonly string[], reason: string, stdout: string): InstallError {
  const shown = stdout.trim().split('\n').slice(0, 3).join(' | ').slice(0, 200);
  return new InstallError(
    'EBOOT_ENV',
    'boot-env',
    `${argv.join(' ')}: ${reason} (it printed: ${shown === '' ? 'nothing' : JSON.stringify(shown)})`,
  );
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}
