/**
 * Entry point of the s2g gateway: the API every client talks to (libs/api). It writes requests,
 * publishes commands and turns events into subscription messages. In embedded mode (the default) it
 * is the whole product in one process: @s2g/stack adds every worker service's handlers beside it.
 * Wiring only: subcommands, configuration, and the service.
 */
import { gatewayService, isAdminCommand, runAdminCommand } from '@s2g/api';
import { createLogger, loadConfigOrExit, parseServiceArgs, runService } from '@s2g/service';
import { stackConfig, startStack } from '@s2g/stack';

const NAME = 'gateway';
const argv = process.argv.slice(2);

if (isAdminCommand(argv)) process.exit(await runAdminCommand(argv));

parseServiceArgs({
  name: `s2g-${NAME}`,
  description:
    'The s2g API: speakers, training runs, predictions and renders over GraphQL (/graphql, with subscriptions over WebSocket), with live progress. ' +
    'In embedded mode (the default) it runs every service in this one process. ' +
    'Subcommands: `migrate` (apply database migrations), `tokens create --name <name> --scopes <read,write,admin>`, `tokens list`, `tokens revoke <id>`; each has --help.',
  // Embedded mode reads the workers' settings too; each has a default.
  env: stackConfig.vars,
});
const config = loadConfigOrExit(stackConfig);
const logger = createLogger({ name: NAME, level: config.log.level });

if (config.mode === 'embedded') await startStack(config, { logger, ownProcess: true });
else await runService(gatewayService(config, { logger }));
