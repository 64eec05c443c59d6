/**
 * What callers see of an error: a stable `extensions.code` from ErrorCode and a message meant for
 * them. Anything unexpected becomes INTERNAL with the message "Internal error" (and the request id,
 * to find the details in the server log); stack traces never leave the server.
 */
import { ErrorCode, isS2gError, S2gError } from '@s2g/contracts';
import { GraphQLError, type GraphQLFormattedError } from './graphql';

/** The codes the API answers with. */
export const API_ERROR_CODES = [
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.RATE_LIMITED,
  ErrorCode.QUERY_TOO_COMPLEX,
  ErrorCode.UNAVAILABLE,
  ErrorCode.INTERNAL,
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export const INTERNAL_MESSAGE = 'Internal error';

/** Lower-level codes that reach the API from the libraries, as the caller should read them. */
const DOMAIN_TO_API: Partial<Record<ErrorCode, ApiErrorCode>> = {
  [ErrorCode.SPEAKER_UNKNOWN]: ErrorCode.NOT_FOUND,
  [ErrorCode.STORAGE_NOT_FOUND]: ErrorCode.NOT_FOUND,
  [ErrorCode.STORAGE_KEY_INVALID]: ErrorCode.BAD_USER_INPUT,
  [ErrorCode.STORAGE_TOO_LARGE]: ErrorCode.BAD_USER_INPUT,
  [ErrorCode.TRAINING_CONFIG_INVALID]: ErrorCode.BAD_USER_INPUT,
};

/** Errors graphql-js and Apollo raise about the request itself (before anything ran): the caller's to fix. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

function isApiCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && (API_ERROR_CODES as readonly string[]).includes(code);
}

/** An error raised by the API for its caller; `publicDetails` is shown to them as `extensions.details`. */
export class ApiError extends S2gError {
  constructor(
    code: ApiErrorCode,
    message: string,
    readonly publicDetails?: Record<string, unknown>,
  ) {
    super(code, message, publicDetails);
    this.name = 'ApiError';
  }
}

export function apiError(code: ApiErrorCode, message: string, details?: Record<string, unknown>): ApiError {
  return new ApiError(code, message, details);
}

export function notFound(what: string, id: string): ApiError {
  return apiError(ErrorCode.NOT_FOUND, `${what} not found: ${id}`, { id });
}

export function badInput(message: string, details?: Record<string, unknown>): ApiError {
  return apiError(ErrorCode.BAD_USER_INPUT, message, details);
}

/** The original thrown value behind a GraphQL error (resolver errors are wrapped once). */
export function originalError(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5 && current instanceof GraphQLError && current.originalError; i++) current = current.originalError;
  return current;
}

/** The API code of a thrown value, or null when it is unexpected (a bug, or a failure to mask). */
export function apiCodeOf(error: unknown): ApiErrorCode | null {
  const original = originalError(error);
  if (isS2gError(original)) return isApiCode(original.code) ? original.code : (DOMAIN_TO_API[original.code] ?? null);
  if (original instanceof GraphQLError && isApiCode(original.extensions?.['code'])) return original.extensions['code'];
  return null;
}

/**
 * The error as the caller sees it (Apollo's `formatError`, and the WebSocket server's). Errors about
 * the request (parse, validation, variables, CSRF) keep their message under BAD_USER_INPUT, with
 * graphql-js's or Apollo's own code in `extensions.reason`.
 */
export function formatApiError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = originalError(error);
  const code = apiCodeOf(error);
  const base = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (code && code !== ErrorCode.INTERNAL) {
    const publicDetails = original instanceof ApiError ? original.publicDetails : undefined;
    const message = isS2gError(original) || original instanceof GraphQLError ? original.message : formatted.message;
    return { message, ...base, extensions: { code, ...(publicDetails ? { details: publicDetails } : {}) } };
  }
  const given = formatted.extensions?.['code'];
  if (!formatted.path && typeof given === 'string' && REQUEST_ERROR_CODES.has(given)) {
    return { message: formatted.message, ...base, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: given } };
  }
  // graphql-js's own request errors (variables that do not fit, say) carry neither a path nor a cause.
  if (!formatted.path && given === undefined && original instanceof GraphQLError) {
    return { message: formatted.message, ...base, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: 'BAD_REQUEST' } };
  }
  return { message: INTERNAL_MESSAGE, ...base, extensions: { code: ErrorCode.INTERNAL } };
}

/** True for what formatApiError turned into INTERNAL: worth a log line with the stack. */
export function isInternal(formatted: GraphQLFormattedError): boolean {
  return formatted.extensions?.['code'] === ErrorCode.INTERNAL;
}
