import { Column, CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn, type ValueTransformer } from 'typeorm';
import type { ErrorCode, JobStatus } from '@s2g/contracts';

/** pg returns int8 as a string (it can exceed 2^53); byte sizes and counts here stay far below. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * Timestamps are stored at millisecond precision (timestamptz(3)) so that a JS Date read back is
 * exactly the stored value; pagination cursors rely on that.
 */
export const TIMESTAMP = { type: 'timestamptz', precision: 3 } as const;

/** id, created_at, updated_at: on every table with a lifecycle. */
export abstract class Timestamped {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', ...TIMESTAMP })
  updatedAt!: Date;
}

/** The lifecycle columns shared by every job kind (ingest, training, inference, render). */
export abstract class JobRecord extends Timestamped {
  @Column({ type: 'text', default: 'queued' })
  status!: JobStatus;

  /** Delivery attempts that reached `running`; bounded redelivery reads it. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: ErrorCode | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'started_at', ...TIMESTAMP, nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', ...TIMESTAMP, nullable: true })
  finishedAt!: Date | null;
}

/** The CHECK on every job table's status (same list as JOB_STATUSES, frozen in the migration). */
export const STATUS_CHECK = `status IN ('queued', 'running', 'completed', 'failed', 'cancelled')`;
