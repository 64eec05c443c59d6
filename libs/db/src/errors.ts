import { QueryFailedError } from 'typeorm';
import { ErrorCode, S2gError } from '@s2g/contracts';

/** SQLSTATE codes turned into coded errors; everything else stays as thrown. */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const CHECK_VIOLATION = '23514';
const NOT_NULL_VIOLATION = '23502';
const INVALID_TEXT = '22P02';

interface PgErrorFields {
  code?: string;
  constraint?: string;
  table?: string;
  detail?: string;
}

function fields(e: unknown): PgErrorFields | null {
  if (e instanceof QueryFailedError) return e.driverError as PgErrorFields;
  if (e && typeof e === 'object' && typeof (e as PgErrorFields).code === 'string') return e as PgErrorFields;
  return null;
}

/**
 * A database error as a coded S2gError a caller can act on: unique -> CONFLICT, missing
 * referenced row -> NOT_FOUND, check / not-null / malformed value -> BAD_USER_INPUT. The
 * constraint name (Postgres style, e.g. `speakers_name_key`) is in `details.constraint`.
 */
export function mapDbError(e: unknown, what: string): unknown {
  const pg = fields(e);
  if (!pg || e instanceof S2gError) return e;
  const details = { constraint: pg.constraint, table: pg.table };
  switch (pg.code) {
    case UNIQUE_VIOLATION:
      return new S2gError(ErrorCode.CONFLICT, `${what}: already exists (${pg.constraint ?? 'unique'})`, details, { cause: e });
    case FOREIGN_KEY_VIOLATION:
      return new S2gError(ErrorCode.NOT_FOUND, `${what}: a referenced record does not exist (${pg.constraint ?? 'foreign key'})`, details, { cause: e });
    case CHECK_VIOLATION:
    case NOT_NULL_VIOLATION:
      return new S2gError(ErrorCode.BAD_USER_INPUT, `${what}: invalid value (${pg.constraint ?? 'not null'})`, details, { cause: e });
    case INVALID_TEXT:
      return new S2gError(ErrorCode.BAD_USER_INPUT, `${what}: malformed value`, details, { cause: e });
    default:
      return e;
  }
}

/** Runs `fn`, rethrowing database errors through mapDbError. */
export async function mapErrors<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw mapDbError(e, what);
  }
}
