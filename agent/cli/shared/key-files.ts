/**
 * Reading and writing Ed25519 key files for the release commands. A file that cannot be read, or that
 * is not an Ed25519 key of the expected kind, is a CliError with exit code 78 naming the file.
 */
import { readFile } from 'node:fs/promises';
import { type KeyPair, parsePrivateKeyPem, parsePublicKeyPem } from '../../core/ed25519-keys.js';
import { errorMessage } from '../../core/errors.js';
import { CliError, EXIT_BAD_KEY } from './cli-io.js';

const MAX_KEY_FILE_BYTES = 64 * 1024;

async function readKeyFile(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new CliError(EXIT_BAD_KEY, `${file}: cannot read key file: ${errorMessage(e)}`);
  }
  if (bytes.length > MAX_KEY_FILE_BYTES)
    throw new CliError(EXIT_BAD_KEY, `${file}: too large for a key file`);
  return new Uint8Array(bytes);
}

export async function readPrivateKeyFile(file: string): Promise<KeyPair> {
  const parsed = parsePrivateKeyPem(await readKeyFile(file));
  if (!parsed.ok) throw new CliError(EXIT_BAD_KEY, `${file}: ${parsed.reason}`);
  return parsed.value;
}

/** A public key; a private key file is accepted too and yields its public half. */
export async function readPublicKeyFile(file: string): Promise<Uint8Array> {
  const parsed = parsePublicKeyPem(await readKeyFile(file));
  if (!parsed.ok) throw new CliError(EXIT_BAD_KEY, `${file}: ${parsed.reason}`);
  return parsed.value;
}
