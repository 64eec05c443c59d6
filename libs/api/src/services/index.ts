import type { Database } from '@s2g/db';
import type { EventBus } from '@s2g/messaging';
import type { Logger } from '@s2g/service';
import type { ObjectStore } from '@s2g/storage';
import { TokenAuthenticator } from '../auth/tokens';
import type { ApiConfig } from '../config';
import { createEventFeeds, type EventFeeds } from '../events';
import { ApiReads } from './reads';
import { ApiRequests } from './requests';

export { ApiReads, type AnyJob, type BackendUse, type JobFilter } from './reads';
export { ApiRequests, type IngestRequest, type PredictRequest, type RenderSettings, type UploadGrant } from './requests';
export * from './uploads';

/** Everything the resolvers use, built once per gateway. */
export interface ApiServices {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  config: ApiConfig;
  logger: Logger;
  feeds: EventFeeds;
  authenticator: TokenAuthenticator;
  reads: ApiReads;
  requests: ApiRequests;
}

export interface ApiServicesInput {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  config: ApiConfig;
  logger: Logger;
  feeds?: EventFeeds;
}

export function createApiServices(input: ApiServicesInput): ApiServices {
  const { db, store, bus, config, logger } = input;
  return {
    db,
    store,
    bus,
    config,
    logger,
    feeds: input.feeds ?? createEventFeeds(),
    authenticator: new TokenAuthenticator(db),
    reads: new ApiReads(db),
    requests: new ApiRequests(db, store, bus, config, logger),
  };
}
