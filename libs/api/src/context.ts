/**
 * What every resolver receives: who is calling, a request id for logs and masked errors, and the
 * services (each resolver reads and writes through them, never through globals).
 */
import type { Logger } from '@s2g/service';
import type { AuthInfo } from './auth/tokens';
import type { ApiServices } from './services';

export interface ApiContext {
  requestId: string;
  auth: AuthInfo | null;
  services: ApiServices;
  logger: Logger;
  /** Per-request memo of lookups, so a list of 100 samples loads each video once. */
  memo: Memo;
}

/** Caches promises by key for the life of one request (one operation). */
export class Memo {
  private readonly values = new Map<string, Promise<unknown>>();

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.values.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.values.set(key, value);
      // A failed lookup is not cached: a later field may retry it.
      value.catch(() => this.values.delete(key));
    }
    return value;
  }
}

export function createContext(services: ApiServices, requestId: string, auth: AuthInfo | null): ApiContext {
  return { requestId, auth, services, logger: services.logger.child({ requestId }), memo: new Memo() };
}
