import { badRequest } from '../../platform/errors.ts';

/*
 * Container ACLs as Swift writes them (X-Container-Read / X-Container-Write): a comma-
 * separated list of elements.
 * - `.r:<referrer>` (read only): anonymous reads for requests whose Referer host matches;
 *   `*` is everyone, `.example.com` a domain suffix, `-host` denies that host.
 * - `.rlistings` (read only): anonymous readers may also list the container.
 * - `project:user`, `project:*`, `*:user` (ids or names), or a bare project id: Keystone
 *   callers granted by their token's project and user.
 */
export interface ParsedAcl {
  referrers: string[];
  listings: boolean;
  grants: Array<{ project: string; user: string }>;
}

export function parseAcl(value: string | null | undefined): ParsedAcl {
  const acl: ParsedAcl = { referrers: [], listings: false, grants: [] };
  if (!value) return acl;
  for (const raw of value.split(',')) {
    const el = raw.trim();
    if (!el) continue;
    if (el === '.rlistings') acl.listings = true;
    else if (
      el.startsWith('.r:') ||
      el.startsWith('.ref:') ||
      el.startsWith('.referer:') ||
      el.startsWith('.referrer:')
    ) {
      acl.referrers.push(el.slice(el.indexOf(':') + 1));
    } else if (el.includes(':')) {
      const i = el.indexOf(':');
      acl.grants.push({ project: el.slice(0, i), user: el.slice(i + 1) });
    } else acl.grants.push({ project: el, user: '*' });
  }
  return acl;
}

/** Validates and normalises an ACL header value (Swift's clean_acl); '' removes the ACL. */
export function cleanAcl(kind: 'read' | 'write', value: string): string {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const el = raw.trim();
    if (!el) continue;
    if (el.startsWith('.')) {
      if (kind === 'write') throw badRequest(`Referrers not allowed in write ACL: ${JSON.stringify(el)}`);
      if (el === '.rlistings') {
        out.push(el);
        continue;
      }
      const m = /^\.(r|ref|referer|referrer):(.*)$/.exec(el);
      if (!m)
        throw badRequest(`Unknown designator ${JSON.stringify(el.split(':')[0])} in ACL: ${JSON.stringify(value)}`);
      const ref = (m[2] ?? '').trim();
      if (!ref || ref === '-')
        throw badRequest(`No host/domain value after referrer designation in ACL: ${JSON.stringify(value)}`);
      out.push(`.r:${ref}`);
      continue;
    }
    if (el.length > 256) throw badRequest('ACL element too long.');
    out.push(el);
  }
  return out.join(',');
}

function hostOf(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Swift's referrer_allowed: the last matching element decides; `-x` denies. */
export function referrerAllowed(acl: ParsedAcl, referer: string | undefined): boolean {
  const host = hostOf(referer);
  let allow = false;
  for (const r of acl.referrers) {
    const deny = r.startsWith('-');
    const pat = (deny ? r.slice(1) : r).toLowerCase();
    const hit =
      pat === '*' ||
      (host !== undefined && (pat.startsWith('.') ? host.endsWith(pat) || host === pat.slice(1) : host === pat));
    if (hit) allow = !deny;
  }
  return allow;
}

export interface Grantee {
  projectId: string | null;
  projectName: string | null;
  userId: string;
  userName: string;
}

export function granteeAllowed(acl: ParsedAcl, who: Grantee): boolean {
  const projects = [who.projectId, who.projectName].filter((x): x is string => !!x);
  const users = [who.userId, who.userName];
  return acl.grants.some(
    (g) => (g.project === '*' || projects.includes(g.project)) && (g.user === '*' || users.includes(g.user)),
  );
}
