import type { Connection, PageArgs as DbPageArgs } from '@s2g/db';
import type { ApiContext } from '../../context';
import { notFound } from '../../errors';

/** A presigned download URL of an object key (null stays null); one signature per key and request. */
export function downloadUrl(ctx: ApiContext, key: string | null | undefined): Promise<string | null> {
  if (!key) return Promise.resolve(null);
  const { store, config } = ctx.services;
  return ctx.memo.get(`url:${key}`, () => store.presignedGet(key, config.downloadUrlTtlSeconds));
}

/** Cursor arguments only (GraphQL hands over the filters in the same object). */
export function page(args: DbPageArgs): DbPageArgs {
  return { first: args.first, after: args.after, last: args.last, before: args.before };
}

/** The record, or NOT_FOUND naming what was looked for. */
export async function found<T>(value: Promise<T | null>, what: string, id: string): Promise<T> {
  const record = await value;
  if (!record) throw notFound(what, id);
  return record;
}

export type { Connection };
