import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Split } from '@s2g/contracts';
import { bigintAsNumber, TIMESTAMP } from './columns';
import { Speaker } from './speaker';

/** One object of packed training windows; lets the trainer find a split's data without listing storage. */
@Entity({ name: 'shards' })
@Index('shards_speaker_id_split_idx', ['speakerId', 'split'])
@Check('shards_split_check', `split IN ('train', 'dev', 'test')`)
export class Shard {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'speaker_id', type: 'uuid' })
  speakerId!: string;

  @ManyToOne(() => Speaker, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'speaker_id' })
  speaker?: Speaker;

  @Column({ type: 'text' })
  split!: Split;

  /** Object key (StorageKeys.shard); unique. */
  @Column({ type: 'text', unique: true })
  key!: string;

  @Column({ name: 'sample_count', type: 'integer' })
  sampleCount!: number;

  @Column({ name: 'byte_size', type: 'bigint', transformer: bigintAsNumber })
  byteSize!: number;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
