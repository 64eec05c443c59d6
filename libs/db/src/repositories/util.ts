import type { FindOptionsWhere, ObjectLiteral, QueryDeepPartialEntity, Repository } from 'typeorm';
import { ErrorCode, S2gError } from '@s2g/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from API callers; a malformed one simply matches nothing. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function notFound(what: string, id: string): S2gError {
  return new S2gError(ErrorCode.NOT_FOUND, `${what} not found: ${id}`, { id });
}

/** Drops undefined values: TypeORM 1.x refuses them in `where`, and in `set` they would mean "no change" anyway. */
export function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Splits rows into INSERT batches under Postgres' 65535 bind-parameter limit. */
export function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * A plain INSERT of one entity, returned as stored (defaults and nulls included). Unlike
 * `Repository.save`, an id that already exists is a unique violation (CONFLICT), never an
 * overwrite of the stored row.
 */
export async function insertOne<T extends ObjectLiteral>(repo: Repository<T>, entity: T): Promise<T> {
  await repo.insert(entity as QueryDeepPartialEntity<T>);
  const id = repo.metadata.getEntityIdMap(entity);
  if (!id) throw new Error(`insert into ${repo.metadata.tableName} returned no primary key`);
  return repo.findOneByOrFail(id as FindOptionsWhere<T>);
}
