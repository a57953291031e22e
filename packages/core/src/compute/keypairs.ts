import { createHash, generateKeyPairSync } from 'node:crypto';
import { Prisma, type KeyPair as KeyPairRow } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { markerPage } from '../platform/paging.ts';
import { enforce } from '../policy/index.ts';
import { cfg, db, overLimit } from './common.ts';

export interface KeyPair {
  id: string;
  name: string;
  userId: string;
  publicKey: string;
  fingerprint: string;
  type: string;
  createdAt: Date;
  /** Only in the answer that generated the key; never stored. */
  privateKey?: string;
}

const SSH_TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export const KeyPairName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9 _.@-]+$/, 'Keypair name contains unsafe characters')
  .refine((s) => s.trim() === s, 'Keypair name must not start or end with a space');

/** The key blob of an OpenSSH public key line; BadRequest when it is not one. */
function parsePublicKey(line: string): { type: string; blob: Buffer } {
  const parts = line.trim().split(/\s+/);
  const [type, b64] = parts;
  const bad = () => badRequest('Keypair data is invalid: failed to generate fingerprint');
  if (!type || !b64 || !SSH_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad();
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4) throw bad();
  const len = blob.readUInt32BE(0);
  if (blob.length < 4 + len || blob.subarray(4, 4 + len).toString('latin1') !== type) throw bad();
  return { type, blob };
}

/** Nova's fingerprint: MD5 of the key blob as colon-separated hex pairs. */
export function sshFingerprint(publicKey: string): string {
  const { blob } = parsePublicKey(publicKey);
  return (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
/** An ssh mpint: big-endian, with a leading zero byte when the high bit is set. */
function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/** A fresh RSA key: the PEM private key (readable by ssh) and its OpenSSH public line. */
export function generateSshKey(comment: string): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.n || !jwk.e) throw new Error('RSA key export failed');
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e, 'base64url')),
    mpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  return {
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`,
  };
}

function toKeyPair(r: KeyPairRow): KeyPair {
  return {
    id: r.id,
    name: r.name,
    userId: r.userId,
    publicKey: r.publicKey,
    fingerprint: r.fingerprint,
    type: r.type,
    createdAt: r.createdAt,
  };
}

export async function createKeyPair(
  ctx: AuthContext,
  input: { name: string; publicKey?: string; type?: string; userId?: string },
): Promise<KeyPair> {
  const userId = input.userId ?? ctx.userId;
  enforce(ctx, 'os_compute_api:os-keypairs:create', { user_id: userId });
  const name = KeyPairName.safeParse(input.name);
  if (!name.success) throw badRequest(`Invalid input for field/attribute name: ${name.error.issues[0]?.message ?? ''}`);
  if (input.type && input.type !== 'ssh') throw badRequest('Only ssh key pairs are supported.');
  let publicKey = input.publicKey?.trim();
  let privateKey: string | undefined;
  if (!publicKey) ({ publicKey, privateKey } = generateSshKey(`Generated-by-Stratus`));
  const fingerprint = sshFingerprint(publicKey);
  const limit = cfg().quotaKeyPairs;
  try {
    const row = await db().$transaction(async (tx) => {
      if (limit >= 0 && (await tx.keyPair.count({ where: { userId } })) >= limit) {
        throw overLimit('Quota exceeded, too many key pairs.');
      }
      return tx.keyPair.create({
        data: { userId, name: name.data, publicKey: publicKey ?? '', fingerprint, type: 'ssh' },
      });
    });
    return { ...toKeyPair(row), ...(privateKey ? { privateKey } : {}) };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      throw conflict(`Key pair '${name.data}' already exists.`);
    }
    throw err;
  }
}

export async function listKeyPairs(
  ctx: AuthContext,
  o: { userId?: string; marker?: string; limit?: number } = {},
): Promise<KeyPair[]> {
  const userId = o.userId ?? ctx.userId;
  enforce(ctx, 'os_compute_api:os-keypairs:index', { user_id: userId });
  const page = await markerPage<Prisma.KeyPairWhereInput, Prisma.KeyPairOrderByWithRelationInput>(
    o,
    { field: 'name', dir: 'asc' },
    (name) => db().keyPair.findFirst({ where: { userId, name } }),
    { key: 'name', isKey: (s) => s.length > 0 },
  );
  return (await db().keyPair.findMany({ ...page, where: { AND: [{ userId }, page.where] } })).map(toKeyPair);
}

export async function getKeyPair(ctx: AuthContext, name: string, o: { userId?: string } = {}): Promise<KeyPair> {
  const userId = o.userId ?? ctx.userId;
  enforce(ctx, 'os_compute_api:os-keypairs:show', { user_id: userId });
  const r = await db().keyPair.findUnique({ where: { userId_name: { userId, name } } });
  if (!r) throw notFound(`Keypair ${name} not found for user ${userId}`);
  return toKeyPair(r);
}

export async function deleteKeyPair(ctx: AuthContext, name: string, o: { userId?: string } = {}): Promise<void> {
  const userId = o.userId ?? ctx.userId;
  enforce(ctx, 'os_compute_api:os-keypairs:delete', { user_id: userId });
  const n = await db().keyPair.deleteMany({ where: { userId, name } });
  if (n.count === 0) throw notFound(`Keypair ${name} not found for user ${userId}`);
}
