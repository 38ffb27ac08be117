/**
 * Fleet commands and their results on the wire (docs/wire-formats.md "Fleet commands"). A command is a COSE_Sign1
 * (or COSE_Sign) by fleet key(s) from the trust root over the text-keyed CBOR map
 *   {v: 1, id: text, device: text, iat: uint, exp: uint, cmd: text, args?: map}
 * (`id` unique per command, `iat`/`exp` POSIX seconds). `checkFleetCommand` makes every stateless check,
 * in this order, and stops at the first failure: size (`too-large`) → strict COSE (`bad-cose`) → the
 * signature by a threshold of trusted keys (`unknown-key`, `bad-signature`, `below-threshold`) → the
 * payload schema, unknown fields refused (`bad-payload`) → device binding (`wrong-device`) → lifetime
 * (`ttl-too-long`) → time window (`expired`, `not-yet-valid`). Nothing in the payload is looked at
 * before the signature verifies. Replay (`replayed`) and whether the device has the command
 * (`unknown-command`) are the checks the channel adds.
 *
 * Time: `nowMs` is the trusted time — the wall clock while it is trusted, else the later of the wall
 * clock and the latest `iat` accepted (see replay-cache.ts); `exp` is checked against it always. `iat`
 * more than the skew ahead is refused only while the wall clock is trusted — a Pi that booted without
 * RTC or NTP is behind, and refusing every command would leave it unreachable; the replay cache and
 * `exp` still hold then, and `fleet.reset-time` (trusted-time.ts) undoes a time pushed too far ahead.
 * A result is a COSE_Sign1 by the device key over {v: 1, device, iat, status, id?, cmd?, result?,
 * code?, message?} with status `done`, `failed` (the command ran and refused) or `rejected` (never ran).
 */
import { Decoder } from 'cbor-x';
import { scanCbor } from '../core/cbor-scan.js';
import { decodeCose, type PrivateKeyLike, plainCbor, signCose, verifySignatures } from '../core/cose.js';
import { keyTable } from '../core/key-table.js';
import { CborValueError, fromCbor, toCbor } from './cbor-value.js';

/** Every key of a command payload: `v` and the fields of `FleetCommand`; any other is refused. */
export const FLEET_COMMAND_KEYS = keyTable<FleetCommand & { readonly v: 1 }>()([
  'v',
  'id',
  'device',
  'iat',
  'exp',
  'cmd',
  'args',
]);

export type FleetCommandKey = (typeof FLEET_COMMAND_KEYS)[number];

/** Every key of a result payload: `v` and the fields of `CommandResultPayload`. */
export const COMMAND_RESULT_KEYS = keyTable<CommandResultPayload & { readonly v: 1 }>()([
  'v',
  'device',
  'iat',
  'status',
  'id',
  'cmd',
  'result',
  'code',
  'message',
]);

export type CommandResultKey = (typeof COMMAND_RESULT_KEYS)[number];

