/**
 * The commands the trainer service handles: the one place to register a job handler, e.g.
 * `commandHandler('s2g.training.requested', (payload, ctx) => ..., { concurrency: 1 })`.
 * Start-up fails if a command is listed twice.
 */
import type { SharedConfig } from '@s2g/config';
import type { AnyCommandHandler, EventBus } from '@s2g/messaging';
import type { Logger } from '@s2g/service';

/** What the handlers of this service are built from. */
export interface TrainerDeps {
  config: SharedConfig;
  logger: Logger;
  bus: EventBus;
}

export function commandHandlers(_deps: TrainerDeps): AnyCommandHandler[] {
  return [];
}
