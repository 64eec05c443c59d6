/**
 * The command handlers of a process, declared as a list and started together. Start-up fails before
 * anything is consumed if a command has two handlers (or a required one has none), instead of two
 * handlers silently competing for the same work.
 */
import { type CommandName, ErrorCode, S2gError } from '@s2g/contracts';
import type { CommandConsumer, CommandHandler, ConsumeOptions, EventBus } from './port';

export interface CommandHandlerDefinition<N extends CommandName = CommandName> {
  readonly command: N;
  readonly handle: CommandHandler<N>;
  readonly options?: ConsumeOptions;
}

/** Any handler definition; the payload type of each follows from its command. */
export type AnyCommandHandler = { [N in CommandName]: CommandHandlerDefinition<N> }[CommandName];

/** Declares the handler of one command: `commandHandler('s2g.render.requested', async (p) => ...)`. */
export function commandHandler<N extends CommandName>(command: N, handle: CommandHandler<N>, options?: ConsumeOptions): CommandHandlerDefinition<N> {
  return { command, handle, ...(options ? { options } : {}) };
}

export interface StartHandlersOptions {
  /** Commands this process must handle (e.g. all of them in embedded mode). */
  required?: readonly CommandName[];
}

/** Throws S2gError(HANDLER_CONFLICT) naming every command with two handlers or a missing required one. */
export function checkHandlers(handlers: readonly AnyCommandHandler[], options: StartHandlersOptions = {}): void {
  const counts = new Map<CommandName, number>();
  for (const h of handlers) counts.set(h.command, (counts.get(h.command) ?? 0) + 1);
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([c, n]) => `${c} has ${n} handlers`);
  const missing = (options.required ?? []).filter((c) => !counts.has(c)).map((c) => `${c} has no handler`);
  const problems = [...duplicated, ...missing];
  if (problems.length > 0) throw new S2gError(ErrorCode.HANDLER_CONFLICT, `Command handlers: ${problems.join('; ')}`, { problems });
}

/** Checks the list, then starts one consumer per handler; if one cannot start, the others are stopped. */
export async function startCommandHandlers(bus: EventBus, group: string, handlers: readonly AnyCommandHandler[], options: StartHandlersOptions = {}): Promise<CommandConsumer[]> {
  checkHandlers(handlers, options);
  const started: CommandConsumer[] = [];
  try {
    for (const h of handlers) {
      started.push(await bus.consumeCommands(h.command, group, h.handle as CommandHandler<typeof h.command>, h.options));
    }
  } catch (e) {
    await Promise.all(started.map((c) => c.stop({ timeoutMs: 0 })));
    throw e;
  }
  return started;
}