export interface FleetCommand {
  readonly id: string;
  readonly device: string;
  /** POSIX seconds. */
  readonly iat: number;
  readonly exp: number;
  readonly cmd: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export type RejectCode =
  | 'too-large'
  | 'bad-cose'
  | 'unknown-key'
  | 'bad-signature'
  | 'below-threshold'
  | 'bad-payload'
  | 'wrong-device'
  | 'ttl-too-long'
  | 'expired'
  | 'not-yet-valid'
  | 'replayed'
  | 'unknown-command'
  | 'busy';

export interface CheckContext {
  readonly trustKeys: readonly Uint8Array[];
  readonly threshold: number;
  readonly deviceId: string;
  /** Trusted time, POSIX ms. */
  readonly nowMs: number;
  /** Whether the wall clock is believed now (an `iat` ahead of it is then refused). */
  readonly clockTrusted: boolean;
  readonly skewMs: number;
  readonly maxTtlS: number;
  readonly maxBytes: number;
}

export type CheckResult =
  | { readonly ok: true; readonly command: FleetCommand; readonly kids: readonly Uint8Array[] }
  | {
      readonly ok: false;
      readonly code: RejectCode;
      readonly reason: string;
      /** Present once the signature verified (the id and name may then be reported back). */
      readonly command?: FleetCommand;
    };

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;
const DEVICE = /^[^\s#+/]{1,128}$/;
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

export function encodeFleetCommand(c: FleetCommand): Uint8Array {
  const problem = commandProblem(c);
  if (problem) throw new TypeError(`command: ${problem}`);
  const fields: Record<FleetCommandKey, unknown> = {
    v: 1,
    id: c.id,
    device: c.device,
    iat: c.iat,
    exp: c.exp,
    cmd: c.cmd,
    args: Object.keys(c.args).length > 0 ? toCbor(c.args) : undefined,
  };
  return encodeTextMap(fields);
}

export function signFleetCommand(c: FleetCommand, keys: readonly PrivateKeyLike[]): Uint8Array {
  return signCose(encodeFleetCommand(c), keys);
}

export function checkFleetCommand(bytes: Uint8Array, ctx: CheckContext): CheckResult {
  const authentic = authenticateFleetCommand(bytes, ctx);
  if (!authentic.ok) return authentic;
  const window = checkTimeWindow(authentic.command, ctx);
  return window.ok ? authentic : window;
}

/**
 * Every check of `checkFleetCommand` but the time window: size, COSE, signatures, payload, device,
 * lifetime. The channel judges the window itself for `fleet.reset-time` (trusted-time.ts).
 */
export function authenticateFleetCommand(
  bytes: Uint8Array,
  ctx: Omit<CheckContext, 'nowMs' | 'clockTrusted' | 'skewMs'>,
): CheckResult {
  if (bytes.length > ctx.maxBytes) {
    return reject('too-large', `${bytes.length} bytes exceeds the command limit of ${ctx.maxBytes}`);
  }
  const cose = decodeCose(bytes, { maxBytes: ctx.maxBytes });
  if (!cose.ok) return reject('bad-cose', cose.reason);
  const verified = verifySignatures(cose.value, ctx.trustKeys, ctx.threshold);
  if (!verified.ok) return reject(verified.code, verified.reason);
  const decoded = decodeCommand(verified.payload);
  if (!decoded.ok) return reject('bad-payload', decoded.reason);
  const command = decoded.command;
  const fail = (code: RejectCode, reason: string): CheckResult => ({ ok: false, code, reason, command });
  if (command.device !== ctx.deviceId) {
    return fail(
      'wrong-device',
      `command is for device ${JSON.stringify(command.device)}, not ${ctx.deviceId}`,
    );
  }
  if (command.exp <= command.iat) return fail('bad-payload', 'exp must be after iat');
  if (command.exp - command.iat > ctx.maxTtlS) {
    return fail(
      'ttl-too-long',
      `lifetime ${command.exp - command.iat} s exceeds the limit of ${ctx.maxTtlS} s`,
    );
  }
  return { ok: true, command, kids: verified.kids };
}

/** `expired` and `not-yet-valid` (the latter only while the wall clock is trusted). */
export function checkTimeWindow(
  command: FleetCommand,
  ctx: Pick<CheckContext, 'nowMs' | 'clockTrusted' | 'skewMs'>,
): { readonly ok: true } | (CheckResult & { readonly ok: false }) {
  const fail = (code: RejectCode, reason: string) => ({ ok: false as const, code, reason, command });
  if (command.exp * 1000 + ctx.skewMs <= ctx.nowMs) {
    return fail('expired', `expired at ${iso(command.exp)} (now ${iso(ctx.nowMs / 1000)})`);
  }
  if (ctx.clockTrusted && command.iat * 1000 - ctx.skewMs > ctx.nowMs) {
    return fail('not-yet-valid', `issued at ${iso(command.iat)}, later than now (${iso(ctx.nowMs / 1000)})`);
  }
  return { ok: true };
}

function reject(code: RejectCode, reason: string): CheckResult {
  return { ok: false, code, reason };
}

/** Parses a command payload (the COSE payload); strict: no tags, no unknown fields, bounded. */
export function decodeCommand(
  payload: Uint8Array,
): { ok: true; command: FleetCommand } | { ok: false; reason: string } {
  const scan = scanCbor(payload, {
    maxBytes: payload.length,
    maxDepth: 16,
    maxItems: 4096,
    allowFloats: true,
  });
  if (!scan.ok) return { ok: false, reason: `malformed CBOR payload: ${scan.reason}` };
  try {
    const map: unknown = decoder.decode(payload);
    if (!(map instanceof Map)) return { ok: false, reason: 'payload is not a CBOR map' };
    const known = new Set<unknown>(FLEET_COMMAND_KEYS);
    const unknown = [...map.keys()].filter((k) => typeof k !== 'string' || !known.has(k));
    if (unknown.length > 0)
      return {
        ok: false,
        reason: `unknown field(s) ${unknown.map((k) => JSON.stringify(String(k))).join(', ')}`,
      };
    if (map.get('v') !== 1) return { ok: false, reason: 'field "v" must be 1' };
    const text = (key: FleetCommandKey, pattern: RegExp) => {
      const v = map.get(key);
      if (typeof v !== 'string' || !pattern.test(v))
        throw new CborValueError(`field "${key}" must be text matching ${pattern}`);
      return v;
    };
    const uint = (key: FleetCommandKey) => {
      const raw = map.get(key);
      const v = typeof raw === 'bigint' && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw new CborValueError(`field "${key}" must be an unsigned integer`);
      return v;
    };
    const rawArgs = map.get('args');
    if (rawArgs !== undefined && !(rawArgs instanceof Map))
      return { ok: false, reason: 'field "args" must be a map' };
    const command: FleetCommand = {
      id: text('id', ID),
      device: text('device', DEVICE),
      iat: uint('iat'),
      exp: uint('exp'),
      cmd: text('cmd', NAME),
      args: rawArgs === undefined ? {} : (fromCbor(rawArgs) as Record<string, unknown>),
    };
    return { ok: true, command };
  } catch (e) {
    return {
      ok: false,
      reason: e instanceof CborValueError ? e.message : `undecodable payload: ${String(e)}`,
    };
  }
}

function commandProblem(c: FleetCommand): string | undefined {
  if (!ID.test(c.id)) return `id must match ${ID}`;
  if (!DEVICE.test(c.device)) return `device must match ${DEVICE}`;
  if (!NAME.test(c.cmd)) return `cmd must match ${NAME}`;
  for (const [k, v] of [
    ['iat', c.iat],
    ['exp', c.exp],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) return `${k} must be POSIX seconds`;
  }
  if (typeof c.args !== 'object' || c.args === null || Array.isArray(c.args)) return 'args must be an object';
  return undefined;
}

export type ResultStatus = 'done' | 'failed' | 'rejected';

export interface CommandResultPayload {
  readonly device: string;
  /** Device wall clock, POSIX seconds. */
  readonly iat: number;
  readonly status: ResultStatus;
  /** The command's id and name, when they are known (authentic). */
  readonly id?: string | undefined;
  readonly cmd?: string | undefined;
  readonly result?: unknown;
  readonly code?: string | undefined;
  readonly message?: string | undefined;
}

export function encodeResult(r: CommandResultPayload): Uint8Array {
  const fields: Record<CommandResultKey, unknown> = {
    v: 1,
    device: r.device,
    iat: r.iat,
    status: r.status,
    id: r.id,
    cmd: r.cmd,
    result: r.result === undefined ? undefined : toCbor(r.result),
    code: r.code,
    message: r.message,
  };
  return encodeTextMap(fields);
}

/** Parses a result payload; `result` stays as decoded CBOR turned into plain objects. */
export function decodeResult(
  payload: Uint8Array,
): { ok: true; result: CommandResultPayload } | { ok: false; reason: string } {
  const scan = scanCbor(payload, { maxBytes: 1 << 20, maxDepth: 24, maxItems: 1 << 16, allowFloats: true });
  if (!scan.ok) return { ok: false, reason: `malformed CBOR: ${scan.reason}` };
  try {
    const map: unknown = decoder.decode(payload);
    if (!(map instanceof Map) || map.get('v') !== 1) return { ok: false, reason: 'not a v1 result map' };
    const o = fromCbor(map) as Record<string, unknown>;
    if (typeof o.device !== 'string' || typeof o.iat !== 'number')
      return { ok: false, reason: 'device and iat are required' };
    if (o.status !== 'done' && o.status !== 'failed' && o.status !== 'rejected')
      return { ok: false, reason: 'bad status' };
    const opt = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    return {
      ok: true,
      result: {
        device: o.device,
        iat: o.iat,
        status: o.status,
        id: opt('id'),
        cmd: opt('cmd'),
        result: o.result,
        code: opt('code'),
        message: opt('message'),
      },
    };
  } catch (e) {
    return { ok: false, reason: `undecodable result: ${String(e)}` };
  }
}

/** A text-keyed map in deterministic order (RFC 8949 §4.2.1: shorter keys first, then bytewise). */
function encodeTextMap(fields: Record<string, unknown>): Uint8Array {
  const entries = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return new Uint8Array(plainCbor.encode(new Map(entries)));
}

function iso(posixS: number): string {
  const d = new Date(posixS * 1000);
  return Number.isNaN(d.getTime()) ? String(posixS) : d.toISOString();
}
