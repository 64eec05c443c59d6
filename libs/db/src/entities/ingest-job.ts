import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import type { IngestLayout } from '@s2g/contracts';
import { JobRecord, STATUS_CHECK } from './columns';
import { Speaker } from './speaker';

/** A request to add data to a speaker. The speaker row may be created by the job itself. */
@Entity({ name: 'ingest_jobs' })
@Index('ingest_jobs_speaker_id_idx', ['speakerId'])
@Index('ingest_jobs_created_at_id_idx', ['createdAt', 'id'])
@Check('ingest_jobs_layout_check', `layout IN ('s2g', 'openpose', 'npz', 'synthetic')`)
@Check('ingest_jobs_status_check', STATUS_CHECK)
export class IngestJob extends JobRecord {
  /** Set once the speaker exists (at request time for known speakers, by the job for new ones). */
  @Column({ name: 'speaker_id', type: 'uuid', nullable: true })
  speakerId!: string | null;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker | null;

  /** The speaker's name as requested, so a job for a new speaker is traceable before it exists. */
  @Column({ name: 'speaker_name', type: 'text' })
  speakerName!: string;

  @Column({ type: 'text' })
  layout!: IngestLayout;

  /** Where to read from: a folder or URL, or an upload key. */
  @Column({ type: 'text' })
  source!: string;

  /** Layout-specific options as requested. */
  @Column({ type: 'jsonb', default: {} })
  options!: Record<string, unknown>;

  /** Latest progress report (phase, done, total, ...). */
  @Column({ type: 'jsonb', default: {} })
  progress!: Record<string, unknown>;

  /** What the job added (videos, intervals, samples per split, skipped items and why). */
  @Column({ type: 'jsonb', nullable: true })
  summary!: Record<string, unknown> | null;
}
