import type { DataSource, EntityManager } from 'typeorm';
import {
  ApiTokenRepository,
  CheckpointRepository,
  EvaluationRepository,
  InferenceResultRepository,
  IngestJobRepository,
  IntervalRepository,
  RenderRepository,
  SampleRepository,
  ShardRepository,
  SpeakerRepository,
  TrainingRunRepository,
  VideoRepository,
} from './repositories';

/**
 * Every repository, bound to one EntityManager: the DataSource's, or a transaction's inside
 * `withTransaction`, so the same calls read and write either way.
 */
export class Database {
  readonly speakers: SpeakerRepository;
  readonly videos: VideoRepository;
  readonly intervals: IntervalRepository;
  readonly shards: ShardRepository;
  readonly samples: SampleRepository;
  readonly ingestJobs: IngestJobRepository;
  readonly trainingRuns: TrainingRunRepository;
  readonly checkpoints: CheckpointRepository;
  readonly evaluations: EvaluationRepository;
  readonly inferenceResults: InferenceResultRepository;
  readonly renders: RenderRepository;
  readonly apiTokens: ApiTokenRepository;

  constructor(readonly manager: EntityManager) {
    this.speakers = new SpeakerRepository(manager);
    this.videos = new VideoRepository(manager);
    this.intervals = new IntervalRepository(manager);
    this.shards = new ShardRepository(manager);
    this.samples = new SampleRepository(manager);
    this.ingestJobs = new IngestJobRepository(manager);
    this.trainingRuns = new TrainingRunRepository(manager);
    this.checkpoints = new CheckpointRepository(manager);
    this.evaluations = new EvaluationRepository(manager);
    this.inferenceResults = new InferenceResultRepository(manager);
    this.renders = new RenderRepository(manager);
    this.apiTokens = new ApiTokenRepository(manager);
  }

  static of(dataSource: DataSource): Database {
    return new Database(dataSource.manager);
  }

  /**
   * Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). Nested
   * calls join the outer transaction.
   */
  async withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    if (this.manager.queryRunner?.isTransactionActive) return fn(this);
    return this.manager.transaction((manager) => fn(new Database(manager)));
  }
}

/** `withTransaction` for callers holding only a DataSource. */
export async function withTransaction<T>(dataSource: DataSource, fn: (tx: Database) => Promise<T>): Promise<T> {
  return Database.of(dataSource).withTransaction(fn);
}
