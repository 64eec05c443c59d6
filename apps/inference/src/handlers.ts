/**
 * The commands the inference service handles: the one place to register a job handler.
 * The job itself lives in @s2g/prediction (InferenceService), shared with the single-process mode.
 * Start-up fails if a command is listed twice.
 */
import type { AnyCommandHandler } from '@s2g/messaging';
import { inferenceCommandHandlers, type InferenceService } from '@s2g/prediction';

/** What the handlers of this service are built from. */
export interface InferenceDeps {
  service: InferenceService;
}

export function commandHandlers(deps: InferenceDeps): AnyCommandHandler[] {
  return inferenceCommandHandlers(deps.service);
}
