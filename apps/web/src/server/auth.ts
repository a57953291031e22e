import { loadConfig } from '@stratus/core/platform/config';
import { isStratusError } from '@stratus/core/platform/errors';
import { logger } from '@stratus/core/platform/log';
import { authSecret } from '@stratus/core/platform/secrets';
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { getToken, type JWT } from 'next-auth/jwt';
import { cookies } from 'next/headers';
import { cache } from 'react';
import {
  type AuthContext,
  type AuthResult,
  authenticate,
  listUserProjects,
  renewSessionToken,
  revokeToken,
  validateToken,
} from '@stratus/core/identity/index';

/*
 * Dashboard sessions. The session cookie is next-auth's encrypted JWT holding the
 * caller's Keystone token; every request validates that token with core, so a token
 * revoked elsewhere (CLI, admin disabling the user) ends the session at once. Before
 * the token expires the session swaps it for a renewed one (core renewSessionToken),
 * until sessionMaxLifetimeSeconds after the sign-in.
 */

/** Renew the Keystone token when less than this remains. */
const RENEW_BEFORE_MS = 10 * 60_000;
/** Earlier tokens of this session (before renewals and project switches), revoked at logout. */
const MAX_PREVIOUS = 16;

declare module 'next-auth' {
  interface Session {
    tokenId: string;
    expiresAt: string;
    user: { id: string; name: string; domainId: string };
    project: { id: string; name: string } | null;
  }
  interface User {
    id: string;
    tokenId: string;
    expiresAt: number;
    userName: string;
    domainId: string;
    projectId: string | null;
    projectName: string | null;
  }
}
declare module 'next-auth/jwt' {
  interface JWT {
    tokenId?: string;
    expiresAt?: number;
    userId?: string;
    userName?: string;
    domainId?: string;
    projectId?: string | null;
    projectName?: string | null;
    previous?: Array<{ id: string; exp: number }>;
  }
}

function secureCookies(): boolean {
  return loadConfig().publicUrl.startsWith('https://');
}

interface SessionFields {
  tokenId: string;
  expiresAt: number;
  userId: string;
  userName: string;
  domainId: string;
  projectId: string | null;
  projectName: string | null;
}

function fromContext(ctx: AuthContext): SessionFields {
  return {
    tokenId: ctx.tokenId,
    expiresAt: ctx.expiresAt.getTime(),
    userId: ctx.userId,
    userName: ctx.userName,
    domainId: ctx.domainId,
    projectId: ctx.projectId,
    projectName: ctx.projectName,
  };
}

/** Keeps the replaced token so logout can revoke it; drops the ones already expired. */
function withPrevious(token: JWT, next: AuthResult): JWT {
  const now = Date.now();
  const previous = [...(token.previous ?? [])];
  if (token.tokenId && token.tokenId !== next.tokenId)
    previous.push({ id: token.tokenId, exp: token.expiresAt ?? now });
  return { ...token, ...fromContext(next.context), previous: previous.filter((p) => p.exp > now).slice(-MAX_PREVIOUS) };
}

/**
 * Password sign-in. A user without a default project gets an unscoped token from
 * Keystone; the dashboard works in a project, so sign in again scoped to the first
 * project the user has and revoke the unscoped token (no token is derived from it).
 */
async function signInWithPassword(userName: string, password: string, userDomain: string): Promise<AuthResult> {
  const first = await authenticate({ method: 'password', userName, userDomain, password, noCatalog: true });
  if (first.context.projectId) return first;
  const projects = await listUserProjects(first.context);
  const project = projects[0];
  if (!project) return first;
  const scoped = await authenticate({
    method: 'password',
    userName,
    userDomain,
    password,
    scope: { projectId: project.id },
    noCatalog: true,
  });
  await revokeToken(first.context, first.tokenId).catch((err: unknown) =>
    logger().warn({ err }, 'could not revoke the unscoped sign-in token'),
  );
  return scoped;
}

async function revokeSessionTokens(token: JWT): Promise<void> {
  if (!token.tokenId) return;
  let ctx: AuthContext;
  try {
    ctx = await validateToken(token.tokenId);
  } catch {
    return; // already invalid: nothing of this session can be used any more
  }
  // Every token this session held; revoking one also revokes those rescoped from it.
  for (const id of [token.tokenId, ...(token.previous ?? []).map((p) => p.id).reverse()]) {
    try {
      await revokeToken(ctx, id);
    } catch (err) {
      if (!(isStratusError(err) && (err.code === 'NotFound' || err.code === 'Unauthorized')))
        logger().warn({ err }, 'logout: could not revoke a token');
    }
  }
}

