/**
 * The commands the ingest service handles: the one place to register a job handler.
 * Start-up fails if a command is listed twice.
 */
import type { SharedConfig } from '@s2g/config';
import { ingestCommandHandler } from '@s2g/dataset';
import type { Database } from '@s2g/db';
import type { AnyCommandHandler, EventBus } from '@s2g/messaging';
import type { Logger } from '@s2g/service';
import type { ObjectStore } from '@s2g/storage';

/** What the handlers of this service are built from. */
export interface IngestDeps {
  config: SharedConfig;
  logger: Logger;
  bus: EventBus;
  db: Database;
  store: ObjectStore;
}

export function commandHandlers(deps: IngestDeps): AnyCommandHandler[] {
  // One import at a time per replica: an import is CPU-bound (ffmpeg, window cutting) and holds
  // up to three partly filled 48 MiB shards; more throughput comes from more replicas.
  return [ingestCommandHandler({ db: deps.db, store: deps.store, bus: deps.bus, logger: deps.logger }, { concurrency: 1 })];
}
