/**
 * The fleet's side of the command channel, for operators and tests:
 *  - `edge-agent fleet sign-command --key FLEET.pem… --device ID --command NAME [--arg k=v…]
 *    [--ttl 60s] [--id ID] -o CMD.cose`: a signed command (several --key: COSE_Sign for a threshold).
 *    `--arg k=v` passes v as text, `--arg k:=v` as JSON (`value:=21.5`, `on:=true`, `opts:={"a":1}`).
 *    `iat` is now; `exp` is now + ttl; the id is random unless given.
 *  - `edge-agent fleet verify-result RESULT.cose --pubkey DEV.pem [--id ID]`: checks a result's device
 *    signature (and that it answers command ID) and prints it as JSON; exit 1 if it does not verify.
 */
import { randomBytes } from 'node:crypto';
import { verifyDeviceCose1 } from '../../attest/device-cose.js';
import { decodeResult, type FleetCommand, signFleetCommand } from '../../link/fleet-command.js';
import { CliError, type CliIo, EXIT_FAILED, usageError } from '../shared/cli-io.js';
import { readPrivateKeyFile } from '../shared/key-files.js';
import { writeOutputFile } from '../shared/output-file.js';
import { parseDurationS } from '../shared/parse-args.js';
import { readDevicePublicKey, readSignedFile } from './attest-verify.js';

export interface SignCommandOptions {
  readonly key?: string[];
  readonly device: string;
  readonly command: string;
  readonly arg?: string[];
  readonly ttl: string;
  readonly id?: string;
  readonly output: string;
}

export async function signCommandCommand(opts: SignCommandOptions, io: CliIo): Promise<void> {
  const keyFiles = opts.key ?? [];
  if (keyFiles.length === 0) throw usageError('give at least one --key (a fleet private key PEM)');
  const keys = await Promise.all(keyFiles.map(readPrivateKeyFile));
  const iat = Math.floor(io.nowMs() / 1000);
  const command: FleetCommand = {
    id: opts.id ?? randomBytes(12).toString('base64url'),
    device: opts.device,
    iat,
    exp: iat + parseDurationS('--ttl', opts.ttl),
    cmd: opts.command,
    args: parseArgs(opts.arg ?? []),
  };
  let bytes: Uint8Array;
  try {
    bytes = signFleetCommand(command, keys);
  } catch (e) {
    throw usageError(e instanceof Error ? e.message : String(e));
  }
  await writeOutputFile(opts.output, bytes);
  const { id, device, cmd, exp } = command;
  io.out(
    `${JSON.stringify({ id, device, cmd, iat, exp, args: command.args, output: opts.output, sizeBytes: bytes.length })}\n`,
  );
}

export interface VerifyResultOptions {
  readonly pubkey: string;
  readonly id?: string;
}

export async function verifyResultCommand(file: string, opts: VerifyResultOptions, io: CliIo): Promise<void> {
  const publicKey = await readDevicePublicKey(opts.pubkey);
  const bytes = await readSignedFile(file);
  const verified = verifyDeviceCose1(bytes, publicKey);
  if (!verified.ok)
    throw new CliError(EXIT_FAILED, `${file}: rejected (${verified.code}): ${verified.reason}`);
  const decoded = decodeResult(verified.payload);
  if (!decoded.ok) throw new CliError(EXIT_FAILED, `${file}: rejected (bad-payload): ${decoded.reason}`);
  const r = decoded.result;
  if (opts.id !== undefined && r.id !== opts.id) {
    throw new CliError(EXIT_FAILED, `${file}: answers command ${r.id ?? '(unknown)'}, not ${opts.id}`);
  }
  io.out(
    `${JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))}\n`,
  );
}

/** `k=text` and `k:=json` pairs (httpie's convention) into an object. */
function parseArgs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)(:?=)(.*)$/s.exec(pair);
    if (!m) throw usageError(`--arg must be key=text or key:=json, got "${pair}"`);
    const [, key, op, raw] = m as unknown as [string, string, string, string];
    if (key === '__proto__') throw usageError('--arg key "__proto__" is not allowed');
    if (op === '=') {
      out[key] = raw;
      continue;
    }
    try {
      out[key] = JSON.parse(raw);
    } catch {
      throw usageError(`--arg ${key}:= needs a JSON value, got "${raw}"`);
    }
  }
  return out;
}
