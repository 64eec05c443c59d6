/**
 * The command line's GraphQL client: queries and mutations over fetch, subscriptions over graphql-ws
 * (the same path and token), and presigned uploads. Every failure becomes a CliError carrying the
 * API's stable code, so the command line prints it as one line.
 */
import { ErrorCode } from '@s2g/contracts';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequestRaw } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** An error to show the user: `error CODE: message`. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string; details?: Record<string, unknown>; requestId?: string };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

function errorOf(errors: readonly GraphQLError[]): CliError {
  const first = errors[0];
  const code = first.extensions?.code ?? ErrorCode.INTERNAL;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  const request = first.extensions?.requestId ? ` [request ${first.extensions.requestId}]` : '';
  return new CliError(code, `${first.message}${more}${request}`, first.extensions?.details);
}

interface HttpResponse {
  status: number;
  body: Buffer;
}

/**
 * One HTTP exchange on a connection of its own. Reusing idle keep-alive connections races with the
 * server closing them (Node closes them after 5 s, later when a training step blocks its event loop),
 * and a request sent into a closing socket fails with ECONNRESET; the command line's few requests do
 * not need the saving.
 */
function httpRequest(url: string, options: { method: string; headers: Record<string, string>; body?: Buffer | Readable; timeoutMs: number }): Promise<HttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequestRaw;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: options.method, headers: options.headers, agent: false, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(options.timeoutMs / 1000)} s`)));
    req.on('error', reject);
    if (options.body instanceof Readable) {
      options.body.on('error', (e) => req.destroy(e));
      options.body.pipe(req);
    } else req.end(options.body);
  });
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. `http://localhost:8080/graphql`. */
  url: string;
  token: string | null;
  /** Per-request time limit; default 60 s. */
  timeoutMs?: number;
}

export interface SubscriptionHandle {
  /** Resolves when the server completes the subscription or `stop` is called; rejects on an error. */
  readonly done: Promise<void>;
  stop(): void;
}

export class S2gClient {
  private ws: Client | null = null;

  constructor(private readonly options: ClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) };
  }

  /** Runs a query or mutation; resolves its data or throws a CliError with the API's code. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let response: HttpResponse;
    try {
      response = await httpRequest(this.options.url, { method: 'POST', headers: this.headers(), body: Buffer.from(JSON.stringify({ query, variables })), timeoutMs: this.options.timeoutMs ?? 60_000 });
    } catch (e) {
      throw new CliError(ErrorCode.UNAVAILABLE, `cannot reach the s2g API at ${this.options.url} (${e instanceof Error ? e.message : String(e)}); start it with \`s2g up\` or pass --url`);
    }
    let body: GraphQLBody<T>;
    try {
      body = JSON.parse(response.body.toString('utf8')) as GraphQLBody<T>;
    } catch {
      throw new CliError(ErrorCode.UNAVAILABLE, `${this.options.url} answered HTTP ${response.status} without a GraphQL response; is it the s2g API?`);
    }
    if (body.errors && body.errors.length > 0) throw errorOf(body.errors);
    if (response.status >= 400 || body.data === undefined || body.data === null) {
      throw new CliError(ErrorCode.UNAVAILABLE, `${this.options.url} answered HTTP ${response.status} without data`);
    }
    return body.data;
  }

  private wsClient(): Client {
    if (this.ws) return this.ws;
    const wsUrl = this.options.url.replace(/^http/, 'ws');
    this.ws = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      // A gateway restart closes sockets with 1001: reconnect a few times, then give up.
      retryAttempts: 5,
      ...(this.options.token ? { connectionParams: { authorization: `Bearer ${this.options.token}` } } : {}),
    });
    return this.ws;
  }

  /** Starts a subscription; `onData` gets each message's data, in order. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): SubscriptionHandle {
    let stop: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      const unsubscribe = this.wsClient().subscribe<T>(
        { query, variables },
        {
          next: (message) => {
            if (message.errors && message.errors.length > 0) {
              unsubscribe();
              reject(errorOf(message.errors as GraphQLError[]));
            } else if (message.data) onData(message.data);
          },
          error: (e: unknown) => {
            if (e instanceof Error) reject(new CliError(ErrorCode.UNAVAILABLE, `subscription failed: ${e.message}`));
            else if (Array.isArray(e)) reject(errorOf(e as GraphQLError[]));
            else {
              const close = e as { code?: number; reason?: string };
              const reason = close.code === 4403 ? 'the token was refused' : `socket closed (${close.code ?? '?'} ${close.reason ?? ''})`;
              reject(new CliError(close.code === 4403 ? ErrorCode.UNAUTHENTICATED : ErrorCode.UNAVAILABLE, `subscription failed: ${reason.trim()}`));
            }
          },
          complete: () => resolve(),
        },
      );
      stop = () => {
        unsubscribe();
        resolve();
      };
    });
    return { done, stop: () => stop() };
  }

  /** PUTs a file to a presigned URL from createUpload. */
  async upload(url: string, file: string | Uint8Array, contentType: string, onProgress?: (sent: number, total: number) => void): Promise<void> {
    const size = typeof file === 'string' ? (await stat(file)).size : file.byteLength;
    let sent = 0;
    const source = typeof file === 'string' ? createReadStream(file) : Readable.from([Buffer.from(file)]);
    source.on('data', (chunk: Buffer | string) => {
      sent += chunk.length;
      onProgress?.(sent, size);
    });
    let response: HttpResponse;
    try {
      response = await httpRequest(url, { method: 'PUT', headers: { 'content-type': contentType, 'content-length': String(size) }, body: source, timeoutMs: 3_600_000 });
    } catch (e) {
      throw new CliError(ErrorCode.UNAVAILABLE, `upload failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (response.status >= 300) {
      const text = response.body.toString('utf8').slice(0, 300).trim();
      const code = response.status === 413 ? ErrorCode.STORAGE_TOO_LARGE : response.status === 403 ? ErrorCode.FORBIDDEN : ErrorCode.UNAVAILABLE;
      throw new CliError(code, `upload refused: HTTP ${response.status}${text ? ` ${text}` : ''}`);
    }
  }

  /** Downloads a URL from a result (presigned) to memory. */
  async download(url: string): Promise<Uint8Array> {
    let response: HttpResponse;
    try {
      response = await httpRequest(url, { method: 'GET', headers: {}, timeoutMs: 600_000 });
    } catch (e) {
      throw new CliError(ErrorCode.UNAVAILABLE, `download failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (response.status >= 300) throw new CliError(response.status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.UNAVAILABLE, `download of ${new URL(url).pathname} failed: HTTP ${response.status}`);
    return new Uint8Array(response.body);
  }

  async close(): Promise<void> {
    await this.ws?.dispose();
    this.ws = null;
  }
}
