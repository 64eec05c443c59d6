/**
 * The API on a service's HTTP server: Apollo Server 5 at /graphql (CSRF prevention on, introspection
 * on), graphql-ws subscriptions on the same server and path, the filesystem store's presigned URLs
 * at /files (embedded mode), readiness checks for the database, the bus and the storage, and metrics.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { ErrorCode, isS2gError } from '@s2g/contracts';
import type { Logger, Platform, ServiceHttp } from '@s2g/service';
import { FsObjectStore, handlePresignedRequest } from '@s2g/storage';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type ExecutionArgs, type FormattedExecutionResult, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, parse, validate } from './graphql';
import { useServer } from 'graphql-ws/use/ws';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import type { AuthInfo } from './auth/tokens';
import { type ApiConfig, DEFAULT_API_CONFIG } from './config';
import { type ApiContext, createContext } from './context';
import { formatApiError, INTERNAL_MESSAGE, isInternal, originalError } from './errors';
import { bridgeBusEvents, createEventFeeds } from './events';
import { checkOperationLimits } from './limits';
import { createApiMetrics, operationLabels, type ApiMetrics } from './metrics';
import { buildApiSchema } from './schema/build';
import { type ApiServices, createApiServices } from './services';

export const GRAPHQL_PATH = '/graphql';
export const FILES_PATH = '/files';
/** Largest GraphQL request body: operations are small, files go to upload URLs. */
const MAX_BODY = '1mb';
const MAX_BODY_BYTES = 1024 * 1024;

export interface GatewayOptions {
  /** The service's HTTP side to mount on (runService's `ctx.http`). */
  http: ServiceHttp;
  config?: ApiConfig;
  logger?: Logger;
  /** Where API metrics go; default the HTTP side's registry. */
  metrics?: Registry;
}

export interface Gateway {
  readonly schema: GraphQLSchema;
  readonly services: ApiServices;
  /** Subscriptions being served now. */
  activeSubscriptions(): number;
  /**
   * Closes WebSockets (clients see 1001 and may reconnect to another replica), lets HTTP operations
   * in progress finish (up to the timeout), stops Apollo and the bus subscriptions. The platform
   * (database, bus, store) stays open: its owner closes it afterwards.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** A token problem as Apollo should send it: 401 with the coded message. */
async function authenticateOrThrow(services: ApiServices, authorization: string | undefined): Promise<AuthInfo | null> {
  try {
    return await services.authenticator.authenticate(authorization);
  } catch (e) {
    if (isS2gError(e) && e.code === ErrorCode.UNAUTHENTICATED) {
      throw new GraphQLError(e.message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
    }
    throw e;
  }
}

/** A parse or validation error with the code Apollo gives the same error over HTTP. */
function requestError(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code } });
}

/** Formats errors for the caller and logs the unexpected ones (with the stack) under the request id. */
function reportErrors(errors: readonly GraphQLError[], logger: Logger, requestId: string): GraphQLFormattedError[] {
  return errors.map((error) => {
    const formatted = formatApiError(error.toJSON(), error);
    if (isInternal(formatted)) {
      logger.error({ requestId, err: originalError(error), path: error.path }, 'internal error in a GraphQL operation');
      return { ...formatted, extensions: { ...formatted.extensions, requestId } };
    }
    return formatted;
  });
}

function plugins(schema: GraphQLSchema, config: ApiConfig, metrics: ApiMetrics): ApolloServerPlugin<ApiContext>[] {
  const limits = { maxDepth: config.maxDepth, maxCost: config.maxCost };
  return [
    ApolloServerPluginLandingPageDisabled(),
    {
      async requestDidStart() {
        const started = performance.now();
        return {
          async didResolveOperation({ document, operationName, request }) {
            const tooComplex = checkOperationLimits(schema, limits, document, operationName, request.variables);
            if (tooComplex) throw tooComplex;
          },
          async didEncounterErrors({ errors, contextValue }) {
            for (const error of errors) {
              if (isInternal(formatApiError(error.toJSON(), error))) {
                contextValue.logger.error({ err: originalError(error), path: error.path }, 'internal error in a GraphQL operation');
              }
            }
          },
          async willSendResponse({ response, operation, errors, contextValue }) {
            const first = errors?.[0];
            const code = first ? String(formatApiError(first.toJSON(), first).extensions?.['code']) : 'OK';
            const labels = { ...operationLabels(operation), code };
            const seconds = (performance.now() - started) / 1000;
            metrics.observe(labels, seconds);
            contextValue.logger[code === 'OK' ? 'debug' : 'info']({ ...labels, ms: Math.round(seconds * 1000) }, 'graphql operation');
            if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
            // The request id lets an operator find the logged details of a masked error.
            const withId = response.body.singleResult.errors.map((e) =>
              e.extensions?.['code'] === ErrorCode.INTERNAL ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } } : e,
            );
            (response.body.singleResult as { errors?: readonly GraphQLFormattedError[] }).errors = withId;
          },
        };
      },
    },
  ];
}

