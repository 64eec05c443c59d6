import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Split } from '@s2g/contracts';
import { Checkpoint } from './checkpoint';
import { TIMESTAMP } from './columns';
import { TrainingRun } from './training-run';

/** The model and the paper's three baselines (ML-SPEC 7). */
export const EVALUATION_METHODS = ['model', 'median', 'random', 'nearest'] as const;
export type EvaluationMethod = (typeof EVALUATION_METHODS)[number];

/** Scores of one method on one split of a run's speaker. */
@Entity({ name: 'evaluations' })
@Index('evaluations_run_id_idx', ['runId'])
@Index('evaluations_checkpoint_id_idx', ['checkpointId'])
@Check('evaluations_split_check', `split IN ('train', 'dev', 'test')`)
@Check('evaluations_method_check', `method IN ('model', 'median', 'random', 'nearest')`)
export class Evaluation {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @ManyToOne(() => TrainingRun, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: TrainingRun;

  /** The checkpoint scored (null for baselines, which need no model). */
  @Column({ name: 'checkpoint_id', type: 'uuid', nullable: true })
  checkpointId!: string | null;

  @ManyToOne(() => Checkpoint, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'checkpoint_id' })
  checkpoint?: Checkpoint | null;

  /** Training step the scores were taken at (null for baselines computed outside a run's steps). */
  @Column({ type: 'integer', nullable: true })
  step!: number | null;

  @Column({ type: 'text' })
  split!: Split;

  @Column({ type: 'text' })
  method!: EvaluationMethod;

  /** Mean absolute error on normalised keypoints 1..48. */
  @Column({ type: 'double precision' })
  l1!: number;

  /** PCK at alpha 0.1 and 0.2, in [0, 1]. */
  @Column({ type: 'double precision' })
  pck01!: number;

  @Column({ type: 'double precision' })
  pck02!: number;

  @Column({ name: 'sample_count', type: 'integer', nullable: true })
  sampleCount!: number | null;

  /** Further metrics (Frechet distance, beat consistency, diversity, ...). */
  @Column({ type: 'jsonb', default: {} })
  metrics!: Record<string, number>;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
