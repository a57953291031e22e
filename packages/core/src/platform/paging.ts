import { badRequest } from './errors.ts';

/*
 * Marker paging done by the database: a page is the rows after the marker row in the
 * list's own order, never every row read and sliced in memory.
 */

/** The most rows one list call returns (Nova's and Cinder's osapi_max_limit). */
export const MAX_LIMIT = 1000;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Lenient paging for the dashboard's lists (Prisma's cursor): rows after `marker` (an id)
 * in the query's order; a marker that is not a UUID is ignored, no limit means every row.
 */
export function pageArgs(marker: string | undefined, limit: number | undefined) {
  return {
    ...(marker && UUID_RE.test(marker) ? { cursor: { id: marker }, skip: 1 } : {}),
    ...(limit ? { take: limit } : {}),
  };
}

export type SortDir = 'asc' | 'desc';

/** The column a list is sorted by; ties are broken by the key column (`id`). */
export interface SortOrder<F extends string> {
  field: F;
  dir: SortDir;
  /** A column that may be NULL: PostgreSQL puts NULLs last ascending and first descending. */
  nullable?: boolean;
}

export interface MarkerPageOptions {
  marker?: string | undefined;
  limit?: number | undefined;
  /** Rows to skip after the marker (Cinder's offset). */
  offset?: number | undefined;
}

/** The findMany arguments of one page: `where` is ANDed with the list's own filter. */
export interface MarkerPage<W, O> {
  where: W;
  orderBy: O[];
  skip?: number;
  take: number;
}

export interface MarkerKey {
  /** The unique column a marker names: `id` unless told (key pairs page by name). */
  key?: string;
  /** The direction of the tie-break on the key: the sort's own unless told. */
  keyDir?: SortDir;
  /** Which markers can name a row at all (default: UUIDs); others are not found. */
  isKey?: (s: string) => boolean;
}

/**
 * OpenStack marker paging (Nova, Cinder): the page after the row `marker`, in `order`
 * then the key, at most `limit` (capped at MAX_LIMIT) rows. `findMarker` reads the
 * marker row within the list's filter: a marker outside it, or no key at all, is Nova's
 * and Cinder's 400 "marker [x] not found". The page's condition is a keyset on the
 * marker row's (sort column, key), so a page is one query in the database.
 */
export async function markerPage<W, O, F extends string = string>(
  o: MarkerPageOptions,
  order: SortOrder<F>,
  findMarker: (key: string) => Promise<object | null>,
  opts: MarkerKey = {},
): Promise<MarkerPage<W, O>> {
  const { field, dir } = order;
  const key = opts.key ?? 'id';
  const keyDir = opts.keyDir ?? dir;
  const orderBy = (field === key ? [{ [key]: dir }] : [{ [field]: dir }, { [key]: keyDir }]) as O[];
  const take = Math.min(o.limit ?? MAX_LIMIT, MAX_LIMIT);
  const page = { orderBy, take, ...(o.offset ? { skip: o.offset } : {}) };
  if (!o.marker) return { ...page, where: {} as W };
  const isKey = opts.isKey ?? ((s: string) => UUID_RE.test(s));
  const row = isKey(o.marker) ? await findMarker(o.marker) : null;
  if (!row) throw badRequest(`marker [${o.marker}] not found`);
  const past = (d: SortDir) => (d === 'asc' ? 'gt' : 'lt');
  const keyAfter = { [key]: { [past(keyDir)]: o.marker } };
  if (field === key) return { ...page, where: { [key]: { [past(dir)]: o.marker } } as W };
  const v = (row as Record<string, unknown>)[field] ?? null;
  const after: object[] = [];
  if (v === null) {
    // NULLs sort greatest: after a NULL come the non-NULL values only when descending.
    if (dir === 'desc') after.push({ [field]: { not: null } });
  } else {
    after.push({ [field]: { [past(dir)]: v } });
    if (order.nullable && dir === 'asc') after.push({ [field]: null });
  }
  return { ...page, where: { OR: [...after, { AND: [{ [field]: v }, keyAfter] }] } as W };
}
