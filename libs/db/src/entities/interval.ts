import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Split } from '@s2g/contracts';
import { TIMESTAMP } from './columns';
import { Video } from './video';

/** A clean stretch of a video; the train/dev/test split is decided per interval. */
@Entity({ name: 'intervals' })
@Unique('intervals_video_id_external_id_key', ['videoId', 'externalId'])
@Check('intervals_split_check', `split IN ('train', 'dev', 'test')`)
@Check('intervals_time_check', 'end_seconds > start_seconds AND start_seconds >= 0')
export class Interval {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'video_id', type: 'uuid' })
  videoId!: string;

  @ManyToOne(() => Video, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'video_id' })
  video?: Video;

  /** The dataset's interval_id (or one assigned on upload); unique per video. */
  @Column({ name: 'external_id', type: 'text' })
  externalId!: string;

  @Column({ name: 'start_seconds', type: 'double precision' })
  startSeconds!: number;

  @Column({ name: 'end_seconds', type: 'double precision' })
  endSeconds!: number;

  @Column({ type: 'text' })
  split!: Split;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
