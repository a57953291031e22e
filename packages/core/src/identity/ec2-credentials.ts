import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type * as P from '@stratus/db';
import { z } from 'zod';
import { badRequest, conflict, forbidden, notFound } from '../platform/errors.ts';
import { can, enforce, registerPolicyDefaults } from '../policy/index.ts';
import { effectiveRoles } from './auth.ts';
import { type KeyRepository, loadKeyRepository, repoStamp } from './keys.ts';
import { cfg, db, newId } from './store.ts';
import type { AuthContext } from './types.ts';

/*
 * Keystone's EC2 credentials: an access key and a secret for one user on one project,
 * which the S3 API checks SigV4 signatures with. Reachable two ways, as in Keystone:
 * OS-EC2 (/v3/users/{id}/credentials/OS-EC2, `openstack ec2 credentials …`) and the
 * generic /v3/credentials with type "ec2" and a JSON blob {"access","secret"}.
 *
 * SigV4 needs the secret itself server-side (it is the HMAC key), so it cannot be hashed
 * like a password: it is encrypted with AES-256-GCM under the primary key of a separate
 * credential key repository (<stateDir>/credential-keys, same format as the token keys,
 * created on first use). The row keeps the id of the key it was encrypted with. Token keys
 * are not reused because they rotate out; a credential must stay readable for as long as
 * it exists (Keystone likewise has separate credential keys).
 */

registerPolicyDefaults([
  { name: 'identity:ec2_list_credentials', rule: 'rule:admin_or_owner', description: 'List a user’s EC2 credentials.' },
  { name: 'identity:ec2_get_credential', rule: 'rule:admin_or_owner', description: 'Show an EC2 credential.' },
  {
    name: 'identity:ec2_create_credential',
    rule: 'rule:admin_or_owner',
    description: 'Create an EC2 credential (the user must hold a role on its project).',
  },
  { name: 'identity:ec2_delete_credential', rule: 'rule:admin_or_owner', description: 'Delete an EC2 credential.' },
]);

export interface Ec2Credential {
  /** Keystone's credential id for an EC2 credential: sha256 hex of the access key. */
  id: string;
  access: string;
  secret: string;
  userId: string;
  projectId: string;
  trustId: string | null;
}

export const CreateEc2CredentialInput = z.object({
  userId: z.string().min(1).max(64),
  projectId: z.string().min(1).max(64),
  /** Chosen by the caller (/v3/credentials blob), else generated. */
  access: z
    .string()
    .min(3)
    .max(128)
    .regex(/^[A-Za-z0-9._~-]+$/, 'access must be URL-safe characters')
    .optional(),
  secret: z.string().min(8).max(256).optional(),
});

// ---------------------------------------------------------------- encryption

let repo: { r: KeyRepository; stamp: number } | undefined;

function keyRepo(): KeyRepository {
  const dir = join(cfg().stateDir, 'credential-keys');
  const stamp = repoStamp(dir);
  if (!repo || stamp !== repo.stamp || repo.r.dir !== dir) {
    const r = loadKeyRepository(dir, { create: true });
    repo = { r, stamp: repoStamp(dir) };
  }
  return repo.r;
}

