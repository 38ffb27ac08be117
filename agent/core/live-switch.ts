/**
 * The contract of a part of the agent that is swapped while it runs (an inference model, a rule set):
 * load the new content beside the running one, prove it, keep it — or go back to the running one
 * and say why. The OTA layer drives it (ota/live-component.ts); agent/infer and the control layer's
 * rule sets implement it. In core/ because neither side may import the other.
 */
export type LiveActivation =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Short code for reports: `load-failed`, `invalid`, `health-check`, `bad-output`, `late`, `timeout`. */
      readonly reason: string;
      readonly message: string;
    };

export interface LiveSwitchOptions {
  /** Results the new content must produce in a row before the old one is released. */
  readonly goodOutputs: number;
  /** The whole proof must end within this, else it counts as failed (`timeout`). */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal | undefined;
}

export interface LiveConsumer {
  /**
   * Switches to the content of `dir` once it has loaded and passed its health check; resolves
   * `{ ok: true }` after it produced `goodOutputs` good results, or `{ ok: false }` after switching
   * back to what ran before (which keeps running throughout). Never rejects. When `signal` aborts
   * (the agent is stopping) it resolves promptly, having switched back: the journal then still says
   * "armed", and the next start switches again — at most MAX_LIVE_ATTEMPTS times in all.
   */
  activate(dir: string, options: LiveSwitchOptions): Promise<LiveActivation>;
}
