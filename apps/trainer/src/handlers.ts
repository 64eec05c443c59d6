/**
 * The commands the trainer service handles: the one place to register a job handler.
 * The jobs themselves live in @s2g/training (runTraining, cancelTraining), shared with the
 * single-process mode. Start-up fails if a command is listed twice.
 */
import type { AnyCommandHandler } from '@s2g/messaging';
import { type TrainerConfig, type TrainingDeps, trainingCommandHandlers, trainingServiceOptions } from '@s2g/training';

/** What the handlers of this service are built from. */
export interface TrainerDeps extends TrainingDeps {
  config: TrainerConfig;
}

export function commandHandlers(deps: TrainerDeps): AnyCommandHandler[] {
  return trainingCommandHandlers(deps, trainingServiceOptions(deps.config.trainer));
}
