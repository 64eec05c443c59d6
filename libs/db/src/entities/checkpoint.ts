import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { CheckpointKind } from '@s2g/contracts';
import { bigintAsNumber, TIMESTAMP } from './columns';
import { TrainingRun } from './training-run';

/** Saved model (+ optimizer) state of a run; the files are under `storagePrefix`. */
@Entity({ name: 'checkpoints' })
@Check('checkpoints_kind_check', `kind IN ('best', 'periodic', 'final')`)
@Unique('checkpoints_run_step_kind_key', ['runId', 'step', 'kind'])
export class Checkpoint {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @ManyToOne(() => TrainingRun, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: TrainingRun;

  @Column({ type: 'integer' })
  step!: number;

  @Column({ type: 'integer', nullable: true })
  epoch!: number | null;

  @Column({ type: 'text' })
  kind!: CheckpointKind;

  /** StorageKeys.checkpointPrefix(run, step). */
  @Column({ name: 'storage_prefix', type: 'text' })
  storagePrefix!: string;

  @Column({ name: 'validation_loss', type: 'double precision', nullable: true })
  validationLoss!: number | null;

  @Column({ name: 'byte_size', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  byteSize!: number | null;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;
}
