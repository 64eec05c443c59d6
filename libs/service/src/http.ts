/**
 * The HTTP side every service has: liveness, readiness and metrics. The express app and the server
 * are exposed so a service can mount more (the gateway mounts its API and websocket server on them).
 */
import { describeError } from '@s2g/contracts';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger';

export type ReadinessState = 'starting' | 'ready' | 'stopping';

export interface ReadinessCheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'starting' | 'stopping';
  checks: Record<string, ReadinessCheckResult>;
}

export interface ServiceHttp {
  readonly app: Express;
  readonly server: Server;
  /** The service's metrics registry (default Node metrics included); register more on it. */
  readonly metrics: Registry;
  /** Adds a dependency to /readyz; it is ready when the function resolves within the timeout. */
  addReadinessCheck(name: string, check: () => unknown, options?: { timeoutMs?: number }): void;
  setState(state: ReadinessState): void;
  /** Runs every check now (what /readyz answers). */
  readiness(): Promise<ReadinessReport>;
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting connections, lets requests in progress finish (up to the timeout), then closes the rest. */
  close(timeoutMs?: number): Promise<void>;
}

export interface ServiceHttpOptions {
  name: string;
  logger: Logger;
  /** Registry to expose; a new one (with default Node metrics) when omitted. */
  metrics?: Registry;
}

const DEFAULT_CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: () => unknown, timeoutMs: number): Promise<ReadinessCheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (e) {
    return { ok: false, ms: Math.round(performance.now() - started), error: describeError(e).message };
  } finally {
    clearTimeout(timer);
  }
}

export function createServiceHttp(options: ServiceHttpOptions): ServiceHttp {
  const { name, logger } = options;
  const metrics = options.metrics ?? new Registry();
  if (!options.metrics) {
    metrics.setDefaultLabels({ service: name });
    collectDefaultMetrics({ register: metrics });
  }
  const requestSeconds =
    (metrics.getSingleMetric('s2g_http_request_duration_seconds') as Histogram<'method' | 'route' | 'status'> | undefined) ??
    new Histogram({
    name: 's2g_http_request_duration_seconds',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 5, 30],
    registers: [metrics],
    });

  const checks = new Map<string, { check: () => unknown; timeoutMs: number }>();
  let state: ReadinessState = 'starting';
  const started = Date.now();

  async function readiness(): Promise<ReadinessReport> {
    const entries = await Promise.all([...checks].map(async ([n, c]) => [n, await runCheck(c.check, c.timeoutMs)] as const));
    const results = Object.fromEntries(entries);
    if (state !== 'ready') return { status: state, checks: results };
    return { status: entries.every(([, r]) => r.ok) ? 'ready' : 'not_ready', checks: results };
  }

  const app = express();
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = requestSeconds.startTimer();
    res.on('finish', () => {
      // The matched route, not the raw path: ids in paths would make one series per request.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route: String(route), status: String(res.statusCode) });
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: name, uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await readiness();
    if (report.status !== 'ready') logger.warn({ readiness: report }, 'not ready');
    res.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  const server = createServer(app);
  // Probes and scrapers keep connections alive; do not let an idle one hold up shutdown for long.
  server.keepAliveTimeout = 5000;

  return {
    app,
    server,
    metrics,
    addReadinessCheck(checkName, check, opts = {}) {
      checks.set(checkName, { check, timeoutMs: opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS });
    },
    setState(next) {
      state = next;
    },
    readiness,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(timeoutMs = 10_000) {
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
        // Keep-alive connections become idle as their last response ends: close each one then.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(force);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
