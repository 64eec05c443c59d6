import { ErrorCode, S2gError } from '@s2g/contracts';
import { describe, expect, it } from 'vitest';
import { apiError, formatApiError, INTERNAL_MESSAGE } from './errors';
import { GraphQLError } from './graphql';

/** What Apollo and graphql-js hand to formatError for an error thrown in a resolver. */
function fromResolver(e: unknown) {
  const wrapped = new GraphQLError(e instanceof Error ? e.message : String(e), { path: ['speaker'], originalError: e as Error });
  return formatApiError({ ...wrapped.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } }, wrapped);
}

describe('formatApiError', () => {
  it('keeps API codes, messages and public details', () => {
    expect(fromResolver(apiError(ErrorCode.NOT_FOUND, 'speaker not found: x', { id: 'x' }))).toEqual({
      message: 'speaker not found: x',
      path: ['speaker'],
      extensions: { code: 'NOT_FOUND', details: { id: 'x' } },
    });
  });

  it('maps library codes to API codes and hides their internal details', () => {
    const e = new S2gError(ErrorCode.SPEAKER_UNKNOWN, 'speaker not found: y', { table: 'speakers' });
    expect(fromResolver(e)).toEqual({ message: 'speaker not found: y', path: ['speaker'], extensions: { code: 'NOT_FOUND' } });
  });

  it('masks anything unexpected: no message, no stack', () => {
    for (const e of [new Error('connect ECONNREFUSED 10.0.0.5:5432'), new S2gError(ErrorCode.SHARD_CORRUPT, 'bad magic in /data/x'), 'a string']) {
      const out = fromResolver(e);
      expect(out).toEqual({ message: INTERNAL_MESSAGE, path: ['speaker'], extensions: { code: 'INTERNAL' } });
    }
  });

  it('turns request errors into BAD_USER_INPUT with the original code as reason', () => {
    const parseError = new GraphQLError('Syntax Error: Expected Name, found <EOF>.', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(formatApiError(parseError.toJSON(), parseError).extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    const coercion = new GraphQLError('Variable "$id" of required type "ID!" was not provided.');
    expect(formatApiError(coercion.toJSON(), coercion).extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'BAD_REQUEST' });
  });
});
