/**
 * The test DDI server's model of hawkBit's targets and actions, and how device feedback moves an
 * action — the state machine of `ddi-server.ts`, kept apart from HTTP. Taken from hawkBit's
 * `DdiRootController` (`generateUpdateStatus`, `generateActionCancelStatus`, `calculateDownloadType`,
 * `calculateUpdateType`, `generateDdiActionHistory`) and `JpaControllerManagement`
 * (`addUpdateActionStatus`, `addCancelActionStatus`, `updateControllerAttributes`):
 *
 * - deploymentBase feedback: `closed` + `failure` closes the action with ERROR, `closed` + anything
 *   else (`none` too) closes it FINISHED; `downloaded` closes a download-only action; every other
 *   execution (`rejected`, `canceled` included) is recorded and the action stays open. A closed action
 *   answers 410.
 * - cancelAction feedback: `closed` + `success`/`none` confirms the cancel; `rejected` or `closed` +
 *   `failure` refuse it and the action runs again; `canceled` is only a warning ("cancel for a
 *   cancel"). An action that is not being canceled answers 405.
 * - Each feedback adds its `details` and "Device reported status code: N" to the messages, or a server
 *   message when it has neither; `actionHistory` shows them newest first, at most 100.
 */
import { createHash } from 'node:crypto';
import type {
  DdiActionFeedback,
  DdiArtifact,
  DdiArtifactHash,
  DdiConfigData,
  DdiDeploymentBase,
  DdiExecution,
  DdiHandling,
  DdiMaintenanceWindow,
  DdiMetadata,
} from './ddi-types.js';

/** The Management API's action types (time-forced is not modelled). */
export type ActionType = 'soft' | 'forced' | 'downloadonly';
/** `open` and `canceling` are active; `closed` has a `result`; `canceled` is a confirmed cancel. */
export type ActionState = 'open' | 'canceling' | 'closed' | 'canceled';

export interface ChunkSpec {
  readonly name: string;
  readonly version: string;
  /** The software module type key: `os`, `bApp`, … */
  readonly part: string;
  readonly metadata?: readonly DdiMetadata[];
  /** `data` is the bytes or a path to read them from. */
  readonly artifacts: readonly { readonly filename: string; readonly data: Uint8Array | string }[];
}

export interface StoredArtifact {
  readonly filename: string;
  readonly data: Buffer;
  readonly hashes: DdiArtifactHash;
}

export interface SoftwareModule {
  readonly id: number;
  readonly spec: ChunkSpec;
  readonly artifacts: readonly StoredArtifact[];
}

export interface ActionRecord {
  readonly id: number;
  readonly controllerId: string;
  readonly type: ActionType;
  maintenanceWindow: DdiMaintenanceWindow | undefined;
  readonly modules: readonly SoftwareModule[];
  state: ActionState;
  result: 'success' | 'failure' | 'downloaded' | undefined;
  /** hawkBit's `Action.Status` name, as `actionHistory.status` shows it. */
  status: string;
  /** Status messages, oldest first. */
  readonly messages: string[];
  /** Accepted feedback, in order. */
  readonly feedback: {
    readonly channel: 'deploymentBase' | 'cancelAction';
    readonly body: DdiActionFeedback;
  }[];
}

export interface TargetRecord {
  readonly controllerId: string;
  token: string | undefined;
  /** Whether the base poll links `configData`. */
  requestAttributes: boolean;
  attributes: Record<string, string>;
  /** Every accepted `PUT configData` body, in order. */
  readonly configData: DdiConfigData[];
}

/** `RepositoryConstants.SERVER_MESSAGE_PREFIX`. */
export const UPDATE_SERVER = 'Update Server: ';

const UPDATE_STATUS: Record<DdiExecution, string> = {
  closed: 'FINISHED',
  canceled: 'CANCELED',
  rejected: 'WARNING',
  download: 'DOWNLOAD',
  downloaded: 'DOWNLOADED',
  proceeding: 'RUNNING',
  scheduled: 'RUNNING',
  resumed: 'RUNNING',
};

