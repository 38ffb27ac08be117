/**
 * Everything the device checks before it accepts an update offer, in order, stopping at the first
 * failure with a reason code for the `rejected` report: a component name the offer may give that is
 * one (`bad-component`: no `../x`), the COSE signatures against the trust root
 * (manifest.ts), a component this device has, a known running slot (the other one is the target),
 * the manifest's own device checks (board, seq above the committed one, expiry on the trusted clock,
 * size within the slot and its free space), a payload format the slot takes, a chunk size the
 * installer can buffer, and a payload it can reach (the local file, or the manifest's `url`).
 */
import { access } from 'node:fs/promises';
import type { SlotName } from './boot/types.js';
import { otherSlot } from './boot/types.js';
import type { CommittedState } from './committed-state.js';
import type { OtaComponent } from './installer.js';
import {
  checkManifest,
  isComponentName,
  type Manifest,
  trustedNowMs,
  verifySignedManifest,
} from './manifest.js';
import { capacityBytes, formatOf, roomBytes } from './slots/slot-device.js';
import type { TrustRoot } from './trust.js';

/** The transfer buffers a few units at a time: larger chunks are refused. */
export const MAX_CHUNK_BYTES = 32 << 20;

export interface InstallRequest {
  /** The signed manifest (COSE bytes). */
  readonly manifest: Uint8Array;
  /** The component the offer is meant for; the manifest's own when absent. */
  readonly component?: string | undefined;
  /** A local payload file; without it the manifest's `url` is downloaded. */
  readonly file?: string | undefined;
  /** Stop once armed; `OtaManager.rebootIntoTrial()` goes on (a technician is asked first). */
  readonly holdReboot?: boolean | undefined;
  /** Stop once written and verified, before the boot is touched; `OtaManager.activate()` goes on. */
  readonly holdArm?: boolean | undefined;
  /** Where to download the payload instead of the manifest's `url` (an update server's artifact link). */
  readonly url?: string | undefined;
  /** The update server's id for this install (a hawkBit action), carried into its reports. */
  readonly actionId?: string | undefined;
}

export interface OfferContext {
  readonly trust: TrustRoot;
  readonly board: string;
  readonly components: ReadonlyMap<string, OtaComponent>;
  readonly committed: CommittedState;
  /** Wall-clock now (POSIX ms); the committed trusted time is taken into account here. */
  readonly wallMs: number;
}

export type OfferVerdict =
  | {
      readonly ok: true;
      readonly manifest: Manifest;
      readonly component: OtaComponent;
      readonly booted: SlotName;
      readonly target: SlotName;
    }
  | {
      readonly ok: false;
      readonly code: string;
      readonly reason: string;
      readonly manifest?: Manifest | undefined;
      readonly component?: string | undefined;
    };

export async function checkOffer(request: InstallRequest, ctx: OfferContext): Promise<OfferVerdict> {
  if (request.component !== undefined && !isComponentName(request.component)) {
    // Untrusted text that ends up in ids and file names ("../x"): refused, and quoted only in part.
    const shown = JSON.stringify(request.component.slice(0, 64));
    return { ok: false, code: 'bad-component', reason: `${shown} is not a component name` };
  }
  const signed = verifySignedManifest(request.manifest, ctx.trust);
  if (!signed.ok)
    return { ok: false, code: signed.code, reason: signed.reason, component: request.component };
  const m = signed.manifest;
  const name = request.component ?? m.component;
  const no = (code: string, reason: string): OfferVerdict => ({
    ok: false,
    code,
    reason,
    manifest: m,
    component: name,
  });
  const component = ctx.components.get(name);
  if (!component) return no('wrong-component', `this device has no component "${name}"`);
  const booted = await component.boot.getCurrent();
  if (!booted) return no('booted-unknown', 'the running slot cannot be told');
  const target = otherSlot(booted);
  const slot = component.slots[target];
  const verdict = checkManifest(m, {
    trust: ctx.trust,
    board: ctx.board,
    component: name,
    committedSeq: ctx.committed.components[name]?.seq ?? 0,
    nowMs: trustedNowMs(ctx.wallMs, ctx.committed.trustedTimeMs),
    slotSizeBytes: await capacityBytes(slot),
    freeBytes: await roomBytes(slot),
  });
  if (verdict) return no(verdict.code, verdict.reason);
  if (m.format !== formatOf(slot.kind)) {
    return no('format-mismatch', `a ${slot.kind} slot takes ${formatOf(slot.kind)}, not ${m.format}`);
  }
  if (m.chunk !== undefined && m.chunk > MAX_CHUNK_BYTES) {
    return no('chunk-too-large', `chunks of ${m.chunk} bytes exceed ${MAX_CHUNK_BYTES}`);
  }
  if (request.file !== undefined) {
    const readable = await access(request.file).then(
      () => true,
      () => false,
    );
    if (!readable) return no('no-payload', `payload file ${request.file} cannot be read`);
  } else if (m.url === undefined && request.url === undefined) {
    return no('no-payload', 'the manifest has no url and no file was given');
  }
  return { ok: true, manifest: m, component, booted, target };
}
