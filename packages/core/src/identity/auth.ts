import { join } from 'node:path';
import type * as P from '@stratus/db';
import { Prisma } from '@stratus/db';
import { z } from 'zod';
import { badRequest, forbidden, notFound, unauthorized } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { can, enforce, registerPolicyDefaults } from '../policy/index.ts';
import { CATALOG_EVENT } from './events.ts';
import { type KeyRepository, loadKeyRepository, repoStamp } from './keys.ts';
import { decideLockout, isLocked } from './lockout.ts';
import { verifyDummyPassword, verifyPassword } from './password.ts';
import {
  ensureIdentityListener,
  eventsLive,
  isRevoked,
  onIdentityEvent,
  recordRevocations,
  type RevocationFields,
  type TokenFacts,
} from './revocation.ts';
import { BUILTIN_ROLES, cfg, db, DEFAULT_DOMAIN_ID, findDomain, IMPLIED, newId, toDomain, toProject } from './store.ts';
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

/*
 * The built-in roles by name, for implied roles. They cannot be renamed or deleted
 * (roles.ts refuses), so their ids are read once per process.
 */
let builtins: Promise<Map<string, RoleRef>> | undefined;
async function builtinRoles(): Promise<Map<string, RoleRef>> {
  builtins ??= db()
    .role.findMany({ where: { name: { in: [...BUILTIN_ROLES] } }, select: { id: true, name: true } })
    .then((rows) => new Map(rows.map((r) => [r.name, r])));
  let m: Map<string, RoleRef>;
  try {
    m = await builtins;
  } catch (err) {
    builtins = undefined;
    throw err;
  }
  // Not seeded yet (a fresh database): ask again next time.
  if (m.size < BUILTIN_ROLES.length) builtins = undefined;
  return m;
}

