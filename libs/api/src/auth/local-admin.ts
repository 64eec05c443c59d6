/**
 * The embedded mode's first credential: an admin token kept in a file under DATA_DIR (mode 0600),
 * so the person who started the process (and the `s2g` command line on the same machine) can use
 * the API without a separate setup step, while the API itself still requires a token.
 */
import type { Database } from '@s2g/db';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createApiToken, hashToken } from './tokens';

export const LOCAL_ADMIN_TOKEN_FILE = 'admin.token';
export const LOCAL_ADMIN_TOKEN_NAME = 'local-admin';

export function localAdminTokenPath(dataDir: string): string {
  return join(dataDir, LOCAL_ADMIN_TOKEN_FILE);
}

/**
 * Returns the path of a file holding a working admin token: the existing file when its token is
 * still active, otherwise a new token (the old one may have been revoked, or the database reset).
 */
export async function ensureLocalAdminToken(db: Database, dataDir: string): Promise<{ path: string; created: boolean }> {
  const path = localAdminTokenPath(dataDir);
  const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (existing && (await db.apiTokens.findActiveByHash(hashToken(existing)))) return { path, created: false };
  const { token } = await createApiToken(db, { name: LOCAL_ADMIN_TOKEN_NAME, scopes: ['admin'] });
  await mkdir(dataDir, { recursive: true });
  // Written aside and renamed, so a reader never sees half a token.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${token}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return { path, created: true };
}
