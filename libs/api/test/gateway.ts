/**
 * Test helpers: a real gateway (the service apps/gateway runs, with ownProcess off) on a free port,
 * with clients for GraphQL over HTTP (`fetch`) and over WebSocket (`graphql-ws`). End-to-end tests
 * of the whole product start their workers on `gw.platform` (or on the same NATS / broker) and drive
 * them through these clients.
 */
import { loadConfig } from '@s2g/config';
import type { TokenScope } from '@s2g/contracts';
import type { AnyCommandHandler, InProcessBroker } from '@s2g/messaging';
import { createLogger, type Platform, runService, type RunningService } from '@s2g/service';
import { type Client, createClient } from 'graphql-ws';
import type { FormattedExecutionResult, GraphQLFormattedError } from '../src/graphql';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createApiToken, type Gateway, gatewayConfig, gatewayService } from '../src';

export interface TestGatewayOptions {
  /** A Postgres database for this gateway (migrated on start, as embedded mode does). */
  databaseUrl: string;
  /** DATA_DIR: the local admin token file, and the filesystem store when no S3 is given. */
  dataDir: string;
  nats?: { url: string; namespace?: string };
  s3?: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  /** Join an in-process broker (to share the bus with workers in the same process). */
  broker?: InProcessBroker;
  /** More environment, e.g. `{ API_MAX_DEPTH: '5' }`. */
  env?: Record<string, string>;
  commandHandlers?: (platform: Platform) => AnyCommandHandler[];
}

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

export interface RequestOptions {
  /** Bearer token; default the admin token; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface TestSubscription<T> {
  readonly results: FormattedExecutionResult<T, unknown>[];
  /** Set when the subscription ended with an error message or a closed socket. */
  readonly failure: unknown;
  readonly completed: boolean;
  /** Resolves once `count` results arrived (or rejects after the timeout). */
  waitFor(count: number, timeoutMs?: number): Promise<FormattedExecutionResult<T, unknown>[]>;
  /** Resolves once the subscription failed or completed. */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export interface TestGateway {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly platform: Platform;
  readonly gateway: Gateway;
  readonly service: RunningService;
  /** The local admin token (from the file the gateway writes under DATA_DIR). */
  readonly adminToken: string;
  /** Every log line so far. */
  readonly logs: Record<string, unknown>[];
  /** A new token with these scopes. */
  token(scopes: TokenScope[], name?: string): Promise<string>;
  request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client authenticated with `token` (default admin; null: no connectionParams). */
  wsClient(token?: string | null): Client;
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: { token?: string | null; client?: Client }): TestSubscription<T>;
  close(): Promise<void>;
}

function memoryDestination(lines: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
}

function waitUntil(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const env: Record<string, string> = {
    S2G_MODE: 'embedded',
    DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    LOG_LEVEL: 'debug',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...(options.nats ? { NATS_URL: options.nats.url, ...(options.nats.namespace ? { NATS_NAMESPACE: options.nats.namespace } : {}) } : {}),
    ...(options.s3
      ? { S3_ENDPOINT: options.s3.endpoint, S3_ACCESS_KEY: options.s3.accessKey, S3_SECRET_KEY: options.s3.secretKey, S3_BUCKET: options.s3.bucket }
      : {}),
    ...options.env,
  };
  const config = loadConfig(gatewayConfig, env);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'gateway', level: 'debug', destination: memoryDestination(logs) });
  const service = gatewayService(config, { logger, ownProcess: false, broker: options.broker, commandHandlers: options.commandHandlers });
  const running = await runService(service);
  const started = service.running;
  if (!started) throw new Error('gateway did not start');
  const adminToken = (await readFile(started.adminTokenFile as string, 'utf8')).trim();
  const baseUrl = `http://127.0.0.1:${running.port}`;
  const graphqlUrl = `${baseUrl}/graphql`;
  const wsUrl = `ws://127.0.0.1:${running.port}/graphql`;
  const clients = new Set<Client>();

  const wsClient = (token: string | null = adminToken): Client => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      ...(token === null ? {} : { connectionParams: { authorization: `Bearer ${token}` } }),
    });
    clients.add(client);
    return client;
  };

  return {
    baseUrl,
    graphqlUrl,
    wsUrl,
    port: running.port,
    platform: started.platform,
    gateway: started.gateway,
    service: running,
    adminToken,
    logs,
    async token(scopes, name = `test-${scopes.join('-')}`) {
      return (await createApiToken(started.platform.db, { name, scopes })).token;
    },
    async request<T>(query: string, variables?: Record<string, unknown>, opts: RequestOptions = {}) {
      const token = opts.token === undefined ? adminToken : opts.token;
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: { data?: T | null; errors?: GraphQLFormattedError[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 500)}`);
      }
      return { status: res.status, headers: res.headers, ...body };
    },
    wsClient,
    subscribe<T>(query: string, variables?: Record<string, unknown>, opts: { token?: string | null; client?: Client } = {}) {
      const client = opts.client ?? wsClient(opts.token === undefined ? adminToken : opts.token);
      const results: FormattedExecutionResult<T, unknown>[] = [];
      const state = { failure: undefined as unknown, completed: false };
      const stop = client.subscribe<T>(
        { query, variables },
        {
          next: (value) => results.push(value),
          error: (e) => (state.failure = e ?? new Error('subscription failed')),
          complete: () => (state.completed = true),
        },
      );
      return {
        results,
        get failure() {
          return state.failure;
        },
        get completed() {
          return state.completed;
        },
        async waitFor(count, timeoutMs = 10_000) {
          await waitUntil(
            () => results.length >= count || state.failure !== undefined,
            timeoutMs,
            () => `${count} subscription results (have ${results.length})`,
          );
          if (results.length < count) throw new Error(`subscription failed: ${JSON.stringify(state.failure)}`);
          return results.slice(0, count);
        },
        ended(timeoutMs = 10_000) {
          return waitUntil(() => state.completed || state.failure !== undefined, timeoutMs, () => 'the subscription to end');
        },
        unsubscribe: stop,
      };
    },
    async close() {
      await Promise.all([...clients].map((c) => c.dispose()));
      await running.shutdown('test done');
    },
  };
}

/** Polls until `check` resolves true (for effects that arrive over the bus). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The value, or a failed test naming what was missing (for response fields a test relies on). */
export function must<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}
