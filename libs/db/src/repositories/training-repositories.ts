import type { EntityManager, Repository } from 'typeorm';
import type { CheckpointKind, ModelPreset, Split } from '@s2g/contracts';
import { Checkpoint, Evaluation, RunMetric, TrainingRun, type EvaluationMethod, type MetricPhase } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { JobRepository } from './job-repository';
import { defined, insertOne, isUuid } from './util';

export interface TrainingRunInput {
  /** A caller-chosen id (e.g. the command's), so a re-sent request cannot create a second run. */
  id?: string;
  speakerId: string;
  preset: ModelPreset;
  config: Record<string, unknown>;
}

export interface MetricPoint {
  step: number;
  epoch: number;
  phase: MetricPhase;
  values: Record<string, number>;
  elapsedMs?: number | null;
}

export class TrainingRunRepository extends JobRepository<TrainingRun> {
  private readonly metrics: Repository<RunMetric>;

  constructor(manager: EntityManager) {
    super(manager, TrainingRun, 'training run');
    this.metrics = manager.getRepository(RunMetric);
  }

  /** Throws NOT_FOUND when the speaker does not exist. */
  async create(input: TrainingRunInput): Promise<TrainingRun> {
    return mapErrors('training run', () => insertOne(this.repo, this.repo.create({ ...defined(input) })));
  }

  /** Step, epoch and the progress document of a running run (ignored once it finished). */
  async markProgress(id: string, update: { step: number; epoch: number; progress: Record<string, unknown> }): Promise<boolean> {
    return this.transition(id, ['running'], { step: update.step, epoch: update.epoch, progress: update.progress });
  }

  /** The tensor backend and device the run uses, reported once it starts. */
  async setBackend(id: string, backend: string, device: string | null): Promise<void> {
    await mapErrors(`training run ${id}`, () => this.repo.update({ id }, { backend, device }));
  }

  async listBySpeaker(speakerId: string, args: PageArgs = {}): Promise<Connection<TrainingRun>> {
    const qb = this.repo.createQueryBuilder('run').where('run.speakerId = :speakerId', { speakerId: isUuid(speakerId) ? speakerId : null });
    return paginate(qb, args, { totalCount: true });
  }

  /** The speaker's most recently finished successful run: the default model for inference. */
  async latestCompleted(speakerId: string): Promise<TrainingRun | null> {
    if (!isUuid(speakerId)) return null;
    return this.repo.findOne({ where: { speakerId, status: 'completed' }, order: { finishedAt: 'DESC', id: 'DESC' } });
  }

  /**
   * Appends one point of the metric history. A point already recorded for (run, step, phase) is
   * left as it was, so a redelivered report is harmless. Returns whether a row was added.
   */
  async appendMetric(runId: string, point: MetricPoint): Promise<boolean> {
    const result = await mapErrors(`metrics of run ${runId}`, () =>
      this.metrics
        .createQueryBuilder()
        .insert()
        .values({ runId, step: point.step, epoch: point.epoch, phase: point.phase, values: point.values, elapsedMs: point.elapsedMs ?? null })
        .orIgnore()
        .returning('id')
        .execute(),
    );
    return (result.raw as unknown[]).length > 0;
  }

  /** The metric history in step order; page with `afterStep` for long runs. */
  async metricHistory(runId: string, filter: { phase?: MetricPhase; afterStep?: number; limit?: number } = {}): Promise<RunMetric[]> {
    if (!isUuid(runId)) return [];
    const qb = this.metrics.createQueryBuilder('metric').where('metric.runId = :runId', { runId });
    if (filter.phase) qb.andWhere('metric.phase = :phase', { phase: filter.phase });
    if (filter.afterStep !== undefined) qb.andWhere('metric.step > :afterStep', { afterStep: filter.afterStep });
    qb.orderBy('metric.step', 'ASC').addOrderBy('metric.phase', 'ASC').limit(Math.min(filter.limit ?? 10_000, 10_000));
    return qb.getMany();
  }
}

export interface CheckpointInput {
  /** A caller-chosen id (the trainer announces it in its checkpoint event). */
  id?: string;
  runId: string;
  step: number;
  epoch?: number | null;
  kind: CheckpointKind;
  storagePrefix: string;
  validationLoss?: number | null;
  byteSize?: number | null;
}