/** Builds the API on `options.http` from a platform's database, store and bus. */
export async function createGateway(platform: Pick<Platform, 'db' | 'store' | 'bus' | 'logger' | 'filesSecret' | 'dataSource'>, options: GatewayOptions): Promise<Gateway> {
  const config = options.config ?? DEFAULT_API_CONFIG;
  const logger = options.logger ?? platform.logger;
  const { http } = options;
  const schema = await buildApiSchema();
  const feeds = createEventFeeds();
  const services = createApiServices({ db: platform.db, store: platform.store, bus: platform.bus, config, logger, feeds });
  const bridge = await bridgeBusEvents(platform.bus, feeds);

  // Messages are operations, never files: the same bound as HTTP bodies (ws allows 100 MiB).
  const wsServer = new WebSocketServer({ server: http.server, path: GRAPHQL_PATH, maxPayload: MAX_BODY_BYTES });
  const activeSubscriptions = (): number => feeds.training.size + feeds.jobs.size;
  const metrics = createApiMetrics(options.metrics ?? http.metrics, { subscriptions: activeSubscriptions, websockets: () => wsServer.clients.size });

  const apollo = new ApolloServer<ApiContext>({
    schema,
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // runService owns the process signals and the order of shutdown.
    stopOnTerminationSignals: false,
    formatError: formatApiError,
    plugins: plugins(schema, config, metrics),
  });
  await apollo.start();

  let inFlight = 0;
  const idle: (() => void)[] = [];
  const track = (req: Request, res: Response, next: NextFunction): void => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
    });
    res.locals['requestId'] = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', res.locals['requestId'] as string);
    next();
  };

  http.app.all(
    GRAPHQL_PATH,
    track,
    express.json({ limit: MAX_BODY }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = res.locals['requestId'] as string;
        try {
          return createContext(services, requestId, await authenticateOrThrow(services, req.headers.authorization));
        } catch (e) {
          // Apollo runs no plugin when the context cannot be built: log the unexpected here.
          if (!(e instanceof GraphQLError)) logger.error({ err: e, requestId }, 'building the request context failed');
          throw e;
        }
      },
    }),
  );
  // Body-parser failures (malformed JSON, too large) answered as GraphQL errors, never as an HTML stack trace.
  http.app.use(GRAPHQL_PATH, (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    const body =
      status < 500
        ? { errors: [{ message: status === 413 ? `request body over ${MAX_BODY}` : 'malformed request body (expected JSON)', extensions: { code: ErrorCode.BAD_USER_INPUT } }] }
        : { errors: [{ message: INTERNAL_MESSAGE, extensions: { code: ErrorCode.INTERNAL, requestId: res.locals['requestId'] } }] };
    if (status >= 500) logger.error({ err, requestId: res.locals['requestId'] }, 'GraphQL request failed');
    res.status(status).json(body);
  });

  const disposeWs = useServer<Record<string, unknown> | undefined, { authorization: string }>(
    {
      schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = params['authorization'] ?? params['Authorization'];
        if (typeof header !== 'string') return false;
        try {
          if (!(await services.authenticator.authenticate(header))) return false;
        } catch (e) {
          if (isS2gError(e) && e.code === ErrorCode.UNAUTHENTICATED) return false;
          // graphql-ws puts a thrown error's message in the close reason: keep the cause in the log.
          logger.error({ err: e }, 'authenticating a WebSocket connection failed');
          throw new Error(INTERNAL_MESSAGE);
        }
        ctx.extra.authorization = header;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const requestId = randomUUID();
        let document;
        try {
          document = parse(payload.query);
        } catch (e) {
          return [requestError(e instanceof GraphQLError ? e : new GraphQLError('malformed query'), 'GRAPHQL_PARSE_FAILED')];
        }
        const invalid = validate(schema, document);
        if (invalid.length > 0) return invalid.map((e) => requestError(e, 'GRAPHQL_VALIDATION_FAILED'));
        const tooComplex = checkOperationLimits(schema, config, document, payload.operationName, payload.variables);
        if (tooComplex) return [tooComplex];
        let auth: AuthInfo | null;
        try {
          // Checked again per operation, so a revoked token cannot start new subscriptions.
          auth = await authenticateOrThrow(services, ctx.extra.authorization);
        } catch (e) {
          return [e instanceof GraphQLError ? e : new GraphQLError(INTERNAL_MESSAGE, { originalError: e as Error })];
        }
        const args: ExecutionArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(services, requestId, auth),
        };
        metrics.count({ ...operationLabels(getOperationAST(document, payload.operationName) ?? undefined), code: 'OK' });
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => reportErrors(errors, logger, randomUUID()),
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const requestId = (args.contextValue as ApiContext | undefined)?.requestId ?? randomUUID();
        return { ...result, errors: reportErrors(result.errors, logger, requestId) } as FormattedExecutionResult;
      },
    },
    wsServer,
  );

  if (platform.store instanceof FsObjectStore && platform.filesSecret) {
    const store = platform.store;
    const secret = platform.filesSecret;
    http.app.all(`${FILES_PATH}/*key`, (req, res) => {
      void handlePresignedRequest(store, secret, req, res, { maxPutBytes: config.uploadMaxBytes, basePath: FILES_PATH });
    });
  }

  http.addReadinessCheck('database', () => platform.dataSource.query('SELECT 1'));
  http.addReadinessCheck('bus', () => platform.bus.ping());
  http.addReadinessCheck('storage', () => platform.store.ping());

  let closing: Promise<void> | undefined;
  return {
    schema,
    services,
    activeSubscriptions,
    close(opts = {}) {
      closing ??= (async () => {
        const timeoutMs = opts.timeoutMs ?? 10_000;
        // Sockets close with 1001 (Going Away) before any subscription completes, so clients
        // reconnect instead of taking the end of the stream for the end of the job.
        await disposeWs.dispose();
        feeds.training.close();
        feeds.jobs.close();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            idle.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        await apollo.stop();
        await bridge.stop();
      })();
      return closing;
    },
  };
}
