import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PrismaClient } from '@stratus/db';
import type { Config } from '../platform/config.ts';
import { clearCatalogCache } from './auth.ts';
import { emitCatalogChanged } from './events.ts';
import { ensureKeyRepository } from './keys.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { DEFAULT_DOMAIN_ID, ensureIdentityDefaults, newId } from './store.ts';

/*
 * keystone-manage bootstrap, the Stratus way: default domain, built-in roles, the
 * admin and demo projects and users, RegionOne and a catalog entry (public, internal,
 * admin) for every Stratus API. Idempotent: a second run changes nothing unless the
 * configuration (public URL, admin password) changed.
 */
export interface BootstrapResult {
  authUrl: string;
  admin: { user: string; project: string; password: string | null };
  demo: { user: string; project: string; password: string | null };
  credentialsFile: string;
  cloudsYaml: { path: string; written: boolean; reason?: string };
}

export const REGION = 'RegionOne';
const MARKER = '# Written by Stratus';

/** The catalog: [type, name, path under the public URL]. */
export function catalogEntries(publicUrl: string): Array<{ type: string; name: string; url: string }> {
  const base = publicUrl.replace(/\/+$/, '');
  return [
    { type: 'identity', name: 'keystone', url: `${base}/identity/v3` },
    { type: 'compute', name: 'nova', url: `${base}/compute/v2.1` },
    { type: 'placement', name: 'placement', url: `${base}/placement` },
    { type: 'network', name: 'neutron', url: `${base}/network` },
    { type: 'image', name: 'glance', url: `${base}/image` },
    { type: 'volumev3', name: 'cinderv3', url: `${base}/volume/v3/$(project_id)s` },
    { type: 'block-storage', name: 'cinder', url: `${base}/volume/v3/$(project_id)s` },
    { type: 'object-store', name: 'swift', url: `${base}/object-store/v1/AUTH_$(project_id)s` },
    { type: 'orchestration', name: 'heat', url: `${base}/orchestration/v1/$(project_id)s` },
  ];
}

function stableId(key: string): string {
  return createHash('sha256').update(`stratus-bootstrap:${key}`).digest('hex').slice(0, 32);
}

function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

function readCredentials(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([a-z ]+ password): (\S+)$/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

async function ensureProject(db: PrismaClient, name: string, description: string): Promise<string> {
  const p = await db.project.upsert({
    where: { domainId_name: { domainId: DEFAULT_DOMAIN_ID, name } },
    create: { id: newId(), name, domainId: DEFAULT_DOMAIN_ID, description },
    update: {},
  });
  return p.id;
}

/** Creates the user, or sets `password` when given and different; returns the password to report. */
async function ensureUser(
  db: PrismaClient,
  name: string,
  projectId: string,
  wanted: string | undefined,
  known: string | undefined,
): Promise<{ id: string; password: string | null }> {
  const existing = await db.user.findUnique({ where: { domainId_name: { domainId: DEFAULT_DOMAIN_ID, name } } });
  if (!existing) {
    const password = wanted ?? known ?? generatePassword();
    const u = await db.user.create({
      data: {
        id: newId(),
        name,
        domainId: DEFAULT_DOMAIN_ID,
        passwordHash: await hashPassword(password),
        passwordChangedAt: new Date(),
        defaultProjectId: projectId,
      },
    });
    return { id: u.id, password };
  }
  if (wanted && !(await verifyPassword(existing.passwordHash, wanted))) {
    await db.user.update({
      where: { id: existing.id },
      data: {
        passwordHash: await hashPassword(wanted),
        passwordChangedAt: new Date(),
        failedAttempts: 0,
        lockedUntil: null,
      },
    });
    return { id: existing.id, password: wanted };
  }
  if (!existing.enabled) await db.user.update({ where: { id: existing.id }, data: { enabled: true } });
  // Report the known password only if it still works (the user may have changed it).
  const candidate = wanted ?? known;
  if (candidate && (await verifyPassword(existing.passwordHash, candidate)))
    return { id: existing.id, password: candidate };
  return { id: existing.id, password: null };
}

async function grant(
  db: PrismaClient,
  roleName: string,
  userId: string,
  targetType: string,
  targetId: string,
): Promise<void> {
  const role = await db.role.findUniqueOrThrow({ where: { name: roleName } });
  const key = { roleId: role.id, actorType: 'user', actorId: userId, targetType, targetId };
  await db.roleAssignment.upsert({
    where: { roleId_actorType_actorId_targetType_targetId: key },
    create: { id: newId(), ...key },
    update: {},
  });
}

async function ensureCatalog(db: PrismaClient, publicUrl: string): Promise<void> {
  await db.region.upsert({
    where: { id: REGION },
    create: { id: REGION, description: 'The Stratus region' },
    update: {},
  });
  for (const entry of catalogEntries(publicUrl)) {
    // Ids derived from the entry, so two seeds running at once converge on one row.
    const sid = stableId(`service:${entry.type}`);
    let svc = await db.catalogService.findFirst({ where: { type: entry.type }, orderBy: { createdAt: 'asc' } });
    svc ??= await db.catalogService.upsert({
      where: { id: sid },
      create: { id: sid, type: entry.type, name: entry.name, description: `Stratus ${entry.type}` },
      update: {},
    });
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = await db.endpoint.findFirst({ where: { serviceId: svc.id, interface: iface, regionId: REGION } });
      const id = stableId(`endpoint:${svc.id}:${iface}:${REGION}`);
      if (!ep) {
        await db.endpoint.upsert({
          where: { id },
          create: { id, serviceId: svc.id, interface: iface, regionId: REGION, url: entry.url },
          update: {},
        });
      } else if (ep.url !== entry.url) await db.endpoint.update({ where: { id: ep.id }, data: { url: entry.url } });
    }
  }
  // Running web servers drop their cached catalogs (the public URL may have changed).
  await db.$transaction((tx) => emitCatalogChanged(tx));
  clearCatalogCache();
}

