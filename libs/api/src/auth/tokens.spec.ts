import { describe, expect, it } from 'vitest';
import { bearerToken, generateToken, hashToken, hasScope, parseScopes, requireScope } from './tokens';

describe('API tokens', () => {
  it('are s2g_ + 32 random bytes, hashed with SHA-256', () => {
    const a = generateToken();
    expect(a).toMatch(/^s2g_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(4), 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(a);
    // sha256("s2g_abc"), from `printf s2g_abc | sha256sum`.
    expect(hashToken('s2g_abc')).toBe('d98f1efd68ec3f8a63e958212147bbf1fa480de5b998a3628e28526a38e3a039');
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).not.toBe(hashToken(generateToken()));
  });

  it('rank scopes: admin includes write, write includes read', () => {
    expect(hasScope(['admin'], 'read')).toBe(true);
    expect(hasScope(['admin'], 'write')).toBe(true);
    expect(hasScope(['write'], 'read')).toBe(true);
    expect(hasScope(['write'], 'admin')).toBe(false);
    expect(hasScope(['read'], 'write')).toBe(false);
    expect(hasScope([], 'read')).toBe(false);
  });

  it('read the Bearer scheme only', () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('')).toBeNull();
    expect(bearerToken('Bearer s2g_x')).toBe('s2g_x');
    expect(bearerToken('bearer   s2g_x ')).toBe('s2g_x');
    expect(() => bearerToken('Basic abc')).toThrow(/Bearer/);
    expect(() => bearerToken('Bearer a b')).toThrow(/Bearer/);
  });

  it('refuse unknown scopes and empty lists', () => {
    expect(parseScopes(['read', 'read', 'write'])).toEqual(['read', 'write']);
    expect(() => parseScopes([])).toThrow(/one or more/);
    expect(() => parseScopes(['root'])).toThrow(/unknown: root/);
  });

  it('tell a missing token (UNAUTHENTICATED) from too few scopes (FORBIDDEN)', () => {
    expect(() => requireScope(null, 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => requireScope({ tokenId: 't', tokenName: 'n', scopes: ['read'] }, 'write')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(requireScope({ tokenId: 't', tokenName: 'n', scopes: ['write'] }, 'read').tokenId).toBe('t');
  });
});
