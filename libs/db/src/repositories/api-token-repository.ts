import type { EntityManager, Repository } from 'typeorm';
import { ErrorCode, S2gError, TOKEN_SCOPES, type TokenScope } from '@s2g/contracts';
import { ApiToken } from '../entities';
import { mapErrors } from '../errors';
import { insertOne, isUuid } from './util';

export interface ApiTokenInput {
  name: string;
  /** Hash of the secret; the secret itself is never stored. */
  hash: string;
  scopes: TokenScope[];
  expiresAt?: Date | null;
}

export class ApiTokenRepository {
  private readonly repo: Repository<ApiToken>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(ApiToken);
  }

  /** Throws CONFLICT for a hash already stored, BAD_USER_INPUT for an unknown scope. */
  async create(input: ApiTokenInput): Promise<ApiToken> {
    const unknown = input.scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0 || input.scopes.length === 0) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `token scopes must be a non-empty subset of ${TOKEN_SCOPES.join(', ')}`);
    }
    return mapErrors(`token ${input.name}`, () =>
      insertOne(this.repo, this.repo.create({ name: input.name, hash: input.hash, scopes: [...new Set(input.scopes)], expiresAt: input.expiresAt ?? null })),
    );
  }

  async findByHash(hash: string): Promise<ApiToken | null> {
    return this.repo.findOneBy({ hash });
  }

  /** The token of this hash if it may be used now: not revoked, not expired. */
  async findActiveByHash(hash: string, now: Date = new Date()): Promise<ApiToken | null> {
    return this.repo
      .createQueryBuilder('token')
      .where('token.hash = :hash', { hash })
      .andWhere('token.revokedAt IS NULL')
      .andWhere('(token.expiresAt IS NULL OR token.expiresAt > :now)', { now })
      .getOne();
  }

  /** Records a use. Callers may throttle this; it is one indexed UPDATE. */
  async touch(id: string, at: Date = new Date()): Promise<void> {
    if (isUuid(id)) await this.repo.update({ id }, { lastUsedAt: at });
  }

  /** Revokes a token; returns false when it was unknown or already revoked. */
  async revoke(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere('revoked_at IS NULL')
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Every token, newest first (hashes included; the API must not expose them). */
  async list(): Promise<ApiToken[]> {
    return this.repo.find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }
}