export function cloudsYamlText(
  authUrl: string,
  clouds: Array<{ name: string; user: string; password: string; project: string }>,
): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`${MARKER} (scripts/seed.ts); rewritten on every seed.`, 'clouds:'];
  for (const c of clouds) {
    lines.push(
      `  ${c.name}:`,
      '    auth:',
      `      auth_url: ${q(authUrl)}`,
      `      username: ${q(c.user)}`,
      `      password: ${q(c.password)}`,
      `      project_name: ${q(c.project)}`,
      '      user_domain_name: "Default"',
      '      project_domain_name: "Default"',
      `    region_name: ${q(REGION)}`,
      '    interface: "public"',
      '    identity_api_version: 3',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes clouds.yaml unless the file exists and was not written by Stratus, or cannot be written. */
export function writeCloudsYaml(
  path: string,
  authUrl: string,
  clouds: Array<{ name: string; user: string; password: string; project: string }>,
): { path: string; written: boolean; reason?: string } {
  try {
    if (existsSync(path) && !readFileSync(path, 'utf8').startsWith(MARKER)) {
      return { path, written: false, reason: 'exists and was not written by Stratus' };
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, cloudsYamlText(authUrl, clouds), { mode: 0o600 });
    chmodSync(path, 0o600);
    return { path, written: true };
  } catch (err) {
    return { path, written: false, reason: (err as Error).message };
  }
}

export async function bootstrapIdentity(opts: { db: PrismaClient; config: Config }): Promise<BootstrapResult> {
  const { db, config } = opts;
  await ensureIdentityDefaults(db);
  ensureKeyRepository(join(config.stateDir, 'keys'));
  const credentialsFile = join(config.stateDir, 'credentials.txt');
  const known = readCredentials(credentialsFile);
  const adminProject = await ensureProject(db, 'admin', 'Bootstrap project for the cloud administrator');
  const demoProject = await ensureProject(db, 'demo', 'Demo project');
  const admin = await ensureUser(db, 'admin', adminProject, config.adminPassword, known['admin password']);
  const demo = await ensureUser(db, 'demo', demoProject, undefined, known['demo password']);
  await grant(db, 'admin', admin.id, 'project', adminProject);
  await grant(db, 'admin', admin.id, 'domain', DEFAULT_DOMAIN_ID);
  await grant(db, 'admin', admin.id, 'system', 'all');
  await grant(db, 'member', demo.id, 'project', demoProject);
  await ensureCatalog(db, config.publicUrl);

  const authUrl = `${config.publicUrl.replace(/\/+$/, '')}/identity/v3`;
  const clouds: Array<{ name: string; user: string; password: string; project: string }> = [];
  if (demo.password) clouds.push({ name: 'stratus', user: 'demo', password: demo.password, project: 'demo' });
  if (admin.password) clouds.push({ name: 'stratus-admin', user: 'admin', password: admin.password, project: 'admin' });
  // A cloud whose password is unknown (changed by its owner) is left out.
  const cloudsYaml =
    clouds.length > 0
      ? writeCloudsYaml(config.cloudsYamlPath, authUrl, clouds)
      : { path: config.cloudsYamlPath, written: false, reason: 'passwords unknown' };

  mkdirSync(config.stateDir, { recursive: true });
  const text = [
    'Stratus credentials (root only; rewritten by every seed)',
    `dashboard: ${config.publicUrl}`,
    `auth url: ${authUrl}`,
    'admin username: admin (project admin, domain Default)',
    `admin password: ${admin.password ?? '(unknown: set STRATUS_ADMIN_PASSWORD and re-run to reset it)'}`,
    'demo username: demo (project demo, domain Default)',
    `demo password: ${demo.password ?? '(unknown: changed by its owner)'}`,
    `clouds.yaml: ${cloudsYaml.written ? `${cloudsYaml.path} (clouds: ${clouds.map((c) => c.name).join(', ')})` : `not written (${cloudsYaml.path}: ${cloudsYaml.reason ?? ''})`}`,
    '',
  ].join('\n');
  writeFileSync(credentialsFile, text, { mode: 0o600 });
  chmodSync(credentialsFile, 0o600);
  return {
    authUrl,
    admin: { user: 'admin', project: 'admin', password: admin.password },
    demo: { user: 'demo', project: 'demo', password: demo.password },
    credentialsFile,
    cloudsYaml,
  };
}