let options: NextAuthOptions | undefined;

/** Built on first use: the secret may live in the state directory, unknown at build time. */
export function authOptions(): NextAuthOptions {
  if (options) return options;
  const config = loadConfig();
  options = {
    secret: authSecret(config),
    useSecureCookies: secureCookies(),
    // The cookie lives as long as a session may (renewals stop there too).
    session: { strategy: 'jwt', maxAge: config.sessionMaxLifetimeSeconds },
    pages: { signIn: '/login', error: '/login' },
    providers: [
      CredentialsProvider({
        name: 'Stratus',
        credentials: {
          username: { label: 'User name', type: 'text' },
          password: { label: 'Password', type: 'password' },
          domain: { label: 'Domain', type: 'text' },
        },
        async authorize(credentials) {
          const userName = credentials?.username?.trim() ?? '';
          const password = credentials?.password ?? '';
          if (!userName || !password) return null;
          try {
            const r = await signInWithPassword(userName, password, credentials?.domain?.trim() || 'Default');
            return { id: r.context.userId, ...fromContext(r.context) };
          } catch (err) {
            // Same answer for a wrong name, a wrong password, a locked or disabled account.
            if (
              isStratusError(err) &&
              (err.code === 'Unauthorized' || err.code === 'BadRequest' || err.code === 'NotFound')
            )
              return null;
            logger().error({ err }, 'sign-in failed');
            throw new Error('unavailable');
          }
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger, session }) {
        if (user) {
          return {
            ...token,
            sub: user.id,
            name: user.userName,
            tokenId: user.tokenId,
            expiresAt: user.expiresAt,
            userId: user.id,
            userName: user.userName,
            domainId: user.domainId,
            projectId: user.projectId,
            projectName: user.projectName,
            previous: [],
          };
        }
        if (!token.tokenId) return token;
        const wanted =
          trigger === 'update' &&
          session &&
          typeof session === 'object' &&
          'projectId' in session &&
          typeof session.projectId === 'string'
            ? session.projectId
            : null;
        if (wanted && wanted !== token.projectId) {
          // Project switcher: rescope the token; core refuses projects the user has no role on.
          // A refusal keeps the current project (throwing here would end the session).
          try {
            const next = await authenticate({
              method: 'token',
              tokenId: token.tokenId,
              scope: { projectId: wanted },
              noCatalog: true,
            });
            return withPrevious(token, next);
          } catch (err) {
            logger().info({ err, projectId: wanted }, 'project switch refused');
            return token;
          }
        }
        if ((token.expiresAt ?? 0) - Date.now() < RENEW_BEFORE_MS) {
          // A fresh lifetime, while the token is valid, the user enabled and still holding the
          // project's roles, up to sessionMaxLifetimeSeconds after sign-in. Throws otherwise:
          // next-auth then clears the session and the dashboard goes back to the login page.
          return withPrevious(token, await renewSessionToken(token.tokenId));
        }
        return token;
      },
      session({ session, token }) {
        return {
          expires: session.expires,
          tokenId: token.tokenId ?? '',
          expiresAt: new Date(token.expiresAt ?? 0).toISOString(),
          user: { id: token.userId ?? '', name: token.userName ?? '', domainId: token.domainId ?? '' },
          project: token.projectId ? { id: token.projectId, name: token.projectName ?? token.projectId } : null,
        };
      },
    },
    events: {
      async signOut({ token }) {
        await revokeSessionTokens(token);
      },
    },
    logger: {
      error: (code, metadata) => logger().error({ code, metadata }, 'next-auth'),
      warn: (code) => {
        if (code !== 'NEXTAUTH_URL') logger().warn({ code }, 'next-auth');
      },
      debug: () => {},
    },
  };
  return options;
}

/** The session cookie's content, decoded without running callbacks (no renewal, no cookie writes). */
async function sessionToken(): Promise<JWT | null> {
  const jar = await cookies();
  const req = { headers: {}, cookies: Object.fromEntries(jar.getAll().map((c) => [c.name, c.value])) };
  return getToken({
    req: req as unknown as Parameters<typeof getToken>[0]['req'],
    secret: authOptions().secret,
    secureCookie: secureCookies(),
  });
}

/**
 * The caller's identity for this request, or null when signed out, expired or revoked.
 * Memoised per request for server components.
 */
export const currentAuth = cache(async (): Promise<AuthContext | null> => {
  const token = await sessionToken();
  if (!token?.tokenId) return null;
  try {
    return await validateToken(token.tokenId);
  } catch (err) {
    if (isStratusError(err) && (err.code === 'Unauthorized' || err.code === 'NotFound')) return null;
    throw err;
  }
});
