import { join } from 'node:path';
import type * as P from '@stratus/db';
import { badRequest, forbidden, notFound, unauthorized } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { can, enforce } from '../policy/index.ts';
import { type KeyRepository, loadKeyRepository, repoStamp } from './keys.ts';
import { decideLockout, isLocked } from './lockout.ts';
import { verifyDummyPassword, verifyPassword } from './password.ts';
import { isRevoked, recordRevocations, type RevocationFields, type TokenFacts } from './revocation.ts';
import { cfg, db, DEFAULT_DOMAIN_ID, findDomain, IMPLIED, newId, toDomain, toProject } from './store.ts';
import { decryptToken, encryptToken, TokenFormatError, type TokenPayload } from './token-format.ts';
import type {
  AuthContext,
  AuthenticateOptions,
  AuthResult,
  CatalogEntry,
  Domain,
  KeystoneTokenBody,
  Project,
  Scope,
} from './types.ts';

const AUTH_FAILED = 'The request you have made requires authentication.';

// ---------------------------------------------------------------- keys

let repo: { r: KeyRepository; stamp: number; checkedAt: number; reloadedAt: number } | undefined;

function keysDir(): string {
  return join(cfg().stateDir, 'keys');
}

/** The key repository, re-read when another process rotated it (checked every 5 s). */
function keys(forceReload = false): KeyRepository {
  const now = Date.now();
  if (!repo) {
    const r = loadKeyRepository(keysDir());
    repo = { r, stamp: repoStamp(keysDir()), checkedAt: now, reloadedAt: now };
    return r;
  }
  if (forceReload ? now - repo.reloadedAt > 1000 : now - repo.checkedAt > 5000) {
    repo.checkedAt = now;
    const stamp = repoStamp(keysDir());
    if (forceReload || stamp !== repo.stamp) {
      repo = { r: loadKeyRepository(keysDir()), stamp, checkedAt: now, reloadedAt: now };
    }
  }
  return repo.r;
}

/** Forget the loaded key repository (after rotateKeys in this process, or in tests). */
export function reloadKeys(): void {
  repo = undefined;
}

function decode(token: string): TokenPayload {
  try {
    return decryptToken(token, keys());
  } catch (err) {
    if (err instanceof TokenFormatError && err.unknownKey) return decryptToken(token, keys(true));
    throw err;
  }
}

// ---------------------------------------------------------------- roles

type Target = { type: 'project' | 'domain' | 'system'; id: string };
type RoleRef = { id: string; name: string };

async function groupIdsOf(userId: string): Promise<string[]> {
  const rows = await db().groupMembership.findMany({ where: { userId }, select: { groupId: true } });
  return rows.map((r) => r.groupId);
}

/** Roles of a user on a target, through the user and their groups, implied roles added. */
export async function effectiveRoles(userId: string, target: Target): Promise<RoleRef[]> {
  const groups = await groupIdsOf(userId);
  const rows = await db().roleAssignment.findMany({
    where: {
      targetType: target.type,
      targetId: target.id,
      OR: [
        { actorType: 'user', actorId: userId },
        ...(groups.length ? [{ actorType: 'group', actorId: { in: groups } }] : []),
      ],
    },
    include: { role: true },
  });
  return withImplied(rows.map((r) => ({ id: r.role.id, name: r.role.name })));
}

