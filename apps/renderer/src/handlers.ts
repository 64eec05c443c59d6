/**
 * The commands the renderer service handles: the one place to register a job handler.
 * The job itself lives in @s2g/prediction (RenderService), shared with the single-process mode.
 * Start-up fails if a command is listed twice.
 */
import type { AnyCommandHandler } from '@s2g/messaging';
import { renderCommandHandlers, type RenderService } from '@s2g/prediction';

/** What the handlers of this service are built from. */
export interface RendererDeps {
  service: RenderService;
}

export function commandHandlers(deps: RendererDeps): AnyCommandHandler[] {
  return renderCommandHandlers(deps.service);
}
