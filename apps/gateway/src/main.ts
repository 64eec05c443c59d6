/**
 * Entry point of the s2g gateway: the API every client talks to (libs/api). It writes requests,
 * publishes commands and turns events into subscription messages; in embedded mode it also runs
 * every job in this one process (./handlers).
 * Wiring only: subcommands, configuration, and the gateway service.
 */
import { gatewayConfig, gatewayService, isAdminCommand, runAdminCommand } from '@s2g/api';
import { createLogger, loadConfigOrExit, parseServiceArgs, runService } from '@s2g/service';
import { embeddedCommandHandlers } from './handlers';

const NAME = 'gateway';
const argv = process.argv.slice(2);

if (isAdminCommand(argv)) process.exit(await runAdminCommand(argv));

parseServiceArgs({
  name: `s2g-${NAME}`,
  description:
    'The s2g API: speakers, training runs, predictions and renders over GraphQL (/graphql, with subscriptions over WebSocket), with live progress. ' +
    'In embedded mode (the default) it runs every service in this one process. ' +
    'Subcommands: `migrate` (apply database migrations), `tokens create --name <name> --scopes <read,write,admin>`, `tokens list`, `tokens revoke <id>`; each has --help.',
  env: gatewayConfig.vars,
});
const config = loadConfigOrExit(gatewayConfig);
const logger = createLogger({ name: NAME, level: config.log.level });

await runService(
  gatewayService(config, {
    logger,
    commandHandlers: (platform) => (config.mode === 'embedded' ? embeddedCommandHandlers({ config, logger, bus: platform.bus, platform }) : []),
  }),
);
