import type { EntityManager } from 'typeorm';
import { InferenceResult, Render } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { JobRepository } from './job-repository';
import { defined, insertOne, isUuid } from './util';

export interface InferenceResultInput {
  /** A caller-chosen id (e.g. the command's), so a re-sent request cannot create a second result. */
  id?: string;
  speakerId: string;
  runId?: string | null;
  checkpointId?: string | null;
  input: Record<string, unknown>;
  audioKey?: string | null;
}

export class InferenceResultRepository extends JobRepository<InferenceResult> {
  constructor(manager: EntityManager) {
    super(manager, InferenceResult, 'inference result');
  }

  /** Throws NOT_FOUND when the speaker, run or checkpoint does not exist. */
  async create(input: InferenceResultInput): Promise<InferenceResult> {
    return mapErrors('inference result', () =>
      insertOne(this.repo, this.repo.create({
          ...(input.id ? { id: input.id } : {}),
          speakerId: input.speakerId,
          runId: input.runId ?? null,
          checkpointId: input.checkpointId ?? null,
          input: input.input,
          audioKey: input.audioKey ?? null,
        }),
      ),
    );
  }

  /** Newest first, optionally of one speaker. */
  async listBySpeaker(speakerId: string | undefined, args: PageArgs = {}): Promise<Connection<InferenceResult>> {
    const qb = this.repo.createQueryBuilder('result');
    if (speakerId !== undefined) qb.where('result.speakerId = :speakerId', { speakerId: isUuid(speakerId) ? speakerId : null });
    return paginate(qb, args, { totalCount: true });
  }
}

export interface RenderInput {
  /** A caller-chosen id (e.g. the command's), so a re-sent request cannot create a second render. */
  id?: string;
  resultId: string;
  width: number;
  height: number;
  fps: number;
  options?: Record<string, unknown>;
}

export class RenderRepository extends JobRepository<Render> {
  constructor(manager: EntityManager) {
    super(manager, Render, 'render');
  }

  /** Throws NOT_FOUND when the result does not exist, BAD_USER_INPUT for a non-positive size. */
  async create(input: RenderInput): Promise<Render> {
    return mapErrors('render', () => insertOne(this.repo, this.repo.create({ ...defined(input), options: input.options ?? {} })));
  }

  async markProgress(id: string, progress: Record<string, unknown>): Promise<boolean> {
    return this.transition(id, ['running'], { progress });
  }

  async listByResult(resultId: string): Promise<Render[]> {
    if (!isUuid(resultId)) return [];
    return this.repo.find({ where: { resultId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }
}
