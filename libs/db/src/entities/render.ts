import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { JobRecord, STATUS_CHECK } from './columns';
import { InferenceResult } from './inference-result';

/** A video drawn from an inference result, with its audio. */
@Entity({ name: 'renders' })
@Index('renders_result_id_idx', ['resultId'])
@Check('renders_size_check', 'width > 0 AND height > 0 AND fps > 0')
@Check('renders_status_check', STATUS_CHECK)
export class Render extends JobRecord {
  @Column({ name: 'result_id', type: 'uuid' })
  resultId!: string;

  @ManyToOne(() => InferenceResult, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'result_id' })
  result?: InferenceResult;

  @Column({ type: 'integer' })
  width!: number;

  @Column({ type: 'integer' })
  height!: number;

  @Column({ type: 'double precision' })
  fps!: number;

  /** Drawing options as requested (colours, background, side-by-side, ...). */
  @Column({ type: 'jsonb', default: {} })
  options!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  progress!: Record<string, unknown>;

  @Column({ name: 'video_key', type: 'text', nullable: true })
  videoKey!: string | null;

  @Column({ name: 'poster_key', type: 'text', nullable: true })
  posterKey!: string | null;
}
