import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import type { ModelPreset } from '@s2g/contracts';
import { JobRecord, STATUS_CHECK } from './columns';
import { Speaker } from './speaker';

/** One training of one speaker's model. Metric history is in `run_metrics` (RunMetric). */
@Entity({ name: 'training_runs' })
@Index('training_runs_speaker_id_created_at_id_idx', ['speakerId', 'createdAt', 'id'])
@Check('training_runs_preset_check', `preset IN ('paper', 'small', 'tiny')`)
@Check('training_runs_status_check', STATUS_CHECK)
export class TrainingRun extends JobRecord {
  @Column({ name: 'speaker_id', type: 'uuid' })
  speakerId!: string;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker;

  @Column({ type: 'text' })
  preset!: ModelPreset;

  /** The full, validated training configuration as run. */
  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  @Column({ type: 'integer', default: 0 })
  step!: number;

  @Column({ type: 'integer', default: 0 })
  epoch!: number;

  /** Latest progress report (losses, steps per second, ETA, ...). */
  @Column({ type: 'jsonb', default: {} })
  progress!: Record<string, unknown>;

  /** Tensor backend used (tfjs-node-gpu | tfjs-node | wasm | cpu). */
  @Column({ type: 'text', nullable: true })
  backend!: string | null;

  /** Device description reported by the backend. */
  @Column({ type: 'text', nullable: true })
  device!: string | null;
}
