/** The command handlers of the inference and renderer services, for their apps and the single-process mode. */
import { type AnyCommandHandler, commandHandler, type ConsumeOptions } from '@s2g/messaging';
import type { InferenceService } from './inference-service';
import type { RenderService } from './render-service';

/** Bus options of a handler; `onDeadLetter` is always the service's own (it fails the job). */
export type HandlerOptions = Omit<ConsumeOptions, 'onDeadLetter'>;

/**
 * `s2g.inference.requested`, one at a time per process by default: a prediction keeps the tensor
 * backend busy, so a second one would only slow the first.
 */
export function inferenceCommandHandlers(service: InferenceService, options: HandlerOptions = {}): AnyCommandHandler[] {
  return [
    commandHandler('s2g.inference.requested', (payload, ctx) => service.handle(payload, { signal: ctx.signal }), {
      ...options,
      onDeadLetter: (deadLetter) => service.onDeadLetter(deadLetter),
    }),
  ];
}

/** `s2g.render.requested`, one at a time per process by default: ffmpeg already uses every core. */
export function renderCommandHandlers(service: RenderService, options: HandlerOptions = {}): AnyCommandHandler[] {
  return [
    commandHandler('s2g.render.requested', (payload, ctx) => service.handle(payload, { signal: ctx.signal }), {
      ...options,
      onDeadLetter: (deadLetter) => service.onDeadLetter(deadLetter),
    }),
  ];
}
