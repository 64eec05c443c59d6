import { describe, expect, it } from 'vitest';
import { sharedConfig } from '@s2g/config';
import type { Database } from '@s2g/db';
import { checkHandlers, createInProcessBus } from '@s2g/messaging';
import { createLogger } from '@s2g/service';
import type { ObjectStore } from '@s2g/storage';
import { commandHandlers } from '../src/handlers';

describe('ingest service handlers', () => {
  it('handle s2g.ingest.requested one job at a time, recording dead-lettered jobs as failed', async () => {
    const bus = createInProcessBus();
    try {
      const parsed = sharedConfig.parse({});
      if (!parsed.ok) throw new Error('the default configuration must be valid');
      const config = parsed.value;
      const handlers = commandHandlers({ config, logger: createLogger({ name: 'ingest', level: 'silent' }), bus, db: {} as Database, store: {} as ObjectStore });
      expect(() => checkHandlers(handlers, { required: ['s2g.ingest.requested'] })).not.toThrow();
      expect(handlers).toHaveLength(1);
      expect(handlers[0].options).toMatchObject({ concurrency: 1, onDeadLetter: expect.any(Function) });
    } finally {
      await bus.close();
    }
  });
});
