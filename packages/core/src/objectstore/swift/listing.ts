import { z } from 'zod';
import { badRequest, StratusError } from '../../platform/errors.ts';

/*
 * Swift listings (accounts list containers, containers list objects): bytewise name
 * order, prefix, delimiter (pseudo-folders as `subdir` entries), marker / end_marker
 * (exclusive bounds, swapped roles with reverse) and limit. The database query is
 * injected so the same walk serves both tables.
 */
export const ListingOptions = z.object({
  prefix: z.string().default(''),
  /** One character (a code point, so one emoji is fine). */
  delimiter: z
    .string()
    .refine((d) => [...d].length <= 1, 'Bad delimiter')
    .optional(),
  marker: z.string().optional(),
  endMarker: z.string().optional(),
  limit: z.number().int().min(0).optional(),
  reverse: z.boolean().default(false),
});
export type ListingOptions = z.input<typeof ListingOptions>;

/** One page of names from the database: ascending (or descending when reverse) bytewise. */
export interface NameQuery {
  prefix: string;
  /** Lower bound (exclusive unless inclusive). */
  after?: { name: string; inclusive: boolean };
  /** Upper bound (exclusive). */
  before?: string;
  reverse: boolean;
  limit: number;
}

export type ListingEntry<T> = { kind: 'item'; item: T } | { kind: 'subdir'; subdir: string };

export async function walkListing<T extends { name: string }>(
  input: ListingOptions,
  maxLimit: number,
  query: (q: NameQuery) => Promise<T[]>,
): Promise<Array<ListingEntry<T>>> {
  if (input.delimiter !== undefined && [...input.delimiter].length > 1) throw badRequest('Bad delimiter');
  const o = ListingOptions.parse(input);
  if (o.limit !== undefined && o.limit > maxLimit)
    throw new StratusError('PreconditionFailed', `Maximum limit is ${maxLimit}`);
  const limit = o.limit ?? maxLimit;
  const out: Array<ListingEntry<T>> = [];
  if (limit === 0) return out;
  // Forward: names > marker and < end_marker. Reverse: names < marker and > end_marker.
  let low: { name: string; inclusive: boolean } | undefined = o.reverse
    ? o.endMarker
      ? { name: o.endMarker, inclusive: false }
      : undefined
    : o.marker
      ? { name: o.marker, inclusive: false }
      : undefined;
  let high: string | undefined = o.reverse ? o.marker || undefined : o.endMarker || undefined;
  const delim = o.delimiter || undefined;
  let lastSubdir: string | undefined;
  for (;;) {
    const want = limit - out.length;
    if (want <= 0) break;
    const rows = await query({
      prefix: o.prefix,
      ...(low ? { after: low } : {}),
      ...(high !== undefined ? { before: high } : {}),
      reverse: o.reverse,
      limit: want,
    });
    if (rows.length === 0) break;
    let jumped = false;
    for (const row of rows) {
      if (delim) {
        const i = row.name.indexOf(delim, o.prefix.length);
        if (i >= 0) {
          const dir = row.name.slice(0, i + delim.length);
          if (dir !== lastSubdir && dir !== o.marker) out.push({ kind: 'subdir', subdir: dir });
          lastSubdir = dir;
          // Skip every other name under this pseudo-folder with one bound.
          if (o.reverse) high = dir;
          else
            low = {
              name: row.name.slice(0, i) + String.fromCodePoint((delim.codePointAt(0) ?? 0) + 1),
              inclusive: true,
            };
          jumped = true;
          break;
        }
      }
      out.push({ kind: 'item', item: row });
      if (o.reverse) high = row.name;
      else low = { name: row.name, inclusive: false };
      if (out.length >= limit) break;
    }
    if (!jumped && rows.length < want) break;
  }
  return out;
}
