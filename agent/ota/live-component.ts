/**
 * What the OTA layer asks of a component that is switched while the agent runs (a model, a rule set)
 * instead of booted: load the content of a slot directory beside the running one, prove it, keep it —
 * or go back to the running one and say why. The consumer (agent/infer for models, the control
 * layer's rule sets) implements it; build-agent.ts binds each `kind: model | rules` component to its
 * consumer, so this layer depends on neither.
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

/** Component kinds: a `system` component is booted; `model` and `rules` are switched live. */
export const COMPONENT_KINDS = ['system', 'model', 'rules'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** A live component's consumer, bound once the part of the agent that runs it is built. */
export class LiveBinding {
  readonly kind: Exclude<ComponentKind, 'system'>;
  readonly options: Omit<LiveSwitchOptions, 'signal'>;
  #consumer: LiveConsumer | undefined;

  constructor(kind: Exclude<ComponentKind, 'system'>, options: Omit<LiveSwitchOptions, 'signal'>) {
    this.kind = kind;
    this.options = options;
  }

  bind(consumer: LiveConsumer): void {
    this.#consumer = consumer;
  }

  get consumer(): LiveConsumer | undefined {
    return this.#consumer;
  }
}
