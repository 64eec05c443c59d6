/**
 * The single-process stack: the one place that composes every service of s2g in one process. The
 * platform (database, object store, bus: embedded ones unless URLs are configured), the gateway, and
 * the command handlers of the ingest, trainer, inference and renderer services, built from the same
 * feature libs the separate apps use. In embedded mode this is the whole product; with NATS,
 * Postgres and S3 configured it is a single-process deployment that shares the work with any other
 * replicas (each service consumes as its own group, as the separate apps do).
 */
import { ensureLocalAdminToken, GATEWAY_NAME, gatewayService, type RunningGateway } from '@s2g/api';
import { type CommandName, ErrorCode, type JobKind, S2gError } from '@s2g/contracts';
import { ingestCommandHandler } from '@s2g/dataset';
import { configureMedia } from '@s2g/media';
import { type AnyCommandHandler, checkHandlers, type CommandConsumer, type InProcessBroker, startCommandHandlers } from '@s2g/messaging';
import { type ActiveBackend, inferenceCommandHandlers, InferenceService, renderCommandHandlers, RenderService, startTensorBackend } from '@s2g/prediction';
import { createPlatform, type Logger, type Platform, runService, type RunningService, type ServiceContext, type ServiceDefinition } from '@s2g/service';
import { trainingCommandHandlers, trainingServiceOptions } from '@s2g/training';
import { readFile } from 'node:fs/promises';
import type { StackConfig } from './config';
import { requeueUnfinishedJobs, type RequeuedJobs } from './requeue';
import { commandsOf, SERVICE_JOBS, SERVICE_NAMES, type ServiceName } from './services';

export interface StackOptions {
  logger: Logger;
  /** The services whose commands this process handles; default all of them. */
  services?: readonly ServiceName[];
  /** Serve the GraphQL API here too; default true. */
  gateway?: boolean;
  /** Install SIGTERM/SIGINT handlers and exit the process after shutdown (`s2g up`); default false. */
  ownProcess?: boolean;
  /** Join this in-process broker instead of starting one (tests running several processes' worth). */
  broker?: InProcessBroker;
}

export interface Stack {
  /** The GraphQL endpoint, e.g. `http://localhost:8080/graphql`; null without the gateway. */
  url: string | null;
  /** An admin token for `url` (read from `tokenFile`); null without the gateway. */
  token: string | null;
  /** DATA_DIR/admin.token; null without the gateway. */
  tokenFile: string | null;
  /** The port the HTTP server (API, health, metrics) listens on. */
  port: number;
  platform: Platform;
  /** The tensor backend training and inference use here; null when neither runs here. */
  backend: ActiveBackend | null;
  /** The commands handled in this process. */
  commands: CommandName[];
  /** Unfinished jobs queued again at start-up (in-process bus only). */
  requeued: RequeuedJobs;
  /** Stops accepting work, lets running jobs reach a safe point, closes everything; resolves the exit code. */
  stop(): Promise<number>;
}

interface Workers {
  handlers: AnyCommandHandler[];
  close(): void;
}

/** The handlers of the chosen services, built on one platform. */
function buildWorkers(services: readonly ServiceName[], platform: Platform, config: StackConfig, logger: Logger, backend: ActiveBackend | null): Map<ServiceName, Workers> {
  const { db, store, bus } = platform;
  const out = new Map<ServiceName, Workers>();
  const nothing = (): void => undefined;
  for (const service of services) {
    switch (service) {
      case 'ingest':
        // One import at a time: an import is CPU-bound (ffmpeg, window cutting).
        out.set(service, { handlers: [ingestCommandHandler({ db, store, bus, logger }, { concurrency: 1 })], close: nothing });
        break;
      case 'trainer':
        out.set(service, { handlers: trainingCommandHandlers({ db, store, bus, logger, backend: backend as ActiveBackend }, trainingServiceOptions(config.trainer)), close: nothing });
        break;
      case 'inference': {
        const inference = new InferenceService({ db, store, bus, logger, settings: config.inference, backend: backend as ActiveBackend });
        out.set(service, { handlers: inferenceCommandHandlers(inference), close: () => inference.close() });
        break;
      }
      case 'renderer': {
        const render = new RenderService({ db, store, bus, logger, settings: config.render });
        out.set(service, { handlers: renderCommandHandlers(render), close: nothing });
        break;
      }
    }
  }
  return out;
}

