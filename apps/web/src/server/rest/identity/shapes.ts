import type {
  ApplicationCredential,
  CatalogService,
  Domain,
  Endpoint,
  Group,
  Project,
  Region,
  Role,
  RoleAssignment,
  User,
} from '@stratus/core';
import { keystoneTime } from '@stratus/core';

/* Keystone v3 JSON shapes of core's entities. `base` is …/identity/v3. */

export const projectJson = (base: string, p: Project) => ({
  id: p.id,
  name: p.name,
  domain_id: p.domainId,
  // Keystone: a top-level project's parent is its domain.
  parent_id: p.parentId ?? p.domainId,
  description: p.description,
  enabled: p.enabled,
  is_domain: p.isDomain,
  tags: p.tags,
  options: {},
  links: { self: `${base}/projects/${p.id}` },
});

export const userJson = (base: string, u: User) => ({
  id: u.id,
  name: u.name,
  domain_id: u.domainId,
  enabled: u.enabled,
  ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
  ...(u.email ? { email: u.email } : {}),
  ...(u.description ? { description: u.description } : {}),
  password_expires_at: u.passwordExpiresAt ? keystoneTime(u.passwordExpiresAt) : null,
  options: {},
  links: { self: `${base}/users/${u.id}` },
});

export const groupJson = (base: string, g: Group) => ({
  id: g.id,
  name: g.name,
  domain_id: g.domainId,
  description: g.description,
  links: { self: `${base}/groups/${g.id}` },
});

export const roleJson = (base: string, r: Role) => ({
  id: r.id,
  name: r.name,
  domain_id: r.domainId,
  description: r.description,
  options: {},
  links: { self: `${base}/roles/${r.id}` },
});

export const domainJson = (base: string, d: Domain) => ({
  id: d.id,
  name: d.name,
  description: d.description,
  enabled: d.enabled,
  tags: [],
  options: {},
  links: { self: `${base}/domains/${d.id}` },
});

export const regionJson = (base: string, r: Region) => ({
  id: r.id,
  description: r.description,
  parent_region_id: r.parentRegionId,
  links: { self: `${base}/regions/${r.id}` },
});

export const serviceJson = (base: string, s: CatalogService) => ({
  id: s.id,
  type: s.type,
  name: s.name,
  description: s.description,
  enabled: s.enabled,
  links: { self: `${base}/services/${s.id}` },
});

export const endpointJson = (base: string, e: Endpoint) => ({
  id: e.id,
  service_id: e.serviceId,
  region_id: e.regionId,
  region: e.regionId,
  interface: e.interface,
  url: e.url,
  enabled: e.enabled,
  links: { self: `${base}/endpoints/${e.id}` },
});

export const appCredJson = (base: string, a: ApplicationCredential) => ({
  id: a.id,
  name: a.name,
  description: a.description,
  user_id: a.userId,
  project_id: a.projectId,
  expires_at: a.expiresAt ? keystoneTime(a.expiresAt) : null,
  unrestricted: a.unrestricted,
  roles: a.roles.map((r) => ({ id: r.id, name: r.name, domain_id: null })),
  access_rules: a.accessRules ?? [],
  ...(a.secret ? { secret: a.secret } : {}),
  links: { self: `${base}/users/${a.userId}/application_credentials/${a.id}` },
});

const named = (o: { id: string; name?: string; domainId?: string; domainName?: string }) => ({
  id: o.id,
  ...(o.name !== undefined ? { name: o.name } : {}),
  ...(o.domainId !== undefined ? { domain: { id: o.domainId, name: o.domainName ?? o.domainId } } : {}),
});

export const assignmentJson = (base: string, a: RoleAssignment) => {
  const actor = a.user ? `users/${a.user.id}` : `groups/${a.group?.id ?? ''}`;
  const scope = a.scope.project
    ? { project: named(a.scope.project) }
    : a.scope.domain
      ? {
          domain: {
            id: a.scope.domain.id,
            ...(a.scope.domain.name !== undefined ? { name: a.scope.domain.name } : {}),
          },
        }
      : { system: { all: true } };
  const target = a.scope.project
    ? `projects/${a.scope.project.id}`
    : a.scope.domain
      ? `domains/${a.scope.domain.id}`
      : 'system';
  return {
    role: { id: a.role.id, ...(a.role.name !== undefined ? { name: a.role.name } : {}) },
    ...(a.user ? { user: named(a.user) } : {}),
    ...(a.group ? { group: named(a.group) } : {}),
    scope,
    links: {
      assignment: `${base}/${target}/${actor}/roles/${a.role.id}`,
      ...(a.viaGroupId ? { membership: `${base}/groups/${a.viaGroupId}/users/${a.user?.id ?? ''}` } : {}),
    },
  };
};

/** Keystone's list envelope. */
export function collection<T>(key: string, base: string, path: string, items: T[], next: string | null, url: URL) {
  let nextLink: string | null = null;
  if (next) {
    const q = new URLSearchParams(url.searchParams);
    q.set('marker', next);
    nextLink = `${base}${path}?${q.toString()}`;
  }
  const query = url.searchParams.toString();
  return { [key]: items, links: { self: `${base}${path}${query ? `?${query}` : ''}`, previous: null, next: nextLink } };
}
