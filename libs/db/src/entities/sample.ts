import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Split } from '@s2g/contracts';
import { TIMESTAMP } from './columns';
import { Interval } from './interval';
import { Speaker } from './speaker';

/**
 * One 64-frame training window (ML-SPEC 3). The bytes live in a shard object; this row says where.
 * A window is identified by (speaker, interval, start frame), so re-running ingest cannot duplicate it.
 */
@Entity({ name: 'samples' })
@Index('samples_speaker_id_split_created_at_id_idx', ['speakerId', 'split', 'createdAt', 'id'])
@Index('samples_interval_id_idx', ['intervalId'])
@Check('samples_split_check', `split IN ('train', 'dev', 'test')`)
@Check('samples_position_check', 'start_frame >= 0 AND shard_index >= 0 AND end_seconds > start_seconds')
@Unique('samples_speaker_interval_frame_key', ['speakerId', 'intervalId', 'startFrame'])
export class Sample {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'speaker_id', type: 'uuid' })
  speakerId!: string;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker;

  @Column({ name: 'interval_id', type: 'uuid' })
  intervalId!: string;

  @ManyToOne(() => Interval, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'interval_id' })
  interval?: Interval;

  @Column({ type: 'text' })
  split!: Split;

  /** Seconds from the start of the video. */
  @Column({ name: 'start_seconds', type: 'double precision' })
  startSeconds!: number;

  @Column({ name: 'end_seconds', type: 'double precision' })
  endSeconds!: number;

  /** Index of the first pose frame within the interval. */
  @Column({ name: 'start_frame', type: 'integer' })
  startFrame!: number;

  /** Object key of the shard holding this window. */
  @Column({ name: 'shard_key', type: 'text' })
  shardKey!: string;

  /** Position of this window within its shard. */
  @Column({ name: 'shard_index', type: 'integer' })
  shardIndex!: number;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