/** Starts the stack and resolves once it is ready (API answering, handlers consuming). */
export async function startStack(config: StackConfig, options: StackOptions): Promise<Stack> {
  const { logger } = options;
  const services = options.services ?? SERVICE_NAMES;
  const withGateway = options.gateway ?? true;
  const gateway = withGateway ? gatewayService(config, { logger, broker: options.broker, ownProcess: options.ownProcess ?? false }) : null;
  let platform: Platform | null = null;
  let workers = new Map<ServiceName, Workers>();
  let consumers: CommandConsumer[] = [];
  let backend: ActiveBackend | null = null;
  let requeued: RequeuedJobs = { ingest: 0, training: 0, inference: 0, render: 0 };
  let tokenFile: string | null = null;

  const name = withGateway ? GATEWAY_NAME : services.length === 1 ? services[0] : 'stack';
  const definition: ServiceDefinition = {
    name,
    logger,
    http: config.http,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ownProcess: options.ownProcess ?? false,
    async start(ctx: ServiceContext) {
      if (gateway) {
        await gateway.start(ctx);
        const running = gateway.running as RunningGateway;
        platform = running.platform;
        // The gateway keeps this file in embedded mode; a single-process deployment on external
        // services gets one too, so the command line on this machine works the same way.
        tokenFile = running.adminTokenFile ?? (await ensureLocalAdminToken(platform.db, config.dataDir)).path;
      } else {
        const p = await createPlatform(config, { name, logger, metrics: ctx.metrics, broker: options.broker, migrate: config.mode === 'embedded' });
        platform = p;
        ctx.http.addReadinessCheck('bus', () => p.bus.ping());
        ctx.http.addReadinessCheck('storage', () => p.store.ping());
        ctx.http.addReadinessCheck('database', async () => void (await p.dataSource.query('SELECT 1')));
      }
      const p = platform as Platform;
      if (p.bus.driver === 'in-process' && !(withGateway && services.length === SERVICE_NAMES.length)) {
        logger.warn({ services, gateway: withGateway }, 'NATS_URL is not set: using the in-process bus, so this process only sees commands published inside it');
      }
      configureMedia({ ffmpegPath: config.media.ffmpegPath ?? undefined, ffprobePath: config.media.ffprobePath ?? undefined });
      if (services.includes('trainer') || services.includes('inference')) backend = await startTensorBackend(config.tensor, logger);
      workers = buildWorkers(services, p, config, logger, backend);
      // Checked as one list before anything consumes: every command of these services has one handler.
      checkHandlers(
        [...workers.values()].flatMap((w) => w.handlers),
        { required: commandsOf(services) },
      );
      for (const [service, w] of workers) {
        // The service name is the consumer group, as in the separate apps, so this process and
        // other replicas of a service share its work on NATS.
        consumers.push(...(await startCommandHandlers(p.bus, service, w.handlers)));
      }
      if (p.bus.driver === 'in-process') {
        const kinds: JobKind[] = services.map((s) => SERVICE_JOBS[s]);
        requeued = await requeueUnfinishedJobs(p.db, p.bus, kinds, logger);
      }
      logger.info({ mode: config.mode, services, gateway: withGateway, backend, bus: p.bus.driver, store: p.store.driver, requeued }, 'stack started');
    },
    async stop(ctx: ServiceContext) {
      await Promise.all(consumers.map((c) => c.stop({ timeoutMs: ctx.drainTimeoutMs })));
      consumers = [];
      for (const w of workers.values()) w.close();
      if (gateway) await gateway.stop?.(ctx);
      else await (platform as Platform | null)?.close({ timeoutMs: ctx.drainTimeoutMs });
    },
  };

  const service: RunningService = await runService(definition);
  if (!platform) throw new S2gError(ErrorCode.UNAVAILABLE, 'the stack was stopped while it was starting');
  const token = tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : null;
  return {
    url: gateway?.running?.graphqlUrl ?? null,
    token,
    tokenFile,
    port: service.port,
    platform,
    backend,
    commands: commandsOf(services),
    requeued,
    stop: () => service.shutdown('stop'),
  };
}
