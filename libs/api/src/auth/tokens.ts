/**
 * API tokens: `s2g_` + 32 random bytes (base64url). Only the SHA-256 of the whole token is stored,
 * so a database leak reveals no usable token; the secret is shown once, when it is created.
 * Scopes are ordered: admin includes write, write includes read.
 */
import { ErrorCode, TOKEN_SCOPES, type TokenScope } from '@s2g/contracts';
import type { ApiToken, Database } from '@s2g/db';
import { createHash, randomBytes } from 'node:crypto';
import { apiError, badInput } from '../errors';

export const TOKEN_PREFIX = 's2g_';
const TOKEN_PATTERN = /^s2g_[A-Za-z0-9_-]{43}$/;
const RANK: Record<TokenScope, number> = { read: 1, write: 2, admin: 3 };

export interface AuthInfo {
  tokenId: string;
  tokenName: string;
  scopes: TokenScope[];
}

export interface CreatedToken {
  /** The secret, shown only now. */
  token: string;
  record: ApiToken;
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether scopes grant `required` (admin > write > read). */
export function hasScope(scopes: readonly TokenScope[], required: TokenScope): boolean {
  return scopes.some((s) => RANK[s] >= RANK[required]);
}

export function parseScopes(values: readonly string[]): TokenScope[] {
  const unknown = values.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
  if (values.length === 0 || unknown.length > 0) {
    throw badInput(`scopes must be one or more of ${TOKEN_SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return [...new Set(values as TokenScope[])];
}

export interface NewTokenInput {
  name: string;
  scopes: readonly string[];
  expiresAt?: Date | null;
}

/** Creates a token and returns its secret (once). */
export async function createApiToken(db: Database, input: NewTokenInput): Promise<CreatedToken> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw badInput('token name must be 1 to 100 characters');
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badInput('expiresAt must be in the future');
  const scopes = parseScopes(input.scopes);
  const token = generateToken();
  const record = await db.apiTokens.create({ name, hash: hashToken(token), scopes, expiresAt: input.expiresAt ?? null });
  return { token, record };
}

/** `Bearer <token>` -> the token; null when the header is absent. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null || header === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw apiError(ErrorCode.UNAUTHENTICATED, 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

/** How often a token's last use is written: one UPDATE per token per interval at most. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Resolves tokens to their scopes. A token given but unknown, revoked or expired is refused with
 * UNAUTHENTICATED; no token at all gives null (the operation then decides).
 */
export class TokenAuthenticator {
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Database) {}

  async authenticate(authorization: string | undefined | null): Promise<AuthInfo | null> {
    const token = bearerToken(authorization);
    if (token === null) return null;
    // The shape check spares a database round trip for garbage; the answer is the same either way.
    const record = TOKEN_PATTERN.test(token) ? await this.db.apiTokens.findActiveByHash(hashToken(token)) : null;
    if (!record) throw apiError(ErrorCode.UNAUTHENTICATED, 'invalid, revoked or expired token');
    const now = Date.now();
    if (now - (this.touched.get(record.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touched.set(record.id, now);
      // Best effort: a failed bookkeeping write must not fail the request.
      void this.db.apiTokens.touch(record.id).catch(() => undefined);
    }
    return { tokenId: record.id, tokenName: record.name, scopes: record.scopes };
  }
}

/** Throws UNAUTHENTICATED without a token, FORBIDDEN when its scopes do not reach `required`. */
export function requireScope(auth: AuthInfo | null, required: TokenScope): AuthInfo {
  if (!auth) throw apiError(ErrorCode.UNAUTHENTICATED, 'an API token is required: send "Authorization: Bearer <token>"');
  if (!hasScope(auth.scopes, required)) {
    throw apiError(ErrorCode.FORBIDDEN, `this operation needs the ${required} scope; the token has ${auth.scopes.join(', ')}`);
  }
  return auth;
}
