/* The subnet form's text fields (one item per line) to Neutron's lists and back. */

/** Lines of a textarea, trimmed, blanks dropped. */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** "start,end" or "start - end" per line → allocation pools. */
export function parsePools(text: string): { start: string; end: string }[] {
  return lines(text).map((l) => {
    // Addresses never contain '-', so "a - b", "a-b", "a,b" and "a b" all read the same.
    const [start = '', end = ''] = l
      .replace(/-/g, ' ')
      .split(/[\s,]+/)
      .filter(Boolean);
    return { start, end };
  });
}
/** "destination,nexthop" per line → host routes. */
export function parseRoutes(text: string): { destination: string; nexthop: string }[] {
  return lines(text).map((l) => {
    const [destination = '', nexthop = ''] = l.split(/[\s,]+/).filter(Boolean);
    return { destination, nexthop };
  });
}
export const formatPools = (p: { start: string; end: string }[]) => p.map((x) => `${x.start},${x.end}`).join('\n');
export const formatRoutes = (r: { destination: string; nexthop: string }[]) =>
  r.map((x) => `${x.destination},${x.nexthop}`).join('\n');
