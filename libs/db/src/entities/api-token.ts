import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { TokenScope } from '@s2g/contracts';
import { TIMESTAMP } from './columns';

/** An API token; only a hash of the secret is stored. */
@Entity({ name: 'api_tokens' })
@Check('api_tokens_scopes_check', `scopes <@ ARRAY['read', 'write', 'admin']::text[]`)
export class ApiToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** Hash of the token secret (the gateway chooses the scheme); unique, looked up on every request. */
  @Column({ type: 'text', unique: true })
  hash!: string;

  @Column({ type: 'text', array: true })
  scopes!: TokenScope[];

  @CreateDateColumn({ name: 'created_at', ...TIMESTAMP })
  createdAt!: Date;

  @Column({ name: 'last_used_at', ...TIMESTAMP, nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'expires_at', ...TIMESTAMP, nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'revoked_at', ...TIMESTAMP, nullable: true })
  revokedAt!: Date | null;
}
