/**
 * `edge-agent keygen --out DIR [--name fleet]`: a fresh Ed25519 key pair as NAME.pem (PKCS#8, mode 0600)
 * and NAME.pub.pem (SPKI), the same files `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`
 * write. Existing files are never overwritten unless `--force`.
 */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, kidOf, privateKeyToPem, publicKeyToPem } from '../../core/ed25519-keys.js';
import { errorMessage } from '../../core/errors.js';
import { CliError, type CliIo, EXIT_FAILED, usageError } from '../shared/cli-io.js';
import { writeOutputFile } from '../shared/output-file.js';

export interface KeygenOptions {
  readonly out: string;
  readonly name: string;
  readonly force?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function keygenCommand(opts: KeygenOptions, io: CliIo): Promise<void> {
  if (!NAME.test(opts.name)) throw usageError(`--name must match ${NAME} (a file name, not a path)`);
  try {
    await mkdir(opts.out, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError(EXIT_FAILED, `${opts.out}: cannot create directory: ${errorMessage(e)}`);
  }
  const privateFile = join(opts.out, `${opts.name}.pem`);
  const publicFile = join(opts.out, `${opts.name}.pub.pem`);
  const overwrite = opts.force === true;
  if (!overwrite) {
    for (const file of [privateFile, publicFile]) {
      if (await exists(file)) throw usageError(`${file} exists; pass --force to replace it`);
    }
  }
  const pair = generateKeyPair();
  await writeOutputFile(privateFile, privateKeyToPem(pair), { mode: 0o600, overwrite });
  await writeOutputFile(publicFile, publicKeyToPem(pair.publicKey), { mode: 0o644, overwrite });
  const kid = Buffer.from(kidOf(pair.publicKey)).toString('hex');
  io.out(`${JSON.stringify({ privateKey: privateFile, publicKey: publicFile, kid })}\n`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
