/**
 * The life of a service process: serve health endpoints from the first moment, start, report ready,
 * and on SIGTERM/SIGINT shut down in order (not ready, stop accepting, let in-flight work finish,
 * close connections) and exit 0. A second signal, or a shutdown that overruns its deadline, exits 1.
 */
import { describeError } from '@s2g/contracts';
import type { Registry } from 'prom-client';
import { createServiceHttp, type ServiceHttp } from './http';
import type { Logger } from './logger';

export interface ServiceContext {
  name: string;
  logger: Logger;
  http: ServiceHttp;
  metrics: Registry;
  /** Aborted when shutdown begins. */
  signal: AbortSignal;
  /** How long `stop` may let in-flight work run (the rest of the shutdown deadline is for closing). */
  drainTimeoutMs: number;
}

export interface ServiceDefinition {
  name: string;
  logger: Logger;
  http: { port: number; host?: string };
  /** Deadline of the whole shutdown. Default 25 s. */
  shutdownTimeoutMs?: number;
  /** Connects and starts consuming; /healthz answers meanwhile, /readyz only once it resolves. */
  start(ctx: ServiceContext): Promise<void> | void;
  /** Stops consuming, lets in-flight work finish (up to `ctx.drainTimeoutMs`) and closes connections. */
  stop?(ctx: ServiceContext): Promise<void> | void;
  /** Installs SIGTERM/SIGINT handlers and exits the process at the end. Default true; tests turn it off. */
  ownProcess?: boolean;
}

export interface RunningService {
  readonly http: ServiceHttp;
  readonly port: number;
  /** Shuts down (once; later calls return the same promise) and resolves the exit code. */
  shutdown(reason: string): Promise<number>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work.then((value) => ({ done: true as const, value })),
    new Promise<{ done: false }>((resolve) => {
      timer = setTimeout(() => resolve({ done: false }), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function runService(def: ServiceDefinition): Promise<RunningService> {
  const { name, logger } = def;
  const ownProcess = def.ownProcess ?? true;
  const shutdownTimeoutMs = def.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const http = createServiceHttp({ name, logger });
  const aborter = new AbortController();
  const ctx: ServiceContext = {
    name,
    logger,
    http,
    metrics: http.metrics,
    signal: aborter.signal,
    drainTimeoutMs: Math.max(0, Math.floor(shutdownTimeoutMs * 0.8)),
  };

  const exit = (code: number): void => {
    if (!ownProcess) return;
    logger.flush();
    process.exit(code);
  };

  let shutdownPromise: Promise<number> | null = null;
  const shutdown = (reason: string): Promise<number> => {
    shutdownPromise ??= (async () => {
      logger.info({ reason, timeoutMs: shutdownTimeoutMs }, `${name} shutting down`);
      aborter.abort();
      http.setState('stopping');
      const started = Date.now();
      const httpClosed = http.close(shutdownTimeoutMs);
      let code = 0;
      const stopped = await withDeadline(
        Promise.resolve()
          .then(() => def.stop?.(ctx))
          .then(
            () => true,
            (e: unknown) => {
              logger.error({ err: e }, 'stop failed');
              return false;
            },
          ),
        shutdownTimeoutMs,
      );
      if (!stopped.done) logger.error({ timeoutMs: shutdownTimeoutMs }, 'stop overran the shutdown deadline');
      if (!stopped.done || !stopped.value) code = 1;
      const remaining = Math.max(0, shutdownTimeoutMs - (Date.now() - started));
      if (!(await withDeadline(httpClosed, remaining + 1000)).done) code = 1;
      logger.info({ code, ms: Date.now() - started }, `${name} stopped`);
      return code;
    })();
    return shutdownPromise;
  };

  if (ownProcess) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (shutdownPromise) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        exit(1);
        return;
      }
      void shutdown(signal).then(exit);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const onFatal = (kind: string) => (e: unknown) => {
      logger.fatal({ err: e }, kind);
      void shutdown(kind).then(() => exit(1));
    };
    process.on('uncaughtException', onFatal('uncaught exception'));
    process.on('unhandledRejection', onFatal('unhandled promise rejection'));
  }

  const address = await http.listen(def.http.port, def.http.host);
  try {
    await def.start(ctx);
  } catch (e) {
    logger.fatal({ err: e, reason: describeError(e) }, `${name} failed to start`);
    await shutdown('start failed');
    exit(1);
    throw e;
  }
  if (shutdownPromise) return { http, port: address.port, shutdown };
  http.setState('ready');
  logger.info({ port: address.port, host: address.address }, `${name} ready`);
  return { http, port: address.port, shutdown };
}
