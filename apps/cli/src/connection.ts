/**
 * Where the command line finds the API and its token: `--url` / `--token`, else `S2G_URL` /
 * `S2G_TOKEN`, else the embedded stack on this machine (`http://localhost:$HTTP_PORT/graphql` and the
 * admin token file it keeps in `DATA_DIR`).
 */
import { LOCAL_ADMIN_TOKEN_FILE } from '@s2g/api';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface ConnectionFlags {
  url?: string;
  token?: string;
}

export interface Connection {
  url: string;
  token: string | null;
  /** Where the token came from, for messages: `--token`, `S2G_TOKEN`, a file path, or null. */
  tokenSource: string | null;
}

/** DATA_DIR as the services resolve it: against the working directory, default `./data`. */
export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return resolve(env.DATA_DIR || './data');
}

/** A base URL (`http://host:8080`) or the endpoint itself; the endpoint is `/graphql`. */
export function graphqlEndpoint(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/graphql';
  return u.toString();
}

export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Connection> {
  const url = graphqlEndpoint(flags.url || env.S2G_URL || `http://localhost:${env.HTTP_PORT || '8080'}/graphql`);
  if (flags.token) return { url, token: flags.token, tokenSource: '--token' };
  if (env.S2G_TOKEN) return { url, token: env.S2G_TOKEN, tokenSource: 'S2G_TOKEN' };
  const file = join(dataDirOf(env), LOCAL_ADMIN_TOKEN_FILE);
  const token = (await readFile(file, 'utf8').catch(() => '')).trim();
  return token ? { url, token, tokenSource: file } : { url, token: null, tokenSource: null };
}