export class CheckpointRepository {
  private readonly repo: Repository<Checkpoint>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(Checkpoint);
  }

  /** Throws CONFLICT when (run, step, kind) is already recorded, NOT_FOUND when the run is missing. */
  async create(input: CheckpointInput): Promise<Checkpoint> {
    return mapErrors(`checkpoint ${input.kind}@${input.step}`, () => insertOne(this.repo, this.repo.create({ epoch: null, validationLoss: null, byteSize: null, ...defined(input) })));
  }

  /** Records the checkpoint, or updates the one of that (run, step, kind): for redelivered saves. */
  async upsert(input: CheckpointInput): Promise<Checkpoint> {
    await mapErrors(`checkpoint ${input.kind}@${input.step}`, () =>
      this.repo
        .createQueryBuilder()
        .insert()
        .values({ epoch: null, validationLoss: null, byteSize: null, ...defined(input) })
        .orUpdate(['epoch', 'storage_prefix', 'validation_loss', 'byte_size'], ['run_id', 'step', 'kind'])
        .execute(),
    );
    return this.repo.findOneByOrFail({ runId: input.runId, step: input.step, kind: input.kind });
  }

  async findById(id: string): Promise<Checkpoint | null> {
    return isUuid(id) ? this.repo.findOneBy({ id }) : null;
  }

  /** Highest step, optionally of one kind. */
  async latest(runId: string, kind?: CheckpointKind): Promise<Checkpoint | null> {
    if (!isUuid(runId)) return null;
    return this.repo.findOne({ where: kind ? { runId, kind } : { runId }, order: { step: 'DESC', createdAt: 'DESC' } });
  }

  /** The `best` checkpoint with the lowest validation loss (the newest `best` on ties or missing losses). */
  async best(runId: string): Promise<Checkpoint | null> {
    if (!isUuid(runId)) return null;
    return this.repo
      .createQueryBuilder('checkpoint')
      .where('checkpoint.runId = :runId', { runId })
      .andWhere(`checkpoint.kind = 'best'`)
      .orderBy('checkpoint.validationLoss', 'ASC', 'NULLS LAST')
      .addOrderBy('checkpoint.step', 'DESC')
      .getOne();
  }

  async listByRun(runId: string): Promise<Checkpoint[]> {
    if (!isUuid(runId)) return [];
    return this.repo.find({ where: { runId }, order: { step: 'ASC', kind: 'ASC' } });
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return ((await this.repo.delete({ id })).affected ?? 0) > 0;
  }
}

export interface EvaluationInput {
  runId: string;
  checkpointId?: string | null;
  step?: number | null;
  split: Split;
  method: EvaluationMethod;
  l1: number;
  pck01: number;
  pck02: number;
  sampleCount?: number | null;
  metrics?: Record<string, number>;
}

export class EvaluationRepository {
  private readonly repo: Repository<Evaluation>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(Evaluation);
  }

  async create(input: EvaluationInput): Promise<Evaluation> {
    return mapErrors(`evaluation ${input.method}`, () =>
      insertOne(this.repo, this.repo.create({ checkpointId: null, step: null, sampleCount: null, metrics: {}, ...defined(input) })),
    );
  }

  /** A run's evaluations, newest first, optionally of one split or checkpoint. */
  async listByRun(runId: string, filter: { split?: Split; checkpointId?: string } = {}): Promise<Evaluation[]> {
    if (!isUuid(runId)) return [];
    return this.repo.find({ where: { runId, ...defined(filter) }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** The newest evaluation of each method on a split: the model next to its baselines. */
  async latestPerMethod(runId: string, split: Split): Promise<Evaluation[]> {
    if (!isUuid(runId)) return [];
    return this.repo
      .createQueryBuilder('evaluation')
      .distinctOn(['evaluation.method'])
      .where('evaluation.runId = :runId', { runId })
      .andWhere('evaluation.split = :split', { split })
      .orderBy('evaluation.method', 'ASC')
      .addOrderBy('evaluation.createdAt', 'DESC')
      .addOrderBy('evaluation.id', 'DESC')
      .getMany();
  }
}
