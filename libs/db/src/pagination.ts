import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ErrorCode, S2gError } from '@s2g/contracts';

/** Relay connection arguments: `first`/`after` pages forward, `last`/`before` backward. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** Only computed when asked for (it costs a COUNT). */
  totalCount?: number;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

interface CursorValue {
  createdAt: Date;
  id: string;
}

/** base64url of `[createdAt in epoch ms, id]`. Exact, because timestamps are stored to the millisecond. */
export function encodeCursor(row: CursorValue): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorValue {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { createdAt: new Date(value[0] as number), id: value[1] };
    }
  } catch {
    // Falls through to the coded error below.
  }
  throw new S2gError(ErrorCode.BAD_USER_INPUT, 'invalid pagination cursor', { cursor: cursor.slice(0, 100) });
}

function pageSize(value: number | null | undefined, name: string): number {
  if (value === null || value === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `${name} must be an integer from 0 to ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/**
 * One page of `qb` (any filtered query of an entity with `createdAt` and `id`) ordered by
 * (createdAt, id), newest first unless `order: 'ASC'`. The id breaks ties, so the order is total and
 * pages neither repeat nor skip rows when rows are added meanwhile.
 */
export async function paginate<T extends ObjectLiteral & CursorValue>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs = {},
  options: { order?: 'ASC' | 'DESC'; totalCount?: boolean } = {},
): Promise<Connection<T>> {
  const backward = args.last !== undefined && args.last !== null;
  if (backward && args.first !== undefined && args.first !== null) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, 'pass either first or last, not both');
  }
  const size = backward ? pageSize(args.last, 'last') : pageSize(args.first, 'first');
  const order = options.order ?? 'DESC';
  // Backward pages are read in reverse order and flipped afterwards.
  const scanOrder = backward ? (order === 'DESC' ? 'ASC' : 'DESC') : order;
  const alias = qb.alias;

  const totalCount = options.totalCount ? await qb.clone().getCount() : undefined;
  const page = qb.clone();
  const cursor = backward ? args.before : args.after;
  if (cursor) {
    const at = decodeCursor(cursor);
    const op = scanOrder === 'DESC' ? '<' : '>';
    page.andWhere(`(${alias}.createdAt, ${alias}.id) ${op} (:pageCreatedAt, :pageId)`, { pageCreatedAt: at.createdAt, pageId: at.id });
  }
  page.orderBy(`${alias}.createdAt`, scanOrder).addOrderBy(`${alias}.id`, scanOrder).take(size + 1);
  const rows = size === 0 ? [] : await page.getMany();
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backward) nodes.reverse();
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? Boolean(args.before) : more,
      hasPreviousPage: backward ? more : Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    ...(totalCount === undefined ? {} : { totalCount }),
  };
}
