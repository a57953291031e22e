import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { KeyRepository } from './keys.ts';

/*
 * Token wire format: base64url( version(1) | key id(4) | iv(12) | AES-256-GCM(payload) | tag(16) ).
 * GCM authenticates the whole token, header included (as additional data), so any
 * change to any byte makes it invalid. Nothing about a token is stored server-side.
 */
const VERSION = 1;

export const TokenPayload = z.object({
  /** user id */
  u: z.string(),
  /** methods */
  m: z.array(z.string()),
  /** project / domain scope, system scope */
  p: z.string().optional(),
  d: z.string().optional(),
  s: z.literal(true).optional(),
  /** issued at / expires at, ms since epoch */
  iat: z.number(),
  exp: z.number(),
  /** audit id, and the audit id of the token this one was rescoped from */
  a: z.string(),
  pa: z.string().optional(),
  /** application credential id */
  ac: z.string().optional(),
  /** when the user authenticated (ms): renewals keep it, the session's maximum lifetime counts from it */
  o: z.number().optional(),
});
export type TokenPayload = z.infer<typeof TokenPayload>;

export class TokenFormatError extends Error {
  constructor(
    message: string,
    readonly unknownKey = false,
  ) {
    super(message);
  }
}

export function encryptToken(payload: TokenPayload, repo: KeyRepository): string {
  const header = Buffer.alloc(5);
  header.writeUInt8(VERSION, 0);
  Buffer.from(repo.primary.kid, 'hex').copy(header, 1);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', repo.primary.key, iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]).toString('base64url');
}

export function decryptToken(token: string, repo: KeyRepository): TokenPayload {
  if (token.length < 48 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token))
    throw new TokenFormatError('malformed token');
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 5 + 12 + 16 + 2 || raw.readUInt8(0) !== VERSION) throw new TokenFormatError('malformed token');
  const header = raw.subarray(0, 5);
  const kid = header.subarray(1, 5).toString('hex');
  const key = repo.byKid.get(kid);
  if (!key) throw new TokenFormatError('token made with an unknown key', true);
  const iv = raw.subarray(5, 17);
  const tag = raw.subarray(raw.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  let clear: string;
  try {
    clear = Buffer.concat([decipher.update(raw.subarray(17, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new TokenFormatError('token authentication failed');
  }
  const parsed = TokenPayload.safeParse(JSON.parse(clear));
  if (!parsed.success) throw new TokenFormatError('token payload invalid');
  return parsed.data;
}
