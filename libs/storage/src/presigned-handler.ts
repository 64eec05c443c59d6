import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, S2gError, describeError, type ErrorCode as ErrorCodeType } from '@s2g/contracts';
import type { FsObjectStore } from './fs-object-store';
import { validateKey } from './keys';
import { verifyPresigned, type PresignOp } from './presign';

export interface PresignedRequestOptions {
  /** Largest accepted PUT body. Default 2 GiB. */
  maxPutBytes?: number;
  /**
   * Path the handler is mounted at, stripped before reading the key. Default: the path of the
   * store's publicBaseUrl. Express mounts are handled either way (it strips `req.url`, and the
   * handler reads `originalUrl` when present).
   */
  basePath?: string;
}

export const DEFAULT_MAX_PUT_BYTES = 2 * 1024 ** 3;

type Request = IncomingMessage & { originalUrl?: string };

const STATUS: Partial<Record<ErrorCodeType, number>> = {
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.STORAGE_KEY_INVALID]: 400,
  [ErrorCode.STORAGE_SIZE_MISMATCH]: 400,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.STORAGE_NOT_FOUND]: 404,
  [ErrorCode.STORAGE_TOO_LARGE]: 413,
};

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function fail(res: ServerResponse, e: unknown, extraHeaders: Record<string, string> = {}): void {
  const { code, message } = describeError(e);
  send(res, STATUS[code] ?? 500, { code, message: STATUS[code] ? message : 'internal error' }, extraHeaders);
}

function basePathOf(store: FsObjectStore, options: PresignedRequestOptions): string {
  const raw = options.basePath ?? (store.publicBaseUrl ? new URL(store.publicBaseUrl).pathname : '');
  return raw.endsWith('/') ? raw.slice(0, -1) : raw;
}

/** The key and signature fields of a request URL. */
function parse(req: Request, basePath: string): { key: string; op: string; exp: number; sig: string } {
  const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost');
  let path = url.pathname;
  if (basePath && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length);
  let key: string;
  try {
    key = path.replace(/^\//, '').split('/').map(decodeURIComponent).join('/');
  } catch {
    throw new S2gError(ErrorCode.STORAGE_KEY_INVALID, 'malformed key in URL');
  }
  validateKey(key);
  const exp = Number(url.searchParams.get('exp'));
  return { key, op: url.searchParams.get('op') ?? '', exp, sig: url.searchParams.get('sig') ?? '' };
}

function authorise(secret: string, want: PresignOp, fields: { key: string; op: string; exp: number; sig: string }): void {
  if (fields.op !== want) throw new S2gError(ErrorCode.FORBIDDEN, `this URL does not allow ${want}`);
  if (!Number.isSafeInteger(fields.exp) || !verifyPresigned(secret, want, fields.key, fields.exp, fields.sig)) {
    throw new S2gError(ErrorCode.FORBIDDEN, 'invalid signature');
  }
  if (Math.floor(Date.now() / 1000) > fields.exp) throw new S2gError(ErrorCode.FORBIDDEN, 'URL expired');
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against `size`; null for a form not served (whole object). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, PUT, OPTIONS',
  'access-control-allow-headers': 'content-type, content-length, range',
  'access-control-expose-headers': 'content-length, content-range, etag, accept-ranges',
};

/**
 * Serves the filesystem store's presigned URLs: GET/HEAD stream an object (with single byte
 * ranges, so browsers can seek in videos), PUT stores the body (Content-Length required, at most
 * `maxPutBytes`). The signature is the only credential, as with S3 presigned URLs, so CORS is open.
 * Mount it on a node:http server or as express middleware at the path of the store's publicBaseUrl.
 */
export async function handlePresignedRequest(
  store: FsObjectStore,
  secret: string,
  req: Request,
  res: ServerResponse,
  options: PresignedRequestOptions = {},
): Promise<void> {
  const maxPutBytes = options.maxPutBytes ?? DEFAULT_MAX_PUT_BYTES;
  const method = (req.method ?? 'GET').toUpperCase();
  try {
    if (method === 'OPTIONS') {
      send(res, 204, undefined, { ...CORS, 'access-control-max-age': '600' });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') {
      send(res, 405, { code: ErrorCode.BAD_USER_INPUT, message: `method ${method} not allowed` }, { ...CORS, allow: CORS['access-control-allow-methods'] });
      return;
    }
    const fields = parse(req, basePathOf(store, options));

    if (method === 'PUT') {
      authorise(secret, 'put', fields);
      const header = req.headers['content-length'];
      if (header === undefined) {
        send(res, 411, { code: ErrorCode.BAD_USER_INPUT, message: 'Content-Length required' }, CORS);
        return;
      }
      const length = Number(header);
      if (!Number.isSafeInteger(length) || length < 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'invalid Content-Length');
      if (length > maxPutBytes) {
        // Closing the connection spares reading a body that will be refused anyway.
        send(res, 413, { code: ErrorCode.STORAGE_TOO_LARGE, message: `upload larger than ${maxPutBytes} bytes` }, { ...CORS, connection: 'close' });
        return;
      }
      await store.put(fields.key, req, length);
      send(res, 200, undefined, CORS);
      return;
    }

    authorise(secret, 'get', fields);
    const object = await store.open(fields.key);
    const { info } = object;
    const headers: Record<string, string> = {
      ...CORS,
      'content-type': info.contentType ?? 'application/octet-stream',
      'last-modified': info.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': 'private, max-age=0',
    };
    const range = parseRange(req.headers.range, info.size);
    if (range === 'unsatisfiable' || method === 'HEAD' || info.size === 0) {
      await object.close();
      if (range === 'unsatisfiable') {
        send(res, 416, undefined, { ...CORS, 'content-range': `bytes */${info.size}` });
      } else {
        res.writeHead(200, { ...headers, 'content-length': String(info.size) });
        res.end();
      }
      return;
    }
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    headers['content-length'] = String(range ? range.end - range.start + 1 : info.size);
    const body = range ? object.read(range.start, range.end) : object.read();
    res.writeHead(range ? 206 : 200, headers);
    await new Promise<void>((resolve) => {
      body.once('error', () => {
        res.destroy();
        resolve();
      });
      res.once('close', () => {
        body.destroy();
        resolve();
      });
      body.pipe(res);
    });
  } catch (e) {
    // A refused upload's body is not worth reading: end the connection instead of draining it.
    fail(res, e, method === 'PUT' ? { ...CORS, connection: 'close' } : CORS);
  }
}
