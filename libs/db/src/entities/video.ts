import { Column, Entity, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { Timestamped } from './columns';
import { Speaker } from './speaker';

/** One source video of a speaker; `name` is the dataset's video_fn, unique per speaker. */
@Entity({ name: 'videos' })
@Unique('videos_speaker_id_name_key', ['speakerId', 'name'])
export class Video extends Timestamped {
  @Column({ name: 'speaker_id', type: 'uuid' })
  speakerId!: string;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker;

  @Column({ type: 'text' })
  name!: string;

  /** Object key of the source media, when it was stored (keypoint-only datasets have none). */
  @Column({ name: 'source_key', type: 'text', nullable: true })
  sourceKey!: string | null;

  /** Object key of the extracted 16 kHz mono audio. */
  @Column({ name: 'audio_key', type: 'text', nullable: true })
  audioKey!: string | null;

  @Column({ name: 'duration_seconds', type: 'double precision', nullable: true })
  durationSeconds!: number | null;

  /** Pose frame rate (15 nominal; 14.985 in the original dataset). */
  @Column({ type: 'double precision', nullable: true })
  fps!: number | null;

  @Column({ type: 'integer', nullable: true })
  width!: number | null;

  @Column({ type: 'integer', nullable: true })
  height!: number | null;

  @Column({ name: 'frame_count', type: 'integer', nullable: true })
  frameCount!: number | null;

  /** Where the video came from (the dataset's video_link), for attribution. */
  @Column({ type: 'text', nullable: true })
  link!: string | null;
}