async function withImplied(roles: RoleRef[]): Promise<RoleRef[]> {
  const out = new Map(roles.map((r) => [r.id, r]));
  const names = new Set(roles.map((r) => r.name));
  let known: Map<string, RoleRef> | undefined;
  for (const r of roles) {
    for (const i of IMPLIED[r.name] ?? []) {
      if (names.has(i)) continue;
      known ??= await builtinRoles();
      const ref = known.get(i);
      if (ref) {
        out.set(ref.id, ref);
        names.add(i);
      }
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------- what a token needs, in one query

/** The user to load: by id, or by name in a domain given by id or name (Keystone accepts either). */
type UserRef = { id: string } | { name: string; domainRef: string };
/** The scope to load with it; `defaultProject` is the user's default project. */
type TargetSpec =
  | { kind: 'project'; id: string }
  | { kind: 'projectByName'; name: string; domainRef: string }
  | { kind: 'defaultProject' }
  | { kind: 'domain'; id: string }
  | { kind: 'domainByName'; name: string }
  | { kind: 'system' }
  | { kind: 'none' };

const FactsRow = z.object({
  userId: z.string(),
  userName: z.string(),
  userDomainId: z.string(),
  userEnabled: z.boolean(),
  passwordHash: z.string().nullable(),
  failedAttempts: z.number(),
  lockedUntil: z.date().nullable(),
  defaultProjectId: z.string().nullable(),
  userDomainName: z.string(),
  userDomainEnabled: z.boolean(),
  targetId: z.string().nullable(),
  targetName: z.string().nullable(),
  targetEnabled: z.boolean().nullable(),
  targetDomainId: z.string().nullable(),
  targetDomainName: z.string().nullable(),
  targetDomainEnabled: z.boolean().nullable(),
  roles: z.array(z.object({ id: z.string(), name: z.string() })).nullable(),
});
type Facts = z.infer<typeof FactsRow>;

function targetSql(t: TargetSpec): { type: string; sql: Prisma.Sql } {
  const project = (cond: Prisma.Sql) =>
    Prisma.sql`SELECT p.id AS "targetId", p.name AS "targetName", p.enabled AS "targetEnabled",
        pd.id AS "targetDomainId", pd.name AS "targetDomainName", pd.enabled AS "targetDomainEnabled"
      FROM "Project" p JOIN "Domain" pd ON pd.id = p."domainId" WHERE ${cond} LIMIT 1`;
  const domain = (cond: Prisma.Sql) =>
    Prisma.sql`SELECT d.id AS "targetId", d.name AS "targetName", d.enabled AS "targetEnabled",
        d.id AS "targetDomainId", d.name AS "targetDomainName", d.enabled AS "targetDomainEnabled"
      FROM "Domain" d WHERE ${cond} LIMIT 1`;
  switch (t.kind) {
    case 'project':
      return { type: 'project', sql: project(Prisma.sql`p.id = ${t.id}`) };
    case 'projectByName':
      return {
        type: 'project',
        sql: project(
          Prisma.sql`p.name = ${t.name} AND p."domainId" = (SELECT d.id FROM "Domain" d
            WHERE d.id = ${t.domainRef} OR d.name = ${t.domainRef} ORDER BY d.id = ${t.domainRef} DESC LIMIT 1)`,
        ),
      };
    case 'defaultProject':
      return { type: 'project', sql: project(Prisma.sql`p.id = u."defaultProjectId"`) };
    case 'domain':
      return { type: 'domain', sql: domain(Prisma.sql`d.id = ${t.id}`) };
    case 'domainByName':
      return { type: 'domain', sql: domain(Prisma.sql`d.name = ${t.name}`) };
    case 'system':
      return {
        type: 'system',
        sql: Prisma.sql`SELECT 'all'::text AS "targetId", NULL::text AS "targetName", true AS "targetEnabled",
          NULL::text AS "targetDomainId", NULL::text AS "targetDomainName", NULL::boolean AS "targetDomainEnabled"`,
      };
    case 'none':
      return {
        type: 'none',
        sql: Prisma.sql`SELECT NULL::text AS "targetId", NULL::text AS "targetName", NULL::boolean AS "targetEnabled",
          NULL::text AS "targetDomainId", NULL::text AS "targetDomainName", NULL::boolean AS "targetDomainEnabled"
          WHERE false`,
      };
  }
}

/**
 * The user (with their domain), the scope target (with its domain) and the user's roles
 * on it, directly or through groups: one round trip, for issuing and for validating.
 */
async function loadFacts(user: UserRef, target: TargetSpec): Promise<Facts | null> {
  const t = targetSql(target);
  const where =
    'id' in user
      ? Prisma.sql`u.id = ${user.id}`
      : Prisma.sql`u.name = ${user.name} AND (ud.id = ${user.domainRef} OR ud.name = ${user.domainRef})`;
  // A domain given by id wins over another domain of that name.
  const order = 'id' in user ? Prisma.sql`u.id` : Prisma.sql`ud.id = ${user.domainRef} DESC`;
  const rows = await db().$queryRaw<unknown[]>`
    SELECT u.id AS "userId", u.name AS "userName", u."domainId" AS "userDomainId", u.enabled AS "userEnabled",
      u."passwordHash", u."failedAttempts", u."lockedUntil", u."defaultProjectId",
      ud.name AS "userDomainName", ud.enabled AS "userDomainEnabled",
      t."targetId", t."targetName", t."targetEnabled", t."targetDomainId", t."targetDomainName", t."targetDomainEnabled",
      (SELECT json_agg(DISTINCT jsonb_build_object('id', r.id, 'name', r.name))
         FROM "RoleAssignment" ra JOIN "Role" r ON r.id = ra."roleId"
        WHERE ra."targetType" = ${t.type} AND ra."targetId" = t."targetId"
          AND ((ra."actorType" = 'user' AND ra."actorId" = u.id)
            OR (ra."actorType" = 'group' AND ra."actorId" IN
                  (SELECT gm."groupId" FROM "GroupMembership" gm WHERE gm."userId" = u.id)))) AS roles
    FROM "User" u JOIN "Domain" ud ON ud.id = u."domainId"
    LEFT JOIN LATERAL (${t.sql}) t ON true
    WHERE ${where}
    ORDER BY ${order}
    LIMIT 1`;
  const row = rows[0];
  return row === undefined ? null : FactsRow.parse(row);
}

/** Which target a token's payload is scoped to. */
function specOfPayload(p: TokenPayload): TargetSpec {
  if (p.p) return { kind: 'project', id: p.p };
  if (p.d) return { kind: 'domain', id: p.d };
  if (p.s) return { kind: 'system' };
  return { kind: 'none' };
}

/** The target an auth request asks for; no scope means the default project, when usable. */
function specOfScope(scope: Scope | undefined): TargetSpec {
  const s = scope ?? {};
  const kinds = [s.projectId || s.projectName, s.domainId || s.domainName, s.system].filter(Boolean).length;
  if (kinds > 1) throw badRequest('Only one scope (project, domain or system) may be requested.');
  if (s.projectId) return { kind: 'project', id: s.projectId };
  if (s.projectName)
    return { kind: 'projectByName', name: s.projectName, domainRef: s.projectDomain ?? DEFAULT_DOMAIN_ID };
  if (s.domainId) return { kind: 'domain', id: s.domainId };
  if (s.domainName) return { kind: 'domainByName', name: s.domainName };
  if (s.system) return { kind: 'system' };
  return { kind: 'defaultProject' };
}

/** The scope fields of a new token, or Unauthorized with Keystone's reasons. */
function resolveScope(f: Facts, spec: TargetSpec): Pick<TokenPayload, 'p' | 'd' | 's'> {
  const usable = f.targetId !== null && f.targetEnabled === true && f.targetDomainEnabled !== false;
  const hasRoles = (f.roles?.length ?? 0) > 0;
  switch (spec.kind) {
    case 'project':
    case 'projectByName':
      if (!usable || f.targetId === null) throw unauthorized('Could not find an enabled project to scope to.');
      if (!hasRoles) throw unauthorized(`User ${f.userId} has no access to project ${f.targetId}.`);
      return { p: f.targetId };
    case 'domain':
    case 'domainByName':
      if (!usable || f.targetId === null) throw unauthorized('Could not find an enabled domain to scope to.');
      if (!hasRoles) throw unauthorized(`User ${f.userId} has no access to domain ${f.targetId}.`);
      return { d: f.targetId };
    case 'system':
      if (!hasRoles) throw unauthorized(`User ${f.userId} has no access to the system.`);
      return { s: true };
    case 'defaultProject':
      // Keystone scopes to the default project when nothing was asked and access exists.
      return usable && hasRoles && f.targetId !== null ? { p: f.targetId } : {};
    case 'none':
      return {};
  }
}

// ---------------------------------------------------------------- formatting

/** Keystone's timestamp format: 2026-11-22T11:30:58.000000Z */
export function keystoneTime(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// ---------------------------------------------------------------- catalog

/*
 * The catalog per project, kept until a catalog change anywhere (its NOTIFY event) or
 * a gap in the event connection clears it; not cached while that connection is down.
 */
const catalogCache = new Map<string, CatalogEntry[]>();
let catalogGeneration = 0;
export function clearCatalogCache(): void {
  catalogGeneration++;
  catalogCache.clear();
}
onIdentityEvent(CATALOG_EVENT, clearCatalogCache);

const TEMPLATE = /\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/g;
const HAS_TEMPLATE = /\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/;

/** The service catalog for a scope; endpoints with a project template need a project. */
export async function getCatalog(projectId: string | null): Promise<CatalogEntry[]> {
  const key = projectId ?? '';
  await ensureIdentityListener();
  const hit = eventsLive() ? catalogCache.get(key) : undefined;
  if (hit) return hit;
  const generation = catalogGeneration;
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
  // Not when a change arrived while reading (the rows may predate it).
  if (eventsLive() && generation === catalogGeneration) {
    if (catalogCache.size > 10_000) catalogCache.clear();
    catalogCache.set(key, entries);
  }
  return entries;
}

// ---------------------------------------------------------------- validation

interface Entry {
  context: AuthContext;
  body: KeystoneTokenBody;
  facts: TokenFacts;
  payload: TokenPayload;
  exp: number;
  cachedAt: number;
  full?: { catalog: CatalogEntry[]; body: KeystoneTokenBody };
}
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 50_000;
const cache = new Map<string, Entry>();

export function clearTokenCache(): void {
  cache.clear();
  builtins = undefined;
}

class TokenInvalid extends Error {}

/** A token's entry from the loaded facts; TokenInvalid when any of them no longer allows it. */
async function buildEntry(
  tokenId: string,
  p: TokenPayload,
  f: Facts | null,
  ac?: P.ApplicationCredential | null,
): Promise<Entry> {
  if (!f?.userEnabled || !f.userDomainEnabled) throw new TokenInvalid('user disabled or gone');
  const scoped = Boolean(p.p || p.d || p.s);
  if (scoped && (f.targetId === null || (p.p ?? p.d ?? 'all') !== f.targetId))
    throw new TokenInvalid('scope target gone');
  const body: KeystoneTokenBody = {
    methods: p.m,
    user: {
      id: f.userId,
      name: f.userName,
      domain: { id: f.userDomainId, name: f.userDomainName },
      password_expires_at: null,
    },
    audit_ids: p.pa ? [p.a, p.pa] : [p.a],
    expires_at: keystoneTime(p.exp),
    issued_at: keystoneTime(p.iat),
  };
  const domainIds = [f.userDomainId];
  let roles: RoleRef[] = scoped ? await withImplied(f.roles ?? []) : [];
  let project: { id: string; name: string } | null = null;
  let scopeDomainId: string | null = null;
  if (p.p || p.d) {
    if (!f.targetEnabled || !f.targetDomainEnabled || !f.targetDomainId || f.targetName === null)
      throw new TokenInvalid('scope disabled or gone');
    const domain = { id: f.targetDomainId, name: f.targetDomainName ?? f.targetDomainId };
    if (p.p) {
      project = { id: p.p, name: f.targetName };
      body.project = { ...project, domain };
      body.is_domain = false;
    } else {
      scopeDomainId = domain.id;
      body.domain = domain;
    }
    domainIds.push(domain.id);
  } else if (p.s) {
    body.system = { all: true };
  }
  if (p.ac) {
    if (!ac || ac.userId !== f.userId || (ac.expiresAt && ac.expiresAt.getTime() <= Date.now()))
      throw new TokenInvalid('application credential gone');
    const allowed = new Set(ac.roleIds);
    roles = await withImplied(roles.filter((r) => allowed.has(r.id)));
    body.application_credential = { id: ac.id, name: ac.name, restricted: !ac.unrestricted };
  }
  if (scoped && roles.length === 0) throw new TokenInvalid('no role on the scope any more');
  if (scoped) body.roles = roles;
  const context: AuthContext = {
    userId: f.userId,
    userName: f.userName,
    domainId: f.userDomainId,
    projectId: project?.id ?? null,
    projectName: project?.name ?? null,
    domainScopeId: scopeDomainId,
    system: p.s === true,
    roles: roles.map((r) => r.name),
    tokenId,
    auditId: p.a,
    expiresAt: new Date(p.exp),
    methods: p.m,
  };
  const facts: TokenFacts = {
    auditIds: body.audit_ids,
    userId: f.userId,
    projectId: project?.id ?? null,
    domainIds,
    roleIds: roles.map((r) => r.id),
    appCredId: p.ac ?? null,
    issuedAt: p.iat,
  };
  return { context, body, facts, payload: p, exp: p.exp, cachedAt: Date.now() };
}

/** Reads user, scope and roles for a decrypted token (one query; two for application credentials). */
async function materialize(tokenId: string, p: TokenPayload): Promise<Entry> {
  const [f, ac] = await Promise.all([
    loadFacts({ id: p.u }, specOfPayload(p)),
    p.ac ? db().applicationCredential.findUnique({ where: { id: p.ac } }) : null,
  ]);
  return buildEntry(tokenId, p, f, ac);
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
 * cloud-wide ones when policy makes it a cloud admin, and those addressed to its user
 * (its own role assignments changed). Null refuses the socket.
 */
export async function socketScopeForToken(
  tokenId: string,
): Promise<{ projectId: string; isAdmin: boolean; userId: string } | null> {
  try {
    const ctx = (await check(tokenId)).context;
    if (!ctx.projectId) return null;
    return { projectId: ctx.projectId, isAdmin: can(ctx, 'stratus:cloud_admin'), userId: ctx.userId };
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

function userRefOf(o: { userId?: string; userName?: string; userDomain?: string }): UserRef {
  if (o.userId) return { id: o.userId };
  if (!o.userName) throw badRequest('Expecting to find user name or id in the auth request.');
  return { name: o.userName, domainRef: o.userDomain ?? DEFAULT_DOMAIN_ID };
}

/** Checks the password (argon2id) against the loaded user; the same answer and time for every failure. */
async function passwordAuth(f: Facts | null, password: string): Promise<Facts> {
  const now = new Date();
  if (!f) {
    await verifyDummyPassword(password);
    throw unauthorized(AUTH_FAILED);
  }
  const c = cfg();
  const policy = { attempts: c.lockoutAttempts, minutes: c.lockoutMinutes };
  if (isLocked(f, now)) {
    await verifyDummyPassword(password);
    logger().info({ userId: f.userId }, 'authentication refused: account locked');
    throw unauthorized(AUTH_FAILED);
  }
  const ok = await verifyPassword(f.passwordHash, password);
  const decision = decideLockout(f, ok, policy, now);
  if (decision.kind !== 'locked' && decision.next) {
    await db().user.update({ where: { id: f.userId }, data: decision.next });
  }
  if (decision.kind === 'failed') {
    if (decision.next.lockedUntil)
      logger().warn({ userId: f.userId, until: decision.next.lockedUntil }, 'account locked after failed passwords');
    throw unauthorized(AUTH_FAILED);
  }
  if (!f.userEnabled || !f.userDomainEnabled) throw unauthorized(AUTH_FAILED);
  return f;
}

/** Encrypts the payload and builds its body from facts already loaded (no further query). */
async function issue(
  payload: TokenPayload,
  f: Facts,
  noCatalog: boolean | undefined,
  ac?: P.ApplicationCredential,
): Promise<AuthResult> {
  const tokenId = encryptToken(payload, keys());
  let entry: Entry;
  try {
    entry = await buildEntry(tokenId, payload, f, ac);
  } catch (err) {
    if (err instanceof TokenInvalid) throw unauthorized(AUTH_FAILED);
    throw err;
  }
  if (cache.size >= CACHE_MAX) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(tokenId, entry);
  const body = noCatalog ? entry.body : { ...entry.body, catalog: await catalogFor(entry) };
  return { tokenId, context: entry.context, body };
}

function auditId(): string {
  return Buffer.from(newId(), 'hex').subarray(0, 16).toString('base64url').slice(0, 22);
}

async function checkedSource(tokenId: string): Promise<Entry> {
  try {
    return await check(tokenId);
  } catch (err) {
    if (err instanceof TokenInvalid) throw unauthorized(AUTH_FAILED);
    throw err;
  }
}

/**
 * Keystone's POST /v3/auth/tokens: password, token (rescope) or application credential.
 * Password auth is one query (user, scope and roles together), one argon2id
 * verification, and a write only when the lockout counters change.
 */
export async function authenticate(opts: AuthenticateOptions): Promise<AuthResult> {
  const now = Date.now();
  const lifetime = cfg().tokenLifetimeSeconds * 1000;
  if (opts.method === 'password') {
    const spec = specOfScope(opts.scope);
    const f = await passwordAuth(await loadFacts(userRefOf(opts), spec), opts.password);
    return issue(
      { u: f.userId, m: ['password'], ...resolveScope(f, spec), iat: now, exp: now + lifetime, a: auditId(), o: now },
      f,
      opts.noCatalog,
    );
  }
  if (opts.method === 'token') {
    const source = await checkedSource(opts.tokenId);
    if (source.body.application_credential)
      throw forbidden('A token made from an application credential cannot be rescoped.');
    const spec = specOfScope(opts.scope);
    const f = await loadFacts({ id: source.context.userId }, spec);
    if (!f) throw unauthorized(AUTH_FAILED);
    const sp = source.payload;
    return issue(
      {
        u: f.userId,
        m: [...new Set(['token', ...sp.m])],
        ...resolveScope(f, spec),
        iat: now,
        // Rescoping never extends a token (Keystone): the new one expires with its source.
        exp: sp.exp,
        a: auditId(),
        // Keystone's audit chain: the id of the token first issued, so revoking it reaches the whole chain.
        pa: sp.pa ?? sp.a,
        o: sp.o ?? sp.iat,
      },
      f,
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
  const f = await loadFacts({ id: ac.userId }, { kind: 'project', id: ac.projectId });
  if (!f) throw unauthorized(AUTH_FAILED);
  const exp = Math.min(now + lifetime, ac.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
  return issue(
    { u: ac.userId, m: ['application_credential'], p: ac.projectId, iat: now, exp, a: auditId(), ac: ac.id, o: now },
    f,
    opts.noCatalog,
    ac,
  );
}

async function findUserForAuth(o: { userId?: string; userName?: string; userDomain?: string }): Promise<P.User | null> {
  const ref = userRefOf(o);
  if ('id' in ref) return db().user.findUnique({ where: { id: ref.id } });
  const dom = (await findDomain({ id: ref.domainRef })) ?? (await findDomain({ name: ref.domainRef }));
  if (!dom) return null;
  return db().user.findUnique({ where: { domainId_name: { domainId: dom.id, name: ref.name } } });
}

registerPolicyDefaults([
  {
    name: 'identity:renew_session',
    rule: 'rule:owner',
    description: 'Renew one’s own dashboard session token (fresh lifetime, bounded by sessionMaxLifetimeSeconds).',
  },
]);

/**
 * Dashboard sessions: a new token with a fresh lifetime for a token that is still
 * valid, when its user is still enabled and still holds roles on its scope (read from
 * the database now, not from the cache). The session cannot outlive
 * `sessionMaxLifetimeSeconds` counted from the password sign-in, which every token of
 * the chain carries. Deliberately not a Keystone API: a client holding a token must
 * not be able to extend it; the web server calls this for its own sessions only.
 */
export async function renewSessionToken(tokenId: string): Promise<AuthResult> {
  const source = await checkedSource(tokenId);
  const sp = source.payload;
  enforce(source.context, 'identity:renew_session', { user_id: sp.u });
  if (sp.ac) throw forbidden('A token made from an application credential cannot be renewed.');
  const now = Date.now();
  const origin = sp.o ?? sp.iat;
  const end = origin + cfg().sessionMaxLifetimeSeconds * 1000;
  if (now >= end) throw unauthorized('The session has reached its maximum lifetime; sign in again.');
  const payload: TokenPayload = {
    u: sp.u,
    m: [...new Set(['token', ...sp.m])],
    ...(sp.p ? { p: sp.p } : {}),
    ...(sp.d ? { d: sp.d } : {}),
    ...(sp.s ? { s: true as const } : {}),
    iat: now,
    exp: Math.min(now + cfg().tokenLifetimeSeconds * 1000, end),
    a: auditId(),
    pa: sp.pa ?? sp.a,
    o: origin,
  };
  const f = await loadFacts({ id: sp.u }, specOfPayload(sp));
  if (!f) throw unauthorized(AUTH_FAILED);
  return issue(payload, f, true);
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
