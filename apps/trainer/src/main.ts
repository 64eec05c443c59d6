/**
 * Entry point of the s2g trainer service.
 * Wiring only: configuration, health endpoints, the bus, and the handlers listed in ./handlers.
 */
import { sharedConfig } from '@s2g/config';
import { connectBus, type EventBus, startCommandHandlers } from '@s2g/messaging';
import { createLogger, loadConfigOrExit, parseServiceArgs, runService } from '@s2g/service';
import { commandHandlers } from './handlers';

const NAME = 'trainer';

parseServiceArgs({ name: `s2g-${NAME}`, description: 'Trains per-speaker gesture models, validates and checkpoints them, reports progress. Handles s2g.training.requested and s2g.training.cancel.', env: sharedConfig.vars });
const config = loadConfigOrExit(sharedConfig);
const logger = createLogger({ name: NAME, level: config.log.level });
let bus: EventBus | undefined;

await runService({
  name: NAME,
  logger,
  http: config.http,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start({ http, metrics }) {
    const connected = await connectBus({ nats: config.nats, name: NAME, logger, metrics });
    bus = connected;
    http.addReadinessCheck('bus', () => connected.ping());
    if (connected.driver === 'in-process') {
      logger.warn('NATS_URL is not set: using the in-process bus, so this process only sees commands published inside it');
    }
    const handlers = commandHandlers({ config, logger, bus: connected });
    // The service name is the consumer group: every replica of this service shares the work.
    await startCommandHandlers(connected, NAME, handlers);
    logger.info({ mode: config.mode, bus: connected.driver, commands: handlers.map((h) => h.command) }, 'handling commands');
  },
  async stop({ drainTimeoutMs }) {
    await bus?.close({ timeoutMs: drainTimeoutMs });
  },
});
