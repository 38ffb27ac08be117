/**
 * The JSON shapes of the Eclipse hawkBit DDI (Direct Device Integration) API v1, and the checks hawkBit
 * applies to what a device sends, for the test DDI server (`ddi-server.ts`) and, later, the client.
 *
 * Sources, read for this file (eclipse-hawkbit/hawkbit, `hawkbit-ddi/hawkbit-ddi-api/.../json/model/`):
 * `DdiControllerBase`, `DdiConfig`/`DdiPolling`, `DdiDeploymentBase`, `DdiDeployment` (with
 * `HandlingType` and `DdiMaintenanceWindowStatus`), `DdiChunk`, `DdiArtifact`, `DdiArtifactHash`,
 * `DdiMetadata`, `DdiActionHistory`, `DdiCancel`/`DdiCancelActionToStop`, `DdiActionFeedback`,
 * `DdiStatus` (`ExecutionStatus`), `DdiResult` (`FinalResult`), `DdiProgress`, `DdiConfigData`,
 * `DdiUpdateMode`; the error body is `ExceptionInfo` with the keys of `SpServerError`
 * (`hawkbit-rest-core`, `ResponseExceptionHandler`). The published pages say the same:
 * https://eclipse.dev/hawkbit/apis/ddi_api and the OpenAPI document at
 * https://eclipse.dev/hawkbit/rest-api/ddi/.
 *
 * What hawkBit accepts: Jackson with `@JsonIgnoreProperties(ignoreUnknown = true)` (unknown members are
 * ignored, so clients that still send the old `id` and `time` members pass) and Bean Validation
 * (`@NotNull`, `@NotEmpty`); enums match their lower-case JSON names exactly. A refusal is 400 with
 * `errorCode: hawkbit.server.error.rest.body.notReadable` (an attribute key or value over 128
 * characters: `hawkbit.server.error.repo.invalidTargetAttributes`) — the `reason` returned here is for
 * test failure messages only. The checks are stricter than Jackson on purpose: numbers must be JSON
 * numbers and attribute values JSON strings (Jackson would coerce `"2"` and `2`), so that a client
 * that passes here passes there.
 */

/** `DdiStatus.ExecutionStatus`, as sent in `status.execution`. */
export const EXECUTION_STATUSES = [
  'closed',
  'proceeding',
  'canceled',
  'scheduled',
  'rejected',
  'resumed',
  'downloaded',
  'download',
] as const;
export type DdiExecution = (typeof EXECUTION_STATUSES)[number];

/** `DdiResult.FinalResult`, as sent in `status.result.finished`. */
export const FINAL_RESULTS = ['success', 'failure', 'none'] as const;
export type DdiFinished = (typeof FINAL_RESULTS)[number];

/** `DdiDeployment.HandlingType`: what the server asks of the download and the update. */
export type DdiHandling = 'skip' | 'attempt' | 'forced';

/** `DdiDeployment.DdiMaintenanceWindowStatus`; absent when the action has no maintenance schedule. */
export type DdiMaintenanceWindow = 'available' | 'unavailable';

/** `DdiUpdateMode` for `PUT configData`; hawkBit's default is `merge`. */
export const UPDATE_MODES = ['merge', 'replace', 'remove'] as const;
export type DdiUpdateMode = (typeof UPDATE_MODES)[number];

export interface DdiLink {
  readonly href: string;
}

/** `GET /{tenant}/controller/v1/{controllerId}`. Hrefs are absolute. */
export interface DdiControllerBase {
  /** `sleep` is `HH:MM:SS`. */
  readonly config: { readonly polling: { readonly sleep: string } };
  readonly _links?: {
    /** `.../deploymentBase/{actionId}?c={int}`: `c` changes when the action does (forced, window). */
    readonly deploymentBase?: DdiLink;
    /** Instead of `deploymentBase` while the active action is being canceled. */
    readonly cancelAction?: DdiLink;
    /** Only when the server wants the attributes: first contact, after a success, or on request. */
    readonly configData?: DdiLink;
    /** The last finished (not active, not canceled) action. */
    readonly installedBase?: DdiLink;
  };
}

export interface DdiArtifactHash {
  readonly sha1: string;
  readonly md5: string;
  readonly sha256: string;
}

export interface DdiArtifact {
  readonly filename: string;
  readonly hashes: DdiArtifactHash;
  readonly size: number;
  /** `download`/`md5sum` are the HTTPS links, `*-http` the plain ones; which exist is server config. */
  readonly _links: Partial<Record<'download' | 'download-http' | 'md5sum' | 'md5sum-http', DdiLink>>;
}

export interface DdiMetadata {
  readonly key: string;
  readonly value: string;
}

/** One software module of the distribution set. `part` is the module type key (`os`, `bApp`, …). */
export interface DdiChunk {
  readonly part: string;
  readonly version: string;
  readonly name: string;
  /** Present (true) only for encrypted modules. */
  readonly encrypted?: boolean;
  readonly artifacts: readonly DdiArtifact[];
  /** The module's target-visible metadata; absent when there is none. */
  readonly metadata?: readonly DdiMetadata[];
}

export interface DdiDeployment {
  readonly download: DdiHandling;
  readonly update: DdiHandling;
  readonly maintenanceWindow?: DdiMaintenanceWindow;
  readonly chunks: readonly DdiChunk[];
}

