import { createHmac, timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../../platform/errors.ts';
import type { TempUrlGrant, TempUrlMethod } from './access.ts';
import { storedMeta } from './meta.ts';
import { db } from './store.ts';

/*
 * Temporary URLs (Swift's tempurl middleware): temp_url_sig = HMAC(key,
 * "METHOD\nEXPIRES\nPATH") with sha1, sha256 or sha512 (hex, or "<digest>:<base64>"),
 * keyed by X-Account-Meta-Temp-URL-Key(-2) or X-Container-Meta-Temp-URL-Key(-2);
 * temp_url_prefix signs every object under "prefix:PATH-OF-PREFIX". The path signed is
 * the URL path the client uses; with our endpoint that is /object-store/v1/AUTH_…/c/o,
 * and the bare /v1/AUTH_…/c/o form that Swift documentation shows is accepted too.
 */
export interface TempUrlQuery {
  method: string;
  account: string;
  container: string;
  object: string;
  /** Path prefixes before "/v1/…" under which the URL may have been signed (e.g. ["/object-store", ""]). */
  mounts: string[];
  sig: string;
  expires: string;
  prefix?: string;
}

const DIGEST_BY_HEX_LENGTH: Record<number, 'sha1' | 'sha256' | 'sha512'> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

function parseSig(sig: string): { digest: 'sha1' | 'sha256' | 'sha512'; mac: Buffer } | undefined {
  const m = /^(sha1|sha256|sha512):([A-Za-z0-9_\-+/=]+)$/.exec(sig);
  if (m) {
    const b64 = (m[2] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    return { digest: m[1] as 'sha1' | 'sha256' | 'sha512', mac: Buffer.from(b64, 'base64') };
  }
  if (/^[0-9a-fA-F]+$/.test(sig)) {
    const digest = DIGEST_BY_HEX_LENGTH[sig.length];
    if (digest) return { digest, mac: Buffer.from(sig, 'hex') };
  }
  return undefined;
}

function parseExpires(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v)) return Math.floor(Date.parse(v) / 1000);
  return undefined;
}

async function keysFor(account: string, container: string): Promise<string[]> {
  const [a, c] = await Promise.all([
    db().swiftAccount.findUnique({ where: { name: account }, select: { meta: true } }),
    db().swiftContainer.findUnique({ where: { account_name: { account, name: container } }, select: { meta: true } }),
  ]);
  const am = storedMeta(a?.meta);
  const cm = storedMeta(c?.meta);
  return [am['temp-url-key'], am['temp-url-key-2'], cm['temp-url-key'], cm['temp-url-key-2']].filter(
    (k): k is string => !!k,
  );
}

const METHODS: TempUrlMethod[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

/** Verifies a temp URL; the grant allows exactly this request. 401 otherwise. */
export async function verifyTempUrl(q: TempUrlQuery): Promise<TempUrlGrant> {
  const invalid = () => unauthorized('Temp URL invalid');
  const method = METHODS.find((m) => m === q.method.toUpperCase());
  if (!method) throw invalid();
  const expires = parseExpires(q.expires);
  if (expires === undefined || expires < Date.now() / 1000) throw unauthorized('Temp URL expired');
  const sig = parseSig(q.sig);
  if (!sig) throw invalid();
  if (q.prefix !== undefined && !q.object.startsWith(q.prefix)) throw invalid();
  const keys = await keysFor(q.account, q.container);
  if (keys.length === 0) throw invalid();
  // HEAD is allowed by a signature for GET, PUT or POST too (as Swift does).
  const signedMethods = method === 'HEAD' ? ['HEAD', 'GET', 'PUT', 'POST'] : [method];
  const tail =
    q.prefix !== undefined ? `${q.account}/${q.container}/${q.prefix}` : `${q.account}/${q.container}/${q.object}`;
  for (const mount of q.mounts) {
    const path = `${q.prefix !== undefined ? 'prefix:' : ''}${mount}/v1/${tail}`;
    for (const m of signedMethods) {
      for (const key of keys) {
        const mac = createHmac(sig.digest, key).update(`${m}\n${q.expires}\n${path}`).digest();
        if (mac.length === sig.mac.length && timingSafeEqual(mac, sig.mac)) {
          return {
            account: q.account,
            container: q.container,
            method,
            ...(q.prefix !== undefined ? { prefix: q.prefix } : { object: q.object }),
          };
        }
      }
    }
  }
  throw invalid();
}