function encryptSecret(secret: string): { secretEncrypted: string; keyId: string } {
  const r = keyRepo();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', r.primary.key, iv);
  cipher.setAAD(Buffer.from(r.primary.kid, 'hex'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return {
    secretEncrypted: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'),
    keyId: r.primary.kid,
  };
}

function decryptSecret(row: P.Ec2Credential): string {
  let key = keyRepo().byKid.get(row.keyId);
  if (!key) {
    repo = undefined;
    key = keyRepo().byKid.get(row.keyId);
  }
  if (!key) throw new Error(`EC2 credential ${row.id} was encrypted with an unknown credential key ${row.keyId}`);
  const raw = Buffer.from(row.secretEncrypted, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(row.keyId, 'hex'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
}

// ---------------------------------------------------------------- CRUD

export const ec2CredentialId = (access: string): string => createHash('sha256').update(access).digest('hex');

function shape(row: P.Ec2Credential): Ec2Credential {
  return {
    id: row.id,
    access: row.access,
    secret: decryptSecret(row),
    userId: row.userId,
    projectId: row.projectId,
    trustId: row.trustId,
  };
}

export async function createEc2Credential(
  ctx: AuthContext,
  input: z.input<typeof CreateEc2CredentialInput>,
): Promise<Ec2Credential> {
  const o = CreateEc2CredentialInput.parse(input);
  enforce(ctx, 'identity:ec2_create_credential', { user_id: o.userId });
  const user = await db().user.findUnique({ where: { id: o.userId } });
  if (!user) throw notFound(`Could not find user: ${o.userId}.`);
  const project = await db().project.findUnique({ where: { id: o.projectId } });
  if (!project) throw notFound(`Could not find project: ${o.projectId}.`);
  if ((await effectiveRoles(o.userId, { type: 'project', id: o.projectId })).length === 0)
    throw forbidden(`User ${o.userId} has no role on project ${o.projectId}.`);
  const access = o.access ?? randomBytes(16).toString('hex');
  const secret = o.secret ?? randomBytes(16).toString('hex');
  const id = ec2CredentialId(access);
  try {
    const row = await db().ec2Credential.create({
      data: { id, access, userId: o.userId, projectId: o.projectId, ...encryptSecret(secret) },
    });
    return shape(row);
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'P2002')
      throw conflict('An EC2 credential with this access key already exists.');
    throw err;
  }
}

export async function listEc2Credentials(ctx: AuthContext, input: { userId: string }): Promise<Ec2Credential[]> {
  enforce(ctx, 'identity:ec2_list_credentials', { user_id: input.userId });
  const rows = await db().ec2Credential.findMany({ where: { userId: input.userId }, orderBy: { createdAt: 'asc' } });
  return rows.map(shape);
}

/** EC2 credentials for /v3/credentials: one user's, or (a cloud admin, no user given) everyone's. */
export async function listAllEc2Credentials(ctx: AuthContext, input: { userId?: string }): Promise<Ec2Credential[]> {
  if (input.userId !== undefined) return listEc2Credentials(ctx, { userId: input.userId });
  if (!can(ctx, 'identity:ec2_list_credentials', { user_id: '' }))
    return listEc2Credentials(ctx, { userId: ctx.userId });
  const rows = await db().ec2Credential.findMany({ orderBy: { createdAt: 'asc' } });
  return rows.map(shape);
}

async function findRow(by: { access: string } | { id: string }): Promise<P.Ec2Credential | null> {
  return 'access' in by
    ? db().ec2Credential.findUnique({ where: { access: by.access } })
    : db().ec2Credential.findUnique({ where: { id: by.id } });
}

/** One credential, by access key (OS-EC2, with its user) or by credential id (/v3/credentials). */
export async function getEc2Credential(
  ctx: AuthContext,
  input: { userId?: string; access?: string; id?: string },
): Promise<Ec2Credential> {
  const row = await findRow(input.access !== undefined ? { access: input.access } : { id: input.id ?? '' });
  const what = input.access ?? input.id ?? '';
  if (!row || (input.userId !== undefined && row.userId !== input.userId))
    throw notFound(`Could not find credential: ${what}.`);
  enforce(ctx, 'identity:ec2_get_credential', { user_id: row.userId });
  return shape(row);
}

export async function deleteEc2Credential(
  ctx: AuthContext,
  input: { userId?: string; access?: string; id?: string },
): Promise<void> {
  const row = await findRow(input.access !== undefined ? { access: input.access } : { id: input.id ?? '' });
  const what = input.access ?? input.id ?? '';
  if (!row || (input.userId !== undefined && row.userId !== input.userId))
    throw notFound(`Could not find credential: ${what}.`);
  enforce(ctx, 'identity:ec2_delete_credential', { user_id: row.userId });
  await db().ec2Credential.delete({ where: { id: row.id } });
}

/** Parses a /v3/credentials blob for type "ec2": a JSON object with access and secret. */
export function parseEc2Blob(blob: string): { access?: string; secret?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(blob);
  } catch {
    throw badRequest('Invalid blob in credential: not valid JSON.');
  }
  const r = z.object({ access: z.string().optional(), secret: z.string().optional() }).safeParse(raw);
  if (!r.success) throw badRequest('Invalid blob in credential: expected {"access": …, "secret": …}.');
  return {
    ...(r.data.access !== undefined ? { access: r.data.access } : {}),
    ...(r.data.secret !== undefined ? { secret: r.data.secret } : {}),
  };
}

// ---------------------------------------------------------------- S3 authentication

export interface Ec2Signer {
  access: string;
  secret: string;
  userId: string;
  projectId: string;
}

/** The credential an S3 request names (no policy: the signature is the proof). Null when unknown. */
export async function findEc2Signer(access: string): Promise<Ec2Signer | null> {
  if (access.length === 0 || access.length > 128) return null;
  const row = await db().ec2Credential.findUnique({ where: { access } });
  if (!row) return null;
  return { access: row.access, secret: decryptSecret(row), userId: row.userId, projectId: row.projectId };
}

/**
 * The caller an EC2 credential stands for, once its signature checked out: the user on the
 * credential's project with their current roles (as Keystone's ec2tokens issues a
 * project-scoped token). Null when the user, the project or their domains are disabled
 * or gone, or the user holds no role there any more.
 */
export async function ec2AuthContext(signer: Ec2Signer): Promise<AuthContext | null> {
  const [user, project] = await Promise.all([
    db().user.findUnique({ where: { id: signer.userId }, include: { domain: true } }),
    db().project.findUnique({ where: { id: signer.projectId }, include: { domain: true } }),
  ]);
  if (!user?.enabled || !user.domain.enabled || !project?.enabled || !project.domain.enabled) return null;
  const roles = await effectiveRoles(signer.userId, { type: 'project', id: signer.projectId });
  if (roles.length === 0) return null;
  const now = Date.now();
  return {
    userId: user.id,
    userName: user.name,
    domainId: user.domainId,
    projectId: project.id,
    projectName: project.name,
    domainScopeId: null,
    system: false,
    roles: roles.map((r) => r.name),
    tokenId: `ec2:${signer.access}`,
    auditId: newId().slice(0, 22),
    expiresAt: new Date(now + 15 * 60 * 1000),
    methods: ['ec2credential'],
  };
}
