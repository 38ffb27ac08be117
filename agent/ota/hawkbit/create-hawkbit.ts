/**
 * Builds the hawkBit client from `ota.hawkbit` (and `link.tls` for mTLS): the HTTP side the OTA
 * manager's downloads share (payload links on the hawkBit server get its token or certificate), and
 * the attributes the target shows in hawkBit — device id, board, agent version, and per component the
 * committed version and each slot's state. Does no I/O.
 */
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { DownloadOptionsFor } from '../installer.js';
import { DdiHttp } from './ddi-http.js';
import { HawkbitClient, type HawkbitOta, hawkbitReportDir } from './hawkbit-client.js';
import type { HawkbitConfig } from './hawkbit-schema.js';

export interface HawkbitParts {
  readonly http: DdiHttp;
  /** For the OTA manager: its reports mirrored for this client, and how to download from hawkBit. */
  readonly reportMirror: string;
  readonly downloadOptions: DownloadOptionsFor;
  client(ota: HawkbitOta): HawkbitClient;
}

export function createHawkbit(
  config: HawkbitConfig,
  deps: {
    readonly clock: Clock;
    readonly log: Logger;
    /** `<stateDir>/ota`. */
    readonly otaStateDir: string;
    readonly deviceId: string;
    readonly board: string;
    readonly version: string;
    readonly tlsFiles?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined };
    /** [0, 1): the retry backoff's jitter (tests fix it). */
    readonly random?: (() => number) | undefined;
  },
): HawkbitParts {
  const { targetToken, gatewayToken } = config.auth;
  const http = new DdiHttp({
    clock: deps.clock,
    authorization: targetToken
      ? `TargetToken ${targetToken}`
      : gatewayToken
        ? `GatewayToken ${gatewayToken}`
        : undefined,
    tlsFiles: deps.tlsFiles,
    timeoutMs: config.requestTimeoutMs,
  });
  const stateDir = path.join(deps.otaStateDir, 'hawkbit');
  const origin = new URL(config.url).origin;
  return {
    http,
    reportMirror: hawkbitReportDir(stateDir),
    downloadOptions: (url) => (new URL(url).origin === origin ? http.downloadOptions() : {}),
    client: (ota) =>
      new HawkbitClient(config, {
        clock: deps.clock,
        log: deps.log,
        ota,
        http,
        stateDir,
        controllerId: config.controllerId ?? deps.deviceId,
        ...(deps.random ? { random: deps.random } : {}),
        attributes: async () => {
          const attributes: Record<string, string> = {
            deviceId: deps.deviceId,
            board: deps.board,
            agentVersion: deps.version,
          };
          for (const c of (await ota.status()).components) {
            if (c.committed) attributes[`${c.name}.version`] = c.committed.version;
            attributes[`${c.name}.booted`] = c.booted ?? 'unknown';
            for (const slot of ['A', 'B'] as const) attributes[`${c.name}.${slot}`] = c.slots[slot].state;
          }
          return attributes;
        },
      }),
  };
}
