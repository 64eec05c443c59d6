/**
 * @s2g/api: the GraphQL API of s2g. `gatewayService` is the whole gateway as a service (what
 * apps/gateway runs); `createGateway` mounts the API on an existing service HTTP server;
 * `runAdminCommand` is the `migrate` and `tokens` command line.
 */
export { ApiError, API_ERROR_CODES, type ApiErrorCode, apiCodeOf, formatApiError, INTERNAL_MESSAGE } from './errors';
export { type ApiConfig, DEFAULT_API_CONFIG, GATEWAY_ENV, type GatewayConfig, gatewayConfig, publicUrlFor } from './config';
export {
  type AuthInfo,
  bearerToken,
  createApiToken,
  type CreatedToken,
  generateToken,
  hashToken,
  hasScope,
  type NewTokenInput,
  requireScope,
  TOKEN_PREFIX,
  TokenAuthenticator,
} from './auth/tokens';
export { ensureLocalAdminToken, LOCAL_ADMIN_TOKEN_FILE, localAdminTokenPath } from './auth/local-admin';
export { checkOperationLimits, LIST_ESTIMATE, measureOperation, type OperationLimits, type OperationMeasure } from './limits';
export { type EventFeeds, type JobUpdateView, jobViewOf, type TrainingEventView, trainingViewOf } from './events';
export { buildApiSchema, printApiSchema, SCHEMA_HEADER } from './schema/build';
export { type ApiContext } from './context';
export { type ApiServices, createApiServices } from './services';
export { createGateway, FILES_PATH, type Gateway, type GatewayOptions, GRAPHQL_PATH } from './gateway';
export { EMBEDDED_GROUP, GATEWAY_NAME, type GatewayService, type GatewayServiceOptions, gatewayService, type RunningGateway } from './run';
export { ADMIN_COMMANDS, type AdminCommandIo, isAdminCommand, runAdminCommand } from './cli';
