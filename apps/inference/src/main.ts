/**
 * Entry point of the s2g inference service.
 * Wiring only: configuration, the tensor backend, the platform (database, object store, bus), health
 * endpoints, and the handlers listed in ./handlers.
 */
import { configureMedia } from '@s2g/media';
import { startCommandHandlers } from '@s2g/messaging';
import { inferenceConfig, InferenceService, startTensorBackend } from '@s2g/prediction';
import { createLogger, createPlatform, loadConfigOrExit, parseServiceArgs, type Platform, runService } from '@s2g/service';
import { commandHandlers } from './handlers';

const NAME = 'inference';

parseServiceArgs({ name: `s2g-${NAME}`, description: 'Predicts pose sequences from speech audio with a trained model. Handles s2g.inference.requested.', env: inferenceConfig.vars });
const config = loadConfigOrExit(inferenceConfig);
const logger = createLogger({ name: NAME, level: config.log.level });
let platform: Platform | undefined;
let service: InferenceService | undefined;

await runService({
  name: NAME,
  logger,
  http: config.http,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start({ http, metrics }) {
    configureMedia({ ffmpegPath: config.media.ffmpegPath ?? undefined, ffprobePath: config.media.ffprobePath ?? undefined });
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
    service = new InferenceService({ db: p.db, store: p.store, bus: p.bus, logger, settings: config.inference, backend });
    const handlers = commandHandlers({ service });
    // The service name is the consumer group: every replica of this service shares the work.
    await startCommandHandlers(p.bus, NAME, handlers);
    logger.info({ mode: config.mode, bus: p.bus.driver, backend, commands: handlers.map((h) => h.command) }, 'handling commands');
  },
  async stop({ drainTimeoutMs }) {
    await platform?.close({ timeoutMs: drainTimeoutMs });
    service?.close();
  },
});
