/** The running loops by name, for rules and commands. */
import type { ControlLoop } from './loop.js';
import type { LoopRegistry } from './types.js';

export class Loops implements LoopRegistry {
  readonly #loops: ReadonlyMap<string, ControlLoop>;

  constructor(loops: readonly ControlLoop[]) {
    this.#loops = new Map(loops.map((l) => [l.name, l]));
  }

  get(name: string): ControlLoop | undefined {
    return this.#loops.get(name);
  }

  names(): string[] {
    return [...this.#loops.keys()];
  }

  all(): ControlLoop[] {
    return [...this.#loops.values()];
  }
}
