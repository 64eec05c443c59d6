/**
 * Entry point of the s2g renderer service.
 * Wiring only: configuration, the platform (database, object store, bus), health endpoints, and the
 * handlers listed in ./handlers.
 */
import { configureMedia } from '@s2g/media';
import { startCommandHandlers } from '@s2g/messaging';
import { rendererConfig, RenderService } from '@s2g/prediction';
import { createLogger, createPlatform, loadConfigOrExit, parseServiceArgs, type Platform, runService } from '@s2g/service';
import { commandHandlers } from './handlers';

const NAME = 'renderer';

parseServiceArgs({ name: `s2g-${NAME}`, description: 'Draws pose sequences into videos with sound. Handles s2g.render.requested.', env: rendererConfig.vars });
const config = loadConfigOrExit(rendererConfig);
const logger = createLogger({ name: NAME, level: config.log.level });
let platform: Platform | undefined;

await runService({
  name: NAME,
  logger,
  http: config.http,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start({ http, metrics }) {
    const media = configureMedia({ ffmpegPath: config.media.ffmpegPath ?? undefined, ffprobePath: config.media.ffprobePath ?? undefined });
    // Embedded mode owns its database, so it migrates it; distributed mode runs the migration job.
    const p = await createPlatform(config, { name: NAME, logger, metrics, migrate: config.mode === 'embedded' });
    platform = p;
    http.addReadinessCheck('bus', () => p.bus.ping());
    http.addReadinessCheck('database', () => p.dataSource.query('SELECT 1'));
    http.addReadinessCheck('storage', () => p.store.ping());
    if (p.bus.driver === 'in-process') {
      logger.warn('NATS_URL is not set: using the in-process bus, so this process only sees commands published inside it');
    }
    const service = new RenderService({ db: p.db, store: p.store, bus: p.bus, logger, settings: config.render });
    const handlers = commandHandlers({ service });
    // The service name is the consumer group: every replica of this service shares the work.
    await startCommandHandlers(p.bus, NAME, handlers);
    logger.info({ mode: config.mode, bus: p.bus.driver, ffmpeg: media.sources, commands: handlers.map((h) => h.command) }, 'handling commands');
  },
  async stop({ drainTimeoutMs }) {
    await platform?.close({ timeoutMs: drainTimeoutMs });
  },
});
