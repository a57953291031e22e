import { describe, expect, it } from 'vitest';
import { cleanAcl, granteeAllowed, parseAcl, referrerAllowed } from './acl.ts';
import { evaluateConditions, parseRangeHeader, resolveRange } from './conditions.ts';
import { type NameQuery, walkListing } from './listing.ts';

/* Pure parts of the Swift layer: the listing walk over an in-memory table, ACLs, ranges, conditions. */

const NAMES = ['a.txt', 'b/1', 'b/2', 'b/c/3', 'b0', 'c', 'photos/2024/x.jpg', 'photos/2025/y.jpg', 'zz', 'é'];
const sorted = [...NAMES].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
let queries = 0;

/** The database query as SQL would answer it: bytewise order, bounds, prefix, limit. */
async function table(q: NameQuery): Promise<Array<{ name: string }>> {
  queries += 1;
  const cmp = (x: string, y: string) => Buffer.compare(Buffer.from(x), Buffer.from(y));
  let rows = sorted.filter((n) => n.startsWith(q.prefix));
  if (q.after)
    rows = rows.filter((n) => (q.after?.inclusive ? cmp(n, q.after.name) >= 0 : cmp(n, q.after?.name ?? '') > 0));
  if (q.before !== undefined) rows = rows.filter((n) => cmp(n, q.before ?? '') < 0);
  if (q.reverse) rows.reverse();
  return rows.slice(0, q.limit).map((name) => ({ name }));
}

const names = async (o: Parameters<typeof walkListing>[0]) =>
  (await walkListing(o, 10000, table)).map((e) => (e.kind === 'subdir' ? e.subdir : e.item.name));

describe('listing walk', () => {
  it('orders bytewise and applies prefix, markers, limit', async () => {
    expect(await names({})).toEqual(sorted);
    expect(sorted[sorted.length - 1]).toBe('é');
    expect(await names({ prefix: 'b/' })).toEqual(['b/1', 'b/2', 'b/c/3']);
    expect(await names({ marker: 'b/2', limit: 2 })).toEqual(['b/c/3', 'b0']);
    expect(await names({ marker: 'b', endMarker: 'c' })).toEqual(['b/1', 'b/2', 'b/c/3', 'b0']);
    expect(await names({ limit: 0 })).toEqual([]);
  });

  it('folds pseudo-folders with a delimiter, forward and reverse, skipping each folder in one query', async () => {
    queries = 0;
    expect(await names({ delimiter: '/' })).toEqual(['a.txt', 'b/', 'b0', 'c', 'photos/', 'zz', 'é']);
    expect(queries).toBeLessThanOrEqual(4);
    expect(await names({ delimiter: '/', prefix: 'photos/' })).toEqual(['photos/2024/', 'photos/2025/']);
    expect(await names({ delimiter: '/', reverse: true })).toEqual(['é', 'zz', 'photos/', 'c', 'b0', 'b/', 'a.txt']);
    expect(await names({ delimiter: '/', marker: 'b/' })).toEqual(['b0', 'c', 'photos/', 'zz', 'é']);
    expect(await names({ delimiter: '/', limit: 2 })).toEqual(['a.txt', 'b/']);
    expect(await names({ reverse: true, marker: 'c', endMarker: 'b/1' })).toEqual(['b0', 'b/c/3', 'b/2']);
  });

  it('refuses a limit above the maximum with 412', async () => {
    await expect(walkListing({ limit: 10001 }, 10000, table)).rejects.toMatchObject({ code: 'PreconditionFailed' });
  });
});

describe('container ACLs', () => {
  it('parses referrers, listings and grants', () => {
    const acl = parseAcl('.r:*,.rlistings,p1:u1,p2,*:u3');
    expect(acl.listings).toBe(true);
    expect(referrerAllowed(acl, undefined)).toBe(true);
    const who = (projectId: string, userId: string) => ({ projectId, projectName: null, userId, userName: 'n' });
    expect(granteeAllowed(acl, who('p1', 'u1'))).toBe(true);
    expect(granteeAllowed(acl, who('p1', 'u2'))).toBe(false);
    expect(granteeAllowed(acl, who('p2', 'anyone'))).toBe(true);
    expect(granteeAllowed(acl, who('p9', 'u3'))).toBe(true);
  });

  it('matches referrer domains and denials, last match wins', () => {
    const acl = parseAcl('.r:.example.com,.r:-bad.example.com');
    expect(referrerAllowed(acl, 'http://www.example.com/page')).toBe(true);
    expect(referrerAllowed(acl, 'http://bad.example.com/')).toBe(false);
    expect(referrerAllowed(acl, 'http://other.org/')).toBe(false);
    expect(referrerAllowed(acl, undefined)).toBe(false);
  });

  it('cleans ACLs as Swift does: referrers only in read ACLs, no empty referrer', () => {
    expect(cleanAcl('read', ' .r:* , .rlistings ')).toBe('.r:*,.rlistings');
    expect(cleanAcl('read', '.referrer:foo.com')).toBe('.r:foo.com');
    expect(() => cleanAcl('write', '.r:*')).toThrow(/Referrers not allowed/);
    expect(() => cleanAcl('read', '.r:')).toThrow(/No host/);
    expect(() => cleanAcl('read', '.bogus:x')).toThrow(/Unknown designator/);
  });
});

describe('ranges and conditions', () => {
  it('parses and resolves single ranges, refusing unsatisfiable ones', () => {
    expect(parseRangeHeader('bytes=0-9')).toEqual({ start: 0, end: 9 });
    expect(parseRangeHeader('bytes=5-')).toEqual({ start: 5 });
    expect(parseRangeHeader('bytes=-3')).toEqual({ suffix: 3 });
    expect(parseRangeHeader('bytes=0-1,5-6')).toBeUndefined();
    expect(parseRangeHeader('items=0-1')).toBeUndefined();
    expect(resolveRange({ start: 5 }, 10)).toEqual({ start: 5, end: 9 });
    expect(resolveRange({ start: 5, end: 100 }, 10)).toEqual({ start: 5, end: 9 });
    expect(resolveRange({ suffix: 30 }, 10)).toEqual({ start: 0, end: 9 });
    expect(() => resolveRange({ start: 10 }, 10)).toThrow();
    expect(() => resolveRange({ suffix: 1 }, 0)).toThrow();
  });

  it('evaluates If-Match, If-None-Match and the date conditions in order', () => {
    const lm = 1_700_000_000;
    expect(evaluateConditions({ ifNoneMatch: '"abc"' }, 'abc', lm)).toBe('not-modified');
    expect(evaluateConditions({ ifNoneMatch: '*' }, 'abc', lm)).toBe('not-modified');
    expect(evaluateConditions({ ifMatch: '"x", "abc"' }, 'abc', lm)).toBe('ok');
    expect(() => evaluateConditions({ ifMatch: 'x' }, 'abc', lm)).toThrow();
    const at = new Date(lm * 1000).toUTCString();
    expect(evaluateConditions({ ifModifiedSince: at }, 'abc', lm)).toBe('not-modified');
    expect(evaluateConditions({ ifModifiedSince: new Date((lm - 1) * 1000).toUTCString() }, 'abc', lm)).toBe('ok');
    expect(() =>
      evaluateConditions({ ifUnmodifiedSince: new Date((lm - 1) * 1000).toUTCString() }, 'abc', lm),
    ).toThrow();
    // If-None-Match takes precedence over If-Modified-Since.
    expect(evaluateConditions({ ifNoneMatch: 'other', ifModifiedSince: at }, 'abc', lm)).toBe('ok');
  });
});
