import { randomBytes } from 'node:crypto';
import { emitEvent, Prisma, type PrismaClient, type Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { type Config, loadConfig } from '../platform/config.ts';
import { type ErrorCode, StratusError } from '../platform/errors.ts';
import type { JobDefinition } from '../platform/jobs.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { runtime } from '../platform/runtime.ts';

export function db(): PrismaClient {
  return runtime().db;
}
export function cfg(): Config {
  return loadConfig();
}

/** A Neutron error: `type` becomes NeutronError.type in the REST body. */
export function neutronError(code: ErrorCode, type: string, message: string): StratusError {
  return new StratusError(code, message, { type });
}
export const nBadRequest = (m: string) => neutronError('BadRequest', 'HTTPBadRequest', m);
export const nNotFound = (type: string, m: string) => neutronError('NotFound', type, m);
export const nConflict = (type: string, m: string) => neutronError('Conflict', type, m);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Parses API input, or throws Neutron's 400 naming the first offending field. */
export function parseNeutronInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw nBadRequest(`Invalid input for ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return r.data;
}

export const isUuid = (s: string): boolean => UUID_RE.test(s);

export function projectOf(ctx: AuthContext): string {
  if (!ctx.projectId) throw nBadRequest('A project-scoped token is required.');
  return ctx.projectId;
}

/** Neutron's base MAC fa:16:3e plus three random octets. */
export function randomMac(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

export function isUniqueViolation(err: unknown, field?: string): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return false;
  if (!field) return true;
  return JSON.stringify(err.meta ?? {}).includes(field);
}

/** Interactive transactions with room for many concurrent allocations. */
export function transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db().$transaction(fn, { maxWait: 60_000, timeout: 60_000 });
}

// ---------------------------------------------------------------- agent job

export const NetworkSyncJob = z.object({ reason: z.string().max(200).default('') });

/** The agent's job as core enqueues it; the handler lives in apps/worker/src/jobs/network.ts. */
export const networkSyncJobDef: JobDefinition<typeof NetworkSyncJob> = {
  name: 'network.sync',
  payload: NetworkSyncJob,
  hostBound: true,
  maxAttempts: 10,
  handler: async () => {
    throw new Error('network job handlers run in the worker');
  },
};

/** Hosts whose worker runs the network agent (the network or compute role). */
export async function agentHosts(tx: Pick<Tx, 'service'>): Promise<string[]> {
  const rows = await tx.service.findMany({
    where: { binary: 'stratus-worker', disabled: false },
    select: { host: true, roles: true },
  });
  return rows.filter((r) => r.roles.includes('network') || r.roles.includes('compute')).map((r) => r.host);
}

/**
 * Asks every agent host to converge, in the caller's transaction. One pending sync
 * per host (job key): a burst of API calls becomes one dataplane pass.
 */
export async function requestSync(tx: Tx, reason: string, hosts?: string[]): Promise<void> {
  const targets = hosts ?? (await agentHosts(tx));
  for (const host of new Set(targets)) {
    if (!host) continue;
    await enqueueJob(tx, networkSyncJobDef, { reason }, { host, jobKey: `network.sync@${host}` });
  }
}

// ---------------------------------------------------------------- dashboard support

export type NetworkEventKind =
  | 'network'
  | 'subnet'
  | 'port'
  | 'router'
  | 'floatingip'
  | 'security_group'
  | 'security_group_rule';

/**
 * A live event for the dashboard (`<kind>.<action>`, e.g. router.updated), in the
 * caller's transaction so it is sent only if the change commits.
 */
export async function emitNetworkEvent(
  tx: Pick<Tx, '$executeRaw'>,
  kind: NetworkEventKind,
  action: 'created' | 'updated' | 'deleted',
  projectId: string,
  resourceId: string,
): Promise<void> {
  await emitEvent(tx, { type: `${kind}.${action}`, projectId: projectId || null, resourceId, data: {} });
}

/** Marker paging for the dashboard's lists: rows after `marker` (an id), in creation order. */
export { pageArgs } from '../platform/paging.ts';