/** Present only when `?actionHistory=N` (N ≠ 0) asked for it and there are messages. */
export interface DdiActionHistory {
  /** The server's `Action.Status` name: `RUNNING`, `FINISHED`, `ERROR`, `CANCELING`, … */
  readonly status: string;
  /** Newest first. */
  readonly messages: readonly string[];
}

/** `GET .../deploymentBase/{actionId}` and `GET .../installedBase/{actionId}`. `id` is a string. */
export interface DdiDeploymentBase {
  readonly id: string;
  readonly deployment: DdiDeployment;
  readonly actionHistory?: DdiActionHistory;
}

/** `GET .../cancelAction/{actionId}`: both ids are the action's id, as strings. */
export interface DdiCancel {
  readonly id: string;
  readonly cancelAction: { readonly stopId: string };
}

export interface DdiProgress {
  readonly cnt: number;
  readonly of?: number;
}

export interface DdiResult {
  readonly finished: DdiFinished;
  readonly progress?: DdiProgress;
}

export interface DdiStatus {
  readonly execution: DdiExecution;
  readonly result: DdiResult;
  /** A device-specific status code; hawkBit stores it and adds "Device reported status code: N". */
  readonly code?: number;
  readonly details?: readonly string[];
}

/**
 * `POST .../deploymentBase/{id}/feedback` and `.../cancelAction/{id}/feedback`. `timestamp` (ms since
 * the epoch, optional; the server's time when absent) replaced the string `time` of older versions.
 */
export interface DdiActionFeedback {
  readonly timestamp?: number;
  readonly status: DdiStatus;
}

/** `PUT .../configData`: `data` must not be empty; keys and values are strings of ≤ 128 characters. */
export interface DdiConfigData {
  readonly mode?: DdiUpdateMode;
  readonly data: Readonly<Record<string, string>>;
}

/** hawkBit's error body (`ExceptionInfo`). */
export interface DdiExceptionInfo {
  readonly exceptionClass: string;
  readonly errorCode: string;
  readonly message: string;
  readonly parameters?: readonly string[];
}

/** `Target.CONTROLLER_ATTRIBUTE_KEY_SIZE` and `CONTROLLER_ATTRIBUTE_VALUE_SIZE`. */
export const ATTRIBUTE_MAX_CHARS = 128;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (list as readonly string[]).includes(v);
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;

/** `DdiActionFeedback` as Jackson and Bean Validation check it (see the header). */
export function checkActionFeedback(body: unknown): Checked<DdiActionFeedback> {
  const no = (reason: string): Checked<DdiActionFeedback> => ({ ok: false, reason });
  if (!isObject(body)) return no('body is not a JSON object');
  if (!absent(body.timestamp) && !isInt(body.timestamp)) return no('timestamp is not an integer');
  const status = body.status;
  if (!isObject(status)) return no('status is missing');
  if (!oneOf(EXECUTION_STATUSES, status.execution)) return no(`status.execution ${String(status.execution)}`);
  const result = status.result;
  if (!isObject(result)) return no('status.result is missing');
  if (!oneOf(FINAL_RESULTS, result.finished)) return no(`status.result.finished ${String(result.finished)}`);
  const progress = result.progress;
  if (
    !absent(progress) &&
    !(isObject(progress) && isInt(progress.cnt) && (absent(progress.of) || isInt(progress.of)))
  )
    return no('status.result.progress needs an integer cnt (and of)');
  if (!absent(status.code) && !isInt(status.code)) return no('status.code is not an integer');
  const details = status.details;
  if (!absent(details) && !(Array.isArray(details) && details.every((d) => typeof d === 'string')))
    return no('status.details is not a list of strings');
  return {
    ok: true,
    value: {
      ...(isInt(body.timestamp) ? { timestamp: body.timestamp } : {}),
      status: {
        execution: status.execution,
        result: {
          finished: result.finished,
          ...(isObject(progress)
            ? { progress: { cnt: progress.cnt as number, of: progress.of as number } }
            : {}),
        },
        ...(isInt(status.code) ? { code: status.code } : {}),
        ...(Array.isArray(details) ? { details: details as string[] } : {}),
      },
    },
  };
}

/** `DdiConfigData`; `invalidAttributes` is hawkBit's separate 400 for a key or value that is too long. */
export function checkConfigData(body: unknown): Checked<DdiConfigData> & { invalidAttributes?: true } {
  if (!isObject(body)) return { ok: false, reason: 'body is not a JSON object' };
  if (!absent(body.mode) && !oneOf(UPDATE_MODES, body.mode))
    return { ok: false, reason: `mode ${String(body.mode)}` };
  const data = body.data;
  if (!isObject(data) || Object.keys(data).length === 0)
    return { ok: false, reason: 'data is missing or empty' };
  if (!Object.values(data).every((v) => typeof v === 'string'))
    return { ok: false, reason: 'data values must be strings' };
  const strings = data as Record<string, string>;
  if (
    Object.entries(strings).some(([k, v]) => k.length > ATTRIBUTE_MAX_CHARS || v.length > ATTRIBUTE_MAX_CHARS)
  )
    return { ok: false, reason: 'attribute key or value over 128 characters', invalidAttributes: true };
  return {
    ok: true,
    value: { ...(oneOf(UPDATE_MODES, body.mode) ? { mode: body.mode } : {}), data: strings },
  };
}
