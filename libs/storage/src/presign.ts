import { createHmac, timingSafeEqual } from 'node:crypto';

export type PresignOp = 'get' | 'put';

/** Versioned so that a change of the signed fields invalidates old URLs instead of misreading them. */
function payload(op: PresignOp, key: string, expiresAt: number): string {
  return `s2g-presign-v1\n${op}\n${key}\n${expiresAt}`;
}

export function signPresigned(secret: string, op: PresignOp, key: string, expiresAt: number): string {
  return createHmac('sha256', secret).update(payload(op, key, expiresAt)).digest('base64url');
}

export function verifyPresigned(secret: string, op: PresignOp, key: string, expiresAt: number, signature: string): boolean {
  const expected = Buffer.from(signPresigned(secret, op, key, expiresAt));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `a b/c` -> `a%20b/c`: each segment encoded, slashes kept so the URL reads like the key. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * `<base>/<key>?op=<op>&exp=<unix seconds>&sig=<HMAC-SHA256, base64url>`; served by
 * handlePresignedRequest.
 */
export function buildPresignedUrl(baseUrl: string, secret: string, op: PresignOp, key: string, expiresAt: number): string {
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  const query = new URLSearchParams({ op, exp: String(expiresAt), sig: signPresigned(secret, op, key, expiresAt) });
  return `${base}/${encodeKeyPath(key)}?${query.toString()}`;
}
