/**
 * Entry point of the s2g gateway: the API every client talks to. It publishes commands and turns
 * events into subscription messages; in embedded mode it also runs every job in this one process.
 * Wiring only: configuration, health endpoints, the bus, and the handlers listed in ./handlers.
 */
import { sharedConfig } from '@s2g/config';
import { connectBus, type EventBus, startCommandHandlers } from '@s2g/messaging';
import { createLogger, loadConfigOrExit, parseServiceArgs, runService } from '@s2g/service';
import { embeddedCommandHandlers } from './handlers';

const NAME = 'gateway';
/** Consumer group of the jobs run inside the gateway in embedded mode. */
const EMBEDDED_GROUP = 'embedded';

parseServiceArgs({
  name: `s2g-${NAME}`,
  description: 'The s2g API: speakers, training runs, predictions and renders over GraphQL, with live progress. In embedded mode (the default) it runs every service in this one process.',
  env: sharedConfig.vars,
});
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
    const handlers = config.mode === 'embedded' ? embeddedCommandHandlers({ config, logger, bus: connected }) : [];
    await startCommandHandlers(connected, EMBEDDED_GROUP, handlers);
    logger.info({ mode: config.mode, bus: connected.driver, commands: handlers.map((h) => h.command) }, 'gateway started');
  },
  async stop({ drainTimeoutMs }) {
    await bus?.close({ timeoutMs: drainTimeoutMs });
  },
});
