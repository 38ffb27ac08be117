/**
 * Components that are switched while the agent runs (a model, a rule set) instead of booted. Their
 * consumer (agent/infer for models, the control layer's rule sets) implements the live-switch
 * contract of core/live-switch.ts; build-agent.ts binds each `kind: model | rules` component to its
 * consumer, so this layer depends on neither.
 */
import type { LiveConsumer, LiveSwitchOptions } from '../core/live-switch.js';

export type { LiveActivation, LiveConsumer, LiveSwitchOptions } from '../core/live-switch.js';

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
