import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Checkpoint } from './checkpoint';
import { JobRecord, STATUS_CHECK } from './columns';
import { Speaker } from './speaker';
import { TrainingRun } from './training-run';

/** A prediction of pose sequences for one audio input. */
@Entity({ name: 'inference_results' })
@Index('inference_results_speaker_id_idx', ['speakerId'])
@Index('inference_results_run_id_idx', ['runId'])
@Index('inference_results_checkpoint_id_idx', ['checkpointId'])
@Index('inference_results_created_at_id_idx', ['createdAt', 'id'])
@Check('inference_results_status_check', STATUS_CHECK)
export class InferenceResult extends JobRecord {
  @Column({ name: 'speaker_id', type: 'uuid' })
  speakerId!: string;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker;

  /** Model used; kept as history if the run or checkpoint is deleted later. */
  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId!: string | null;

  @ManyToOne(() => TrainingRun, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'run_id' })
  run?: TrainingRun | null;

  @Column({ name: 'checkpoint_id', type: 'uuid', nullable: true })
  checkpointId!: string | null;

  @ManyToOne(() => Checkpoint, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'checkpoint_id' })
  checkpoint?: Checkpoint | null;

  /** The request as given (audio upload key, options). */
  @Column({ type: 'jsonb' })
  input!: Record<string, unknown>;

  /** Object key of the input audio. */
  @Column({ name: 'audio_key', type: 'text', nullable: true })
  audioKey!: string | null;

  @Column({ name: 'frame_count', type: 'integer', nullable: true })
  frameCount!: number | null;

  @Column({ name: 'duration_seconds', type: 'double precision', nullable: true })
  durationSeconds!: number | null;

  /** Object key of the poses as JSON. */
  @Column({ name: 'poses_json_key', type: 'text', nullable: true })
  posesJsonKey!: string | null;

  /** Object key of the poses as packed float32. */
  @Column({ name: 'poses_bin_key', type: 'text', nullable: true })
  posesBinKey!: string | null;

  @Column({ name: 'latency_ms', type: 'integer', nullable: true })
  latencyMs!: number | null;

  @Column({ type: 'text', nullable: true })
  backend!: string | null;
}