async function withImplied(roles: RoleRef[]): Promise<RoleRef[]> {
  const names = new Set(roles.map((r) => r.name));
  const missing = new Set<string>();
  for (const r of roles) for (const i of IMPLIED[r.name] ?? []) if (!names.has(i)) missing.add(i);
  const out = new Map(roles.map((r) => [r.id, r]));
  if (missing.size) {
    for (const r of await db().role.findMany({ where: { name: { in: [...missing] } } }))
      out.set(r.id, { id: r.id, name: r.name });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------- formatting

/** Keystone's timestamp format: 2026-11-22T11:30:58.000000Z */
export function keystoneTime(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// ---------------------------------------------------------------- catalog

const catalogCache = new Map<string, { at: number; entries: CatalogEntry[] }>();
export function clearCatalogCache(): void {
  catalogCache.clear();
}

const TEMPLATE = /\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/g;
const HAS_TEMPLATE = /\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/;

/** The service catalog for a scope; endpoints with a project template need a project. */
export async function getCatalog(projectId: string | null): Promise<CatalogEntry[]> {
  const key = projectId ?? '';
  const hit = catalogCache.get(key);
  if (hit && Date.now() - hit.at < 10_000) return hit.entries;
  const services = await db().catalogService.findMany({
    where: { enabled: true },
    include: { endpoints: { where: { enabled: true }, orderBy: { interface: 'asc' } } },
    orderBy: { type: 'asc' },
  });
  const entries: CatalogEntry[] = services.map((s) => ({
    id: s.id,
    type: s.type,
    name: s.name,
    endpoints: s.endpoints
      .filter((e) => projectId !== null || !HAS_TEMPLATE.test(e.url))
      .map((e) => ({
        id: e.id,
        interface: e.interface,
        region_id: e.regionId,
        region: e.regionId,
        url: projectId ? e.url.replace(TEMPLATE, projectId) : e.url,
      })),
  }));
  if (catalogCache.size > 10_000) catalogCache.clear();
  catalogCache.set(key, { at: Date.now(), entries });
  return entries;
}

// ---------------------------------------------------------------- validation

interface Entry {
  context: AuthContext;
  body: KeystoneTokenBody;
  facts: TokenFacts;
  exp: number;
  cachedAt: number;
  full?: { catalog: CatalogEntry[]; body: KeystoneTokenBody };
}
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 50_000;
const cache = new Map<string, Entry>();

export function clearTokenCache(): void {
  cache.clear();
}

class TokenInvalid extends Error {}

/** Reads user, scope and roles for a decrypted token; TokenInvalid when any of them no longer allows it. */
async function materialize(tokenId: string, p: TokenPayload): Promise<Entry> {
  const user = await db().user.findUnique({ where: { id: p.u }, include: { domain: true } });
  if (!user || !user.enabled || !user.domain.enabled) throw new TokenInvalid('user disabled or gone');
  const body: KeystoneTokenBody = {
    methods: p.m,
    user: {
      id: user.id,
      name: user.name,
      domain: { id: user.domain.id, name: user.domain.name },
      password_expires_at: null,
    },
    audit_ids: p.pa ? [p.a, p.pa] : [p.a],
    expires_at: keystoneTime(p.exp),
    issued_at: keystoneTime(p.iat),
  };
  const domainIds = [user.domainId];
  let roles: RoleRef[] = [];
  let project: (P.Project & { domain: P.Domain }) | null = null;
  let scopeDomain: P.Domain | null = null;
  if (p.p) {
    project = await db().project.findUnique({ where: { id: p.p }, include: { domain: true } });
    if (!project || !project.enabled || !project.domain.enabled) throw new TokenInvalid('project disabled or gone');
    roles = await effectiveRoles(user.id, { type: 'project', id: project.id });
    body.project = { id: project.id, name: project.name, domain: { id: project.domain.id, name: project.domain.name } };
    body.is_domain = false;
    domainIds.push(project.domainId);
  } else if (p.d) {
    scopeDomain = await db().domain.findUnique({ where: { id: p.d } });
    if (!scopeDomain || !scopeDomain.enabled) throw new TokenInvalid('domain disabled or gone');
    roles = await effectiveRoles(user.id, { type: 'domain', id: scopeDomain.id });
    body.domain = { id: scopeDomain.id, name: scopeDomain.name };
    domainIds.push(scopeDomain.id);
  } else if (p.s) {
    roles = await effectiveRoles(user.id, { type: 'system', id: 'all' });
    body.system = { all: true };
  }
  if (p.ac) {
    const ac = await db().applicationCredential.findUnique({ where: { id: p.ac } });
    if (!ac || ac.userId !== user.id || (ac.expiresAt && ac.expiresAt.getTime() <= Date.now()))
      throw new TokenInvalid('application credential gone');
    const allowed = new Set(ac.roleIds);
    roles = await withImplied(roles.filter((r) => allowed.has(r.id)));
    body.application_credential = { id: ac.id, name: ac.name, restricted: !ac.unrestricted };
  }
  if ((p.p || p.d || p.s) && roles.length === 0) throw new TokenInvalid('no role on the scope any more');
  if (p.p || p.d || p.s) body.roles = roles;
  const context: AuthContext = {
    userId: user.id,
    userName: user.name,
    domainId: user.domainId,
    projectId: project?.id ?? null,
    projectName: project?.name ?? null,
    domainScopeId: scopeDomain?.id ?? null,
    system: p.s === true,
    roles: roles.map((r) => r.name),
    tokenId,
    auditId: p.a,
    expiresAt: new Date(p.exp),
    methods: p.m,
  };
  const facts: TokenFacts = {
    auditIds: body.audit_ids,
    userId: user.id,
    projectId: project?.id ?? null,
    domainIds,
    roleIds: roles.map((r) => r.id),
    appCredId: p.ac ?? null,
    issuedAt: p.iat,
  };
  return { context, body, facts, exp: p.exp, cachedAt: Date.now() };
}

async function check(tokenId: string): Promise<Entry> {
  const now = Date.now();
  const hit = cache.get(tokenId);
  if (hit && now - hit.cachedAt < CACHE_TTL_MS) {
    if (hit.exp <= now) throw new TokenInvalid('expired');
    if (await isRevoked(hit.facts)) throw new TokenInvalid('revoked');
    return hit;
  }
  let payload: TokenPayload;
  try {
    payload = decode(tokenId);
  } catch (err) {
    if (err instanceof TokenFormatError || err instanceof SyntaxError) throw new TokenInvalid(err.message);
    throw err;
  }
  if (payload.exp <= now) throw new TokenInvalid('expired');
  // Cheap pre-check before touching the database.
  if (
    await isRevoked({
      auditIds: payload.pa ? [payload.a, payload.pa] : [payload.a],
      userId: payload.u,
      projectId: payload.p ?? null,
      domainIds: [],
      roleIds: [],
      appCredId: payload.ac ?? null,
      issuedAt: payload.iat,
    })
  ) {
    throw new TokenInvalid('revoked');
  }
  const entry = await materialize(tokenId, payload);
  if (await isRevoked(entry.facts)) throw new TokenInvalid('revoked');
  if (cache.size >= CACHE_MAX) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(tokenId, entry);
  return entry;
}

/** The caller's token (X-Auth-Token): Unauthorized when invalid, expired or revoked. */
export async function validateToken(tokenId: string): Promise<AuthContext> {
  try {
    return (await check(tokenId)).context;
  } catch (err) {
    if (err instanceof TokenInvalid) throw unauthorized(AUTH_FAILED);
    throw err;
  }
}

/**
 * What a live-events socket presenting this token may receive: its project's events,
 * and cloud-wide ones when policy makes it a cloud admin. Null refuses the socket.
 */
export async function socketScopeForToken(tokenId: string): Promise<{ projectId: string; isAdmin: boolean } | null> {
  try {
    const ctx = (await check(tokenId)).context;
    if (!ctx.projectId) return null;
    return { projectId: ctx.projectId, isAdmin: can(ctx, 'stratus:cloud_admin') };
  } catch (err) {
    if (err instanceof TokenInvalid) return null;
    throw err;
  }
}

/**
 * Another token (X-Subject-Token) checked on behalf of `ctx`: NotFound when invalid,
 * like Keystone; Forbidden when policy does not let the caller see it.
 */
export async function validateSubjectToken(
  ctx: AuthContext,
  tokenId: string,
  opts: { noCatalog?: boolean } = {},
): Promise<{ context: AuthContext; body: KeystoneTokenBody }> {
  let entry: Entry;
  try {
    entry = await check(tokenId);
  } catch (err) {
    if (err instanceof TokenInvalid) throw notFound('Could not find token.');
    throw err;
  }
  enforce(ctx, 'identity:validate_token', { user_id: entry.context.userId });
  if (opts.noCatalog) return { context: entry.context, body: entry.body };
  // The same body object while the catalog is unchanged, so adapters can cache its JSON.
  const catalog = await catalogFor(entry);
  if (entry.full?.catalog !== catalog) entry.full = { catalog, body: { ...entry.body, catalog } };
  return { context: entry.context, body: entry.full.body };
}

const NO_CATALOG: CatalogEntry[] = [];
function catalogFor(entry: Entry): Promise<CatalogEntry[]> {
  const b = entry.body;
  if (!b.project && !b.domain && !b.system) return Promise.resolve(NO_CATALOG);
  return getCatalog(b.project?.id ?? null);
}

/** Revokes a token (and the tokens rescoped from it) everywhere at once. */
export async function revokeToken(ctx: AuthContext, tokenId: string): Promise<void> {
  let entry: Entry;
  try {
    entry = await check(tokenId);
  } catch (err) {
    if (err instanceof TokenInvalid) throw notFound('Could not find token.');
    throw err;
  }
  enforce(ctx, 'identity:revoke_token', { user_id: entry.context.userId });
  await recordRevocations([{ auditId: entry.context.auditId }]);
  cache.delete(tokenId);
}

/** Internal: revoke every token matching the fields (user disabled, role removed …). */
export async function revokeUserTokens(fields: RevocationFields[]): Promise<void> {
  await recordRevocations(fields);
}

// ---------------------------------------------------------------- authentication

type ResolvedScope =
  | { kind: 'project'; project: P.Project & { domain: P.Domain } }
  | { kind: 'domain'; domain: P.Domain }
  | { kind: 'system' }
  | { kind: 'none' };

async function resolveScope(
  userId: string,
  scope: Scope | undefined,
  defaultProjectId: string | null,
): Promise<ResolvedScope> {
  const s = scope ?? {};
  const kinds = [s.projectId || s.projectName, s.domainId || s.domainName, s.system].filter(Boolean).length;
  if (kinds > 1) throw badRequest('Only one scope (project, domain or system) may be requested.');
  if (s.projectId || s.projectName) {
    let project: (P.Project & { domain: P.Domain }) | null;
    if (s.projectId) {
      project = await db().project.findUnique({ where: { id: s.projectId }, include: { domain: true } });
    } else {
      const ref = s.projectDomain ?? DEFAULT_DOMAIN_ID;
      const dom = (await findDomain({ id: ref })) ?? (await findDomain({ name: ref }));
      project = dom
        ? await db().project.findUnique({
            where: { domainId_name: { domainId: dom.id, name: s.projectName ?? '' } },
            include: { domain: true },
          })
        : null;
    }
    if (!project || !project.enabled || !project.domain.enabled)
      throw unauthorized(`Could not find an enabled project to scope to.`);
    const roles = await effectiveRoles(userId, { type: 'project', id: project.id });
    if (roles.length === 0) throw unauthorized(`User ${userId} has no access to project ${project.id}.`);
    return { kind: 'project', project };
  }
  if (s.domainId || s.domainName) {
    const domain = await findDomain({ id: s.domainId, name: s.domainId ? undefined : s.domainName });
    if (!domain || !domain.enabled) throw unauthorized('Could not find an enabled domain to scope to.');
    const roles = await effectiveRoles(userId, { type: 'domain', id: domain.id });
    if (roles.length === 0) throw unauthorized(`User ${userId} has no access to domain ${domain.id}.`);
    return { kind: 'domain', domain };
  }
  if (s.system) {
    const roles = await effectiveRoles(userId, { type: 'system', id: 'all' });
    if (roles.length === 0) throw unauthorized(`User ${userId} has no access to the system.`);
    return { kind: 'system' };
  }
  if (defaultProjectId) {
    // Keystone scopes to the default project when nothing was asked and access exists.
    const project = await db().project.findUnique({ where: { id: defaultProjectId }, include: { domain: true } });
    if (
      project?.enabled &&
      project.domain.enabled &&
      (await effectiveRoles(userId, { type: 'project', id: project.id })).length > 0
    ) {
      return { kind: 'project', project };
    }
  }
  return { kind: 'none' };
}

async function findUserForAuth(o: {
  userId?: string;
  userName?: string;
  userDomain?: string;
}): Promise<(P.User & { domain: P.Domain }) | null> {
  if (o.userId) return db().user.findUnique({ where: { id: o.userId }, include: { domain: true } });
  if (!o.userName) throw badRequest('Expecting to find user name or id in the auth request.');
  const ref = o.userDomain ?? DEFAULT_DOMAIN_ID;
  const dom = (await findDomain({ id: ref })) ?? (await findDomain({ name: ref }));
  if (!dom) return null;
  return db().user.findUnique({
    where: { domainId_name: { domainId: dom.id, name: o.userName } },
    include: { domain: true },
  });
}

async function passwordAuth(o: {
  userId?: string;
  userName?: string;
  userDomain?: string;
  password: string;
}): Promise<P.User & { domain: P.Domain }> {
  const user = await findUserForAuth(o);
  const now = new Date();
  if (!user) {
    await verifyDummyPassword(o.password);
    throw unauthorized(AUTH_FAILED);
  }
  const c = cfg();
  const policy = { attempts: c.lockoutAttempts, minutes: c.lockoutMinutes };
  if (isLocked(user, now)) {
    await verifyDummyPassword(o.password);
    logger().info({ userId: user.id }, 'authentication refused: account locked');
    throw unauthorized(AUTH_FAILED);
  }
  const ok = await verifyPassword(user.passwordHash, o.password);
  const decision = decideLockout(user, ok, policy, now);
  if (decision.kind !== 'locked' && decision.next) {
    await db().user.update({ where: { id: user.id }, data: decision.next });
  }
  if (decision.kind === 'failed') {
    if (decision.next.lockedUntil)
      logger().warn({ userId: user.id, until: decision.next.lockedUntil }, 'account locked after failed passwords');
    throw unauthorized(AUTH_FAILED);
  }
  if (!user.enabled || !user.domain.enabled) throw unauthorized(AUTH_FAILED);
  return user;
}

async function issue(payload: TokenPayload, noCatalog: boolean | undefined): Promise<AuthResult> {
  const tokenId = encryptToken(payload, keys());
  let entry: Entry;
  try {
    entry = await materialize(tokenId, payload);
  } catch (err) {
    if (err instanceof TokenInvalid) throw unauthorized(AUTH_FAILED);
    throw err;
  }
  cache.set(tokenId, entry);
  const body = noCatalog ? entry.body : { ...entry.body, catalog: await catalogFor(entry) };
  return { tokenId, context: entry.context, body };
}

function scopeFields(s: ResolvedScope): Pick<TokenPayload, 'p' | 'd' | 's'> {
  if (s.kind === 'project') return { p: s.project.id };
  if (s.kind === 'domain') return { d: s.domain.id };
  if (s.kind === 'system') return { s: true };
  return {};
}

function auditId(): string {
  return Buffer.from(newId(), 'hex').subarray(0, 16).toString('base64url').slice(0, 22);
}

/** Keystone's POST /v3/auth/tokens: password, token (rescope) or application credential. */
export async function authenticate(opts: AuthenticateOptions): Promise<AuthResult> {
  const now = Date.now();
  const lifetime = cfg().tokenLifetimeSeconds * 1000;
  if (opts.method === 'password') {
    const user = await passwordAuth(opts);
    const scope = await resolveScope(user.id, opts.scope, user.defaultProjectId);
    return issue(
      { u: user.id, m: ['password'], ...scopeFields(scope), iat: now, exp: now + lifetime, a: auditId() },
      opts.noCatalog,
    );
  }
  if (opts.method === 'token') {
    let source: Entry;
    try {
      source = await check(opts.tokenId);
    } catch (err) {
      if (err instanceof TokenInvalid) throw unauthorized(AUTH_FAILED);
      throw err;
    }
    if (source.body.application_credential)
      throw forbidden('A token made from an application credential cannot be rescoped.');
    const user = await db().user.findUnique({ where: { id: source.context.userId } });
    if (!user) throw unauthorized(AUTH_FAILED);
    const scope = await resolveScope(user.id, opts.scope, user.defaultProjectId);
    const methods = [...new Set(['token', ...source.context.methods])];
    return issue(
      {
        u: user.id,
        m: methods,
        ...scopeFields(scope),
        iat: now,
        exp: source.exp,
        a: auditId(),
        pa: source.context.auditId,
      },
      opts.noCatalog,
    );
  }
  // application_credential
  let ac: P.ApplicationCredential | null = null;
  if (opts.id) ac = await db().applicationCredential.findUnique({ where: { id: opts.id } });
  else if (opts.name) {
    const user = await findUserForAuth({ userId: opts.userId, userName: opts.userName, userDomain: opts.userDomain });
    ac = user
      ? await db().applicationCredential.findUnique({ where: { userId_name: { userId: user.id, name: opts.name } } })
      : null;
  } else throw badRequest('Expecting to find the application credential id or name.');
  if (!ac) {
    await verifyDummyPassword(opts.secret);
    throw unauthorized(AUTH_FAILED);
  }
  if (!(await verifyPassword(ac.secretHash, opts.secret))) throw unauthorized(AUTH_FAILED);
  if (ac.expiresAt && ac.expiresAt.getTime() <= now) throw unauthorized(AUTH_FAILED);
  const exp = Math.min(now + lifetime, ac.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
  return issue(
    { u: ac.userId, m: ['application_credential'], p: ac.projectId, iat: now, exp, a: auditId(), ac: ac.id },
    opts.noCatalog,
  );
}

// ---------------------------------------------------------------- what a token can scope to

async function targetsOf(userId: string, type: 'project' | 'domain'): Promise<string[]> {
  const groups = await groupIdsOf(userId);
  const rows = await db().roleAssignment.findMany({
    where: {
      targetType: type,
      OR: [
        { actorType: 'user', actorId: userId },
        ...(groups.length ? [{ actorType: 'group', actorId: { in: groups } }] : []),
      ],
    },
    select: { targetId: true },
    distinct: ['targetId'],
  });
  return rows.map((r) => r.targetId);
}

/** Projects the caller can scope a token to (GET /v3/auth/projects). */
export async function listUserProjects(ctx: AuthContext): Promise<Project[]> {
  const ids = await targetsOf(ctx.userId, 'project');
  const rows = await db().project.findMany({
    where: { id: { in: ids }, enabled: true, domain: { enabled: true } },
    orderBy: { name: 'asc' },
  });
  return rows.map(toProject);
}

/** Domains the caller can scope a token to (GET /v3/auth/domains). */
export async function listUserDomains(ctx: AuthContext): Promise<Domain[]> {
  const ids = await targetsOf(ctx.userId, 'domain');
  const rows = await db().domain.findMany({ where: { id: { in: ids }, enabled: true }, orderBy: { name: 'asc' } });
  return rows.map(toDomain);
}

/** Whether the caller has a role on the system (GET /v3/auth/system). */
export async function hasSystemAccess(ctx: AuthContext): Promise<boolean> {
  return (await effectiveRoles(ctx.userId, { type: 'system', id: 'all' })).length > 0;
}
