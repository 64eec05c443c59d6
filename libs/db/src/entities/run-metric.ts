import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, TIMESTAMP } from './columns';
import { TrainingRun } from './training-run';

export const METRIC_PHASES = ['train', 'validation'] as const;
export type MetricPhase = (typeof METRIC_PHASES)[number];

/**
 * One point of a run's metric history: the metrics of one phase at one step. A row per point
 * (not a growing jsonb array) keeps appends cheap and lets charts page through long runs; the
 * unique key makes a re-sent report a no-op.
 */
@Entity({ name: 'run_metrics' })
@Check('run_metrics_phase_check', `phase IN ('train', 'validation')`)
@Unique('run_metrics_run_step_phase_key', ['runId', 'step', 'phase'])
export class RunMetric {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @ManyToOne(() => TrainingRun, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: TrainingRun;

  @Column({ type: 'integer' })
  step!: number;

  @Column({ type: 'integer' })
  epoch!: number;

  @Column({ type: 'text' })
  phase!: MetricPhase;

  /** Metric name -> value, e.g. `{ "loss_g": 0.41, "l1": 0.38 }`. */
  @Column({ type: 'jsonb' })
  values!: Record<string, number>;

  /** Wall time since the run started, for speed charts. */
  @Column({ name: 'elapsed_ms', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  elapsedMs!: number | null;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
