/**
 * The gateway as a service: what `apps/gateway` runs (`runService(gatewayService(config, ...))`) and
 * what the tests start. Start-up: the platform (database, store, bus; embedded ones when no URLs are
 * configured), the local admin token file in embedded mode, the API, then the command handlers this
 * process runs itself (every worker, in embedded mode).
 */
import { type AnyCommandHandler, type CommandConsumer, type InProcessBroker, startCommandHandlers } from '@s2g/messaging';
import { createPlatform, type Logger, type Platform, type ServiceContext, type ServiceDefinition } from '@s2g/service';
import type { AddressInfo } from 'node:net';
import { ensureLocalAdminToken } from './auth/local-admin';
import { type GatewayConfig, publicUrlFor } from './config';
import { createGateway, FILES_PATH, type Gateway, GRAPHQL_PATH } from './gateway';

export const GATEWAY_NAME = 'gateway';
/** Consumer group of the jobs run inside the gateway process (embedded mode). */
export const EMBEDDED_GROUP = 'embedded';

export interface GatewayServiceOptions {
  logger: Logger;
  /** Join this in-process broker instead of starting one (several services in one process). */
  broker?: InProcessBroker;
  /** Command handlers this process runs (built once the platform exists). */
  commandHandlers?: (platform: Platform) => AnyCommandHandler[];
  /** Default true; tests turn it off (see ServiceDefinition.ownProcess). */
  ownProcess?: boolean;
}

export interface RunningGateway {
  platform: Platform;
  gateway: Gateway;
  /** Where clients reach the API, e.g. `http://localhost:8080/graphql`. */
  graphqlUrl: string;
  /** The local admin token file (embedded mode), else null. */
  adminTokenFile: string | null;
}

export interface GatewayService extends ServiceDefinition {
  /** Set once start() has finished. */
  readonly running: RunningGateway | null;
}

export function gatewayService(config: GatewayConfig, options: GatewayServiceOptions): GatewayService {
  const { logger } = options;
  let platform: Platform | null = null;
  let gateway: Gateway | null = null;
  let consumers: CommandConsumer[] = [];
  let running: RunningGateway | null = null;

  return {
    name: GATEWAY_NAME,
    logger,
    http: config.http,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ownProcess: options.ownProcess ?? true,
    get running() {
      return running;
    },
    async start(ctx: ServiceContext) {
      const { port } = ctx.http.server.address() as AddressInfo;
      const publicUrl = publicUrlFor(config.api, config.http.host, port);
      const started = await createPlatform(config, {
        name: GATEWAY_NAME,
        logger,
        metrics: ctx.metrics,
        broker: options.broker,
        // Embedded mode owns its database; distributed deployments migrate with `gateway migrate`.
        migrate: config.mode === 'embedded',
        filesBaseUrl: `${publicUrl}${FILES_PATH}`,
      });
      platform = started;
      let adminTokenFile: string | null = null;
      if (config.mode === 'embedded') {
        const local = await ensureLocalAdminToken(started.db, config.dataDir);
        adminTokenFile = local.path;
        logger.info({ path: local.path, created: local.created }, 'local admin token file');
      }
      gateway = await createGateway(started, { http: ctx.http, config: config.api, logger });
      const handlers = options.commandHandlers?.(started) ?? [];
      consumers = await startCommandHandlers(started.bus, EMBEDDED_GROUP, handlers);
      running = { platform: started, gateway, graphqlUrl: `${publicUrl}${GRAPHQL_PATH}`, adminTokenFile };
      logger.info(
        { mode: config.mode, url: running.graphqlUrl, bus: started.bus.driver, store: started.store.driver, commands: handlers.map((h) => h.command) },
        'gateway started',
      );
    },
    async stop({ drainTimeoutMs }: ServiceContext) {
      await gateway?.close({ timeoutMs: drainTimeoutMs });
      await Promise.all(consumers.map((c) => c.stop({ timeoutMs: drainTimeoutMs })));
      await platform?.close({ timeoutMs: drainTimeoutMs });
    },
  };
}
