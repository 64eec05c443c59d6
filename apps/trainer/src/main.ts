/**
 * Entry point of the s2g trainer service.
 * Wiring only: configuration, the tensor backend, the platform (database, object store, bus), health
 * endpoints, and the handlers listed in ./handlers.
 */
import { startCommandHandlers } from '@s2g/messaging';
import { startTensorBackend } from '@s2g/prediction';
import { createLogger, createPlatform, loadConfigOrExit, parseServiceArgs, type Platform, runService } from '@s2g/service';
import { trainerConfig } from '@s2g/training';
import { commandHandlers } from './handlers';

const NAME = 'trainer';

parseServiceArgs({
  name: `s2g-${NAME}`,
  description: 'Trains per-speaker gesture models, validates and checkpoints them, reports progress. Handles s2g.training.requested and s2g.training.cancel.',
  env: trainerConfig.vars,
});
const config = loadConfigOrExit(trainerConfig);
const logger = createLogger({ name: NAME, level: config.log.level });
let platform: Platform | undefined;

await runService({
  name: NAME,
  logger,
  http: config.http,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start({ http, metrics }) {
    const backend = await startTensorBackend(config.tensor, logger);
    // Embedded mode owns its database, so it migrates it; distributed mode runs the migration job.
    const p = await createPlatform(config, { name: NAME, logger, metrics, migrate: config.mode === 'embedded' });
    platform = p;
    http.addReadinessCheck('bus', () => p.bus.ping());
    http.addReadinessCheck('database', () => p.dataSource.query('SELECT 1'));
    http.addReadinessCheck('storage', () => p.store.ping());
    if (p.bus.driver === 'in-process') {
      logger.warn('NATS_URL is not set: using the in-process bus, so this process only sees commands published inside it');
    }
    const handlers = commandHandlers({ config, db: p.db, store: p.store, bus: p.bus, logger, backend });
    // The service name is the consumer group: every replica of this service shares the work.
    await startCommandHandlers(p.bus, NAME, handlers);
    logger.info({ mode: config.mode, bus: p.bus.driver, backend, trainer: config.trainer, commands: handlers.map((h) => h.command) }, 'handling commands');
  },
  async stop({ drainTimeoutMs }) {
    // Running trainings see the abort, checkpoint after their current iteration and are redelivered.
    await platform?.close({ timeoutMs: drainTimeoutMs });
  },
});
