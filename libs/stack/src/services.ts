/**
 * The worker services and the commands each one handles: what `startStack` runs when asked for all
 * of them, or for one (`s2g up --service trainer`).
 */
import { type CommandName, ErrorCode, type JobKind, S2gError } from '@s2g/contracts';

export const SERVICE_NAMES = ['ingest', 'trainer', 'inference', 'renderer'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The commands of each service. Every command has exactly one service (checked in a test). */
export const SERVICE_COMMANDS: Readonly<Record<ServiceName, readonly CommandName[]>> = {
  ingest: ['s2g.ingest.requested'],
  trainer: ['s2g.training.requested', 's2g.training.cancel'],
  inference: ['s2g.inference.requested'],
  renderer: ['s2g.render.requested'],
};

/** The job records each service works on (the ones to re-queue after a restart). */
export const SERVICE_JOBS: Readonly<Record<ServiceName, JobKind>> = {
  ingest: 'ingest',
  trainer: 'training',
  inference: 'inference',
  renderer: 'render',
};

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

/** Parses a service name given by a user; BAD_USER_INPUT naming the known ones. */
export function parseServiceName(name: string): ServiceName {
  if (isServiceName(name)) return name;
  throw new S2gError(ErrorCode.BAD_USER_INPUT, `unknown service '${name}': one of ${SERVICE_NAMES.join(', ')}`, { service: name });
}

export function commandsOf(services: readonly ServiceName[]): CommandName[] {
  return services.flatMap((s) => SERVICE_COMMANDS[s]);
}
