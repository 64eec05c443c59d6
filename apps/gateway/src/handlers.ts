/**
 * Commands the gateway process handles itself. In distributed mode none: the worker services do.
 * In embedded mode the gateway is the only process, so this is where every worker's handler is
 * registered (from the feature libs), e.g. `commandHandler('s2g.render.requested', ...)`.
 * Start-up fails if a command is listed twice.
 */
import type { SharedConfig } from '@s2g/config';
import type { AnyCommandHandler, EventBus } from '@s2g/messaging';
import type { Logger, Platform } from '@s2g/service';

/** What the handlers of the embedded mode are built from. */
export interface EmbeddedDeps {
  config: SharedConfig;
  logger: Logger;
  bus: EventBus;
  /** The gateway's database, object store and bus, shared with the jobs it runs. */
  platform: Platform;
}

export function embeddedCommandHandlers(_deps: EmbeddedDeps): AnyCommandHandler[] {
  return [];
}
