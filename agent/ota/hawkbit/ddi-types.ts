/**
 * The hawkBit DDI API as this device reads and writes it (https://eclipse.dev/hawkbit/apis/ddi_api,
 * the OpenAPI document at https://eclipse.dev/hawkbit/rest-api/ddi/). What the server sends is parsed
 * here, so a malformed answer is refused with the field that was wrong, never half-used; unknown
 * fields are ignored (the server may be newer than this client).
 */
import { z } from 'zod';

const link = z.object({ href: z.string().url() });

/** `GET /{tenant}/controller/v1/{controllerId}` */
export const ddiBaseSchema = z.object({
  config: z.object({ polling: z.object({ sleep: z.string().regex(/^\d{1,2}:\d{2}:\d{2}$/) }) }),
  _links: z
    .object({
      deploymentBase: link.optional(),
      cancelAction: link.optional(),
      configData: link.optional(),
      installedBase: link.optional(),
    })
    .default({}),
});
export type DdiBase = z.infer<typeof ddiBaseSchema>;

const handling = z.enum(['skip', 'attempt', 'forced']);

export const ddiArtifactSchema = z.object({
  filename: z.string().min(1),
  size: z.number().int().min(0),
  hashes: z.object({ sha256: z.string().regex(/^[0-9a-fA-F]{64}$/) }).passthrough(),
  _links: z
    .object({ download: link.optional(), 'download-http': link.optional() })
    .refine((l) => l.download || l['download-http'], 'expected a download or download-http link'),
});
export type DdiArtifact = z.infer<typeof ddiArtifactSchema>;

/** `GET …/deploymentBase/{actionId}` (and `…/installedBase/{actionId}`) */
export const ddiDeploymentBaseSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  deployment: z.object({
    download: handling,
    update: handling,
    maintenanceWindow: z.enum(['available', 'unavailable']).optional(),
    chunks: z.array(
      z.object({
        part: z.string(),
        name: z.string(),
        version: z.string(),
        artifacts: z.array(ddiArtifactSchema).default([]),
      }),
    ),
  }),
});
export type DdiDeploymentBase = z.infer<typeof ddiDeploymentBaseSchema>;

/** `GET …/cancelAction/{actionId}` */
export const ddiCancelSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  cancelAction: z.object({ stopId: z.union([z.string(), z.number()]).transform(String) }),
});

export type DdiExecution =
  | 'closed'
  | 'proceeding'
  | 'canceled'
  | 'scheduled'
  | 'rejected'
  | 'resumed'
  | 'downloaded'
  | 'download';

/** The body of `POST …/deploymentBase/{id}/feedback` and `…/cancelAction/{id}/feedback`. */
export interface DdiFeedback {
  readonly status: {
    readonly execution: DdiExecution;
    readonly result: {
      readonly finished: 'success' | 'failure' | 'none';
      readonly progress?: { readonly cnt: number; readonly of: number };
    };
    readonly details?: readonly string[];
  };
}

/** `PUT …/configData` */
export interface DdiConfigData {
  readonly mode: 'merge' | 'replace' | 'remove';
  readonly data: Readonly<Record<string, string>>;
}

/** `HH:MM:SS` → milliseconds. */
export function sleepMs(sleep: string): number {
  const [h, m, s] = sleep.split(':').map(Number) as [number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000;
}

/** The artifact link to download (`download` is https, `download-http` plain http). */
export function artifactHref(a: DdiArtifact): string {
  return (a._links.download ?? a._links['download-http'])!.href;
}
