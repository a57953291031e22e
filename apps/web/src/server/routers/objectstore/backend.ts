import type { AuthContext } from '@stratus/core/identity/index';
import { openObjectBackend } from '@stratus/core/objectstore/index';
import { badRequest } from '@stratus/core/platform/errors';
import { logger } from '@stratus/core/platform/log';
import { runtime } from '@stratus/core/platform/runtime';
import {
  accountOfProject,
  hasObjectBackend,
  type ObjectCaller,
  setObjectBackend,
} from '@stratus/core/objectstore/swift/index';

/*
 * The dashboard's way into the Swift core: the caller's own account only (the project
 * of the session's token), as a Keystone caller, so core applies the same policy and
 * ACL rules as on the REST API.
 *
 * Next bundles core into each of its server entries (the tRPC route, the download
 * route), each with its own module state; the replicated backend (a ring watcher with a
 * LISTEN connection) is opened once per process and shared through globalThis.
 */
type Opened = Awaited<ReturnType<typeof openObjectBackend>>;
const KEY = Symbol.for('stratus.dashboard.objectBackend');
type WithBackend = typeof globalThis & { [KEY]?: Promise<Opened> };

export async function ensureBackend(): Promise<void> {
  if (hasObjectBackend()) return;
  const g = globalThis as WithBackend;
  g[KEY] ??= (async () => {
    const rt = runtime();
    return openObjectBackend({
      db: rt.db,
      databaseUrl: rt.databaseUrl,
      onError: (err) => logger().warn({ err }, 'object ring (dashboard)'),
    });
  })().catch((err: unknown) => {
    g[KEY] = undefined;
    throw err;
  });
  const opened = await g[KEY];
  if (!hasObjectBackend()) setObjectBackend(opened.backend);
}

export interface Scope {
  caller: ObjectCaller;
  account: string;
}

/** The session's account (AUTH_<project>) and caller; the backend is ready. */
export async function scopeOf(auth: AuthContext): Promise<Scope> {
  if (!auth.projectId) throw badRequest('Choose a project to use the object store.');
  await ensureBackend();
  return { caller: { kind: 'token', ctx: auth }, account: accountOfProject(auth.projectId) };
}

/*
 * Metadata values travel in HTTP headers, which Node reads as latin1: a UTF-8 value
 * sent by a swift client is stored as its bytes in latin1 characters. The dashboard
 * speaks text, so it encodes and decodes the same way and both sides see one value.
 */
export const metaToHeader = (v: string) => Buffer.from(v, 'utf8').toString('latin1');
export const metaFromHeader = (v: string) => {
  const s = Buffer.from(v, 'latin1').toString('utf8');
  return s.includes('\uFFFD') ? v : s;
};