export function cancelAction(action: ActionRecord): void {
  if (action.state !== 'open') throw new Error(`action ${action.id} is ${action.state}, not cancelable`);
  action.state = 'canceling';
  action.status = 'CANCELING';
  action.messages.push(`${UPDATE_SERVER}cancel obsolete action due to new update`);
}

/** `POST deploymentBase/{id}/feedback`: the status code to answer. */
export function applyDeploymentFeedback(action: ActionRecord, feedback: DdiActionFeedback): 200 | 410 {
  if (action.state === 'closed' || action.state === 'canceled') return 410;
  action.feedback.push({ channel: 'deploymentBase', body: feedback });
  const { execution, result } = feedback.status;
  const status = execution === 'closed' && result.finished === 'failure' ? 'ERROR' : UPDATE_STATUS[execution];
  addMessages(action, feedback, `Target reported ${execution}`);
  if (status === 'ERROR') action.result = 'failure';
  else if (status === 'FINISHED') action.result = 'success';
  else if (status === 'DOWNLOADED' && action.type === 'downloadonly') action.result = 'downloaded';
  if (action.result) action.state = 'closed';
  if (action.state !== 'canceling') action.status = status;
  return 200;
}

/** `POST cancelAction/{id}/feedback`: the status code to answer. */
export function applyCancelFeedback(action: ActionRecord, feedback: DdiActionFeedback): 200 | 405 {
  if (action.state !== 'canceling' && action.state !== 'canceled') return 405;
  action.feedback.push({ channel: 'cancelAction', body: feedback });
  const { execution, result } = feedback.status;
  addMessages(action, feedback, `Target reported ${execution} for the cancellation`);
  if (action.state !== 'canceling') return 200;
  if (execution === 'rejected' || (execution === 'closed' && result.finished === 'failure')) {
    action.state = 'open';
    action.status = 'RUNNING';
  } else if (execution === 'closed') {
    action.state = 'canceled';
    action.status = 'CANCELED';
  }
  return 200;
}

function addMessages(action: ActionRecord, feedback: DdiActionFeedback, fallback: string): void {
  const { details = [], code } = feedback.status;
  const messages = [...details, ...(code === undefined ? [] : [`Device reported status code: ${code}`])];
  action.messages.push(...(messages.length ? messages : [`${UPDATE_SERVER}${fallback}.`]));
}

/** `PUT configData`: `merge` (the default), `replace` or `remove` the given attributes. */
export function applyConfigData(target: TargetRecord, value: DdiConfigData): void {
  const { mode = 'merge', data } = value;
  target.configData.push(value);
  if (mode === 'replace') target.attributes = { ...data };
  else if (mode === 'merge') Object.assign(target.attributes, data);
  else for (const key of Object.keys(data)) delete target.attributes[key];
  target.requestAttributes = false;
}

/** The body of deploymentBase and installedBase; `history` is `?actionHistory=` (<0: all, 0: none). */
export function deploymentBase(
  action: ActionRecord,
  history: number,
  artifacts: (module: SoftwareModule) => DdiArtifact[],
): DdiDeploymentBase {
  const download: DdiHandling = action.type === 'soft' ? 'attempt' : 'forced';
  const window = action.maintenanceWindow;
  const update: DdiHandling = action.type === 'downloadonly' || window === 'unavailable' ? 'skip' : download;
  const messages = history === 0 ? [] : [...action.messages].reverse().slice(0, history > 0 ? history : 100);
  return {
    id: String(action.id),
    deployment: {
      download,
      update,
      ...(window ? { maintenanceWindow: window } : {}),
      chunks: action.modules.map((m) => ({
        part: m.spec.part,
        version: m.spec.version,
        name: m.spec.name,
        artifacts: artifacts(m),
        ...(m.spec.metadata?.length ? { metadata: m.spec.metadata } : {}),
      })),
    },
    ...(messages.length ? { actionHistory: { status: action.status, messages } } : {}),
  };
}

/** The `?c=` of the deploymentBase link: like `calculateEtag`, an int that changes with the action. */
export function actionEtag(action: ActionRecord): number {
  const key = `${action.id}/${action.type}/${action.maintenanceWindow ?? ''}`;
  return createHash('sha1').update(key).digest().readInt32BE(0);
}
