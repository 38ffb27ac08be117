/**
 * One registry of commands for every transport: the technician's console renders results as tables,
 * the fleet channel sends them back as CBOR, tests call them directly. A command declares its
 * arguments as a schema, so a malformed request is rejected with the field and what was expected
 * before anything runs; the result is data (never an exception) so each transport can report it.
 */
import type { z } from 'zod';
import { AgentError, errorMessage } from '../core/errors.js';

export interface CommandContext {
  /** Which transport asked: shown in logs and the audit trail, and in point sources. */
  readonly via: 'console' | 'fleet' | 'local' | 'test';
  /** Who asked (console user, fleet key id). */
  readonly who: string;
  /** Long commands (an update install) report progress here; the console draws a bar. */
  readonly progress?: (update: CommandProgress) => void;
}

export interface CommandProgress {
  /** 0–1, if known directly. */
  readonly fraction?: number;
  readonly doneBytes?: number;
  readonly totalBytes?: number;
  /** What it is doing: `downloading`, `verifying`, … */
  readonly phase?: string;
}

export interface Command<Args = unknown, Result = unknown> {
  /** Dotted name, e.g. `loop.setpoint`. */
  readonly name: string;
  /** One line for `help`. */
  readonly summary: string;
  readonly args: z.ZodType<Args, z.ZodTypeDef, unknown>;
  /** Changes an actuator or the process: the console asks for confirmation first. */
  readonly actuates?: boolean;
  /**
   * Checks, changing nothing, that the command can run with these arguments (the point exists and is
   * writable, the file is there): throws a CommandError if not. The console runs it before asking
   * for confirmation, so nobody confirms what would be refused anyway.
   */
  check?(args: Args, ctx: CommandContext): Promise<void>;
  /** What the command will do, in a few lines, for the confirmation (e.g. version, size, reboot). */
  describe?(args: Args, ctx: CommandContext): Promise<readonly string[]>;
  run(args: Args, ctx: CommandContext): Promise<Result>;
}

export type Prepared =
  | { readonly ok: true; readonly args: unknown; readonly description: readonly string[] }
  | Extract<CommandResult, { ok: false }>;

export type CommandResult =
  | { readonly ok: true; readonly command: string; readonly result: unknown }
  | { readonly ok: false; readonly command: string; readonly code: string; readonly message: string };

/** Thrown by a command for a refusal the caller should see as such (unknown loop, bad state). */
export class CommandError extends AgentError {}

export class CommandRegistry {
  readonly #commands = new Map<string, Command>();

  register<A, R>(command: Command<A, R>): void {
    if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/.test(command.name)) {
      throw new TypeError(
        `command name must be dotted lower-case words, got ${JSON.stringify(command.name)}`,
      );
    }
    if (this.#commands.has(command.name)) throw new TypeError(`command ${command.name} is registered twice`);
    this.#commands.set(command.name, command as unknown as Command);
  }

  get(name: string): Command | undefined {
    return this.#commands.get(name);
  }

  list(): Command[] {
    return [...this.#commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Validates the arguments and runs the command's own check and description, changing nothing: what
   * the console does before `Proceed?`. Every failure is a result, never a throw.
   */
  async prepare(name: string, rawArgs: unknown, ctx: CommandContext): Promise<Prepared> {
    const parsed = this.#parse(name, rawArgs);
    if (!parsed.ok) return parsed;
    const { command, args } = parsed;
    try {
      await command.check?.(args, ctx);
      return { ok: true, args, description: (await command.describe?.(args, ctx)) ?? [] };
    } catch (error) {
      return failure(name, error);
    }
  }

  /** Validates the arguments and runs the command; every failure is a result, never a throw. */
  async execute(name: string, rawArgs: unknown, ctx: CommandContext): Promise<CommandResult> {
    const parsed = this.#parse(name, rawArgs);
    if (!parsed.ok) return parsed;
    const { command, args } = parsed;
    try {
      await command.check?.(args, ctx);
      return { ok: true, command: name, result: await command.run(args, ctx) };
    } catch (error) {
      return failure(name, error);
    }
  }

  #parse(
    name: string,
    rawArgs: unknown,
  ): { ok: true; command: Command; args: unknown } | Extract<CommandResult, { ok: false }> {
    const command = this.#commands.get(name);
    if (!command)
      return { ok: false, command: name, code: 'EUNKNOWN_COMMAND', message: `unknown command ${name}` };
    const parsed = command.args.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
        .join('; ');
      return { ok: false, command: name, code: 'EBAD_ARGS', message };
    }
    return { ok: true, command, args: parsed.data };
  }
}

function failure(command: string, error: unknown): Extract<CommandResult, { ok: false }> {
  const code = error instanceof AgentError ? error.code : 'EFAILED';
  return { ok: false, command, code, message: errorMessage(error) };
}

/** The `source` a command's writes carry, e.g. `console:tech` or `fleet:1f2e…`. */
export function sourceOf(ctx: CommandContext): string {
  return `${ctx.via}:${ctx.who}`;
}
