/**
 * Entry point of the s2g ingest service.
 * Wiring only: configuration, health endpoints, the platform (database, object store, bus), and the
 * handlers listed in ./handlers.
 */
import { sharedConfig } from '@s2g/config';
import { startCommandHandlers } from '@s2g/messaging';
import { createLogger, createPlatform, loadConfigOrExit, parseServiceArgs, type Platform, runService } from '@s2g/service';
import { commandHandlers } from './handlers';

const NAME = 'ingest';

parseServiceArgs({ name: `s2g-${NAME}`, description: 'Adds speakers and their data: imports datasets and uploads, extracts audio, cuts training samples. Handles s2g.ingest.requested.', env: sharedConfig.vars });
const config = loadConfigOrExit(sharedConfig);
const logger = createLogger({ name: NAME, level: config.log.level });
let platform: Platform | undefined;

await runService({
  name: NAME,
  logger,
  http: config.http,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start({ http, metrics }) {
    // Distributed deployments migrate with their migration job; embedded mode owns its database.
    const p = await createPlatform(config, { name: NAME, logger, metrics, migrate: config.mode === 'embedded' });
    platform = p;
    http.addReadinessCheck('bus', () => p.bus.ping());
    http.addReadinessCheck('storage', () => p.store.ping());
    http.addReadinessCheck('database', async () => void (await p.dataSource.query('SELECT 1')));
    if (p.bus.driver === 'in-process') {
      logger.warn('NATS_URL is not set: using the in-process bus, so this process only sees commands published inside it');
    }
    const handlers = commandHandlers({ config, logger, bus: p.bus, db: p.db, store: p.store });
    // The service name is the consumer group: every replica of this service shares the work.
    await startCommandHandlers(p.bus, NAME, handlers);
    logger.info({ mode: config.mode, bus: p.bus.driver, store: p.store.driver, commands: handlers.map((h) => h.command) }, 'handling commands');
  },
  async stop({ drainTimeoutMs }) {
    await platform?.close({ timeoutMs: drainTimeoutMs });
  },
});
