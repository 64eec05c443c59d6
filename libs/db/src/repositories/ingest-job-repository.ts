import type { EntityManager } from 'typeorm';
import type { IngestLayout } from '@s2g/contracts';
import { IngestJob } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { JobRepository } from './job-repository';
import { insertOne, isUuid } from './util';

export interface IngestJobInput {
  /** A caller-chosen id (e.g. the command's), so a re-sent request cannot create a second job. */
  id?: string;
  speakerName: string;
  speakerId?: string | null;
  layout: IngestLayout;
  source: string;
  options?: Record<string, unknown>;
}

export class IngestJobRepository extends JobRepository<IngestJob> {
  constructor(manager: EntityManager) {
    super(manager, IngestJob, 'ingest job');
  }

  async create(input: IngestJobInput): Promise<IngestJob> {
    return mapErrors('ingest job', () =>
      insertOne(this.repo, this.repo.create({
          ...(input.id ? { id: input.id } : {}),
          speakerName: input.speakerName,
          speakerId: input.speakerId ?? null,
          layout: input.layout,
          source: input.source,
          options: input.options ?? {},
        }),
      ),
    );
  }

  /** Links the job to its speaker once the speaker exists. */
  async setSpeaker(id: string, speakerId: string): Promise<void> {
    await mapErrors(`ingest job ${id}`, () => this.repo.update({ id }, { speakerId }));
  }

  async markProgress(id: string, progress: Record<string, unknown>): Promise<boolean> {
    return this.transition(id, ['running'], { progress });
  }

  async listBySpeaker(speakerId: string, args: PageArgs = {}): Promise<Connection<IngestJob>> {
    const qb = this.repo.createQueryBuilder('job').where('job.speakerId = :speakerId', { speakerId: isUuid(speakerId) ? speakerId : null });
    return paginate(qb, args, { totalCount: true });
  }
}
