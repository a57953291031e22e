import type { PrismaClient } from '@stratus/db';
import { emitEvent, releaseHostLocks } from '@stratus/db';

/** Registers (or re-registers) a process and records its heartbeat. */
export async function heartbeat(
  db: PrismaClient,
  svc: { binary: string; host: string; roles: string[]; version?: string },
  opts: { starting?: boolean } = {},
): Promise<void> {
  const now = new Date();
  await db.$transaction(async (tx) => {
    await tx.service.upsert({
      where: { binary_host: { binary: svc.binary, host: svc.host } },
      create: { ...svc, lastHeartbeat: now, startedAt: now },
      update: { roles: svc.roles, lastHeartbeat: now, ...(opts.starting ? { startedAt: now } : {}) },
    });
    // Back after compute's reportStaleServices announced it down: announce it up again.
    const back = await tx.service.updateMany({
      where: { binary: svc.binary, host: svc.host, reportedDown: true },
      data: { reportedDown: false },
    });
    if (back.count > 0 && !opts.starting) {
      await emitEvent(tx, { type: 'service.up', projectId: null, data: { binary: svc.binary, host: svc.host } });
    }
    if (opts.starting) {
      await emitEvent(tx, { type: 'service.started', projectId: null, data: { binary: svc.binary, host: svc.host } });
    }
  });
}

export interface Readiness {
  ready: boolean;
  database: 'ok' | 'unreachable';
  migrations: 'ok' | 'pending';
  workers: number;
  checks: string[];
}

/** /readyz: database reachable, migrations applied, a worker heartbeat newer than the limit. */
export async function readiness(db: PrismaClient, downSeconds: number): Promise<Readiness> {
  const out: Readiness = { ready: false, database: 'unreachable', migrations: 'pending', workers: 0, checks: [] };
  try {
    await db.$queryRaw`SELECT 1`;
    out.database = 'ok';
  } catch (err) {
    out.checks.push(`database: ${(err as Error).message.split('\n')[0]}`);
    return out;
  }
  try {
    const rows = await db.$queryRaw<Array<{ n: bigint }>>`
      SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NULL OR rolled_back_at IS NOT NULL`;
    const queue = await db.$queryRaw<
      Array<{ ok: boolean }>
    >`SELECT to_regclass('graphile_worker.jobs') IS NOT NULL AS ok`;
    if (rows[0]?.n === 0n && queue[0]?.ok) out.migrations = 'ok';
    else out.checks.push('migrations: not fully applied');
  } catch {
    out.checks.push('migrations: never applied');
  }
  const since = new Date(Date.now() - downSeconds * 1000);
  out.workers = await db.service.count({ where: { binary: 'stratus-worker', lastHeartbeat: { gte: since } } });
  if (out.workers === 0) out.checks.push(`workers: no heartbeat in the last ${downSeconds}s`);
  out.ready = out.database === 'ok' && out.migrations === 'ok' && out.workers > 0;
  return out;
}

/**
 * Releases the queue locks held by workers of hosts whose heartbeat is older than the
 * limit, so their jobs run elsewhere (shared jobs) or when the host returns.
 */
export async function releaseLocksOfDownHosts(db: PrismaClient, downSeconds: number): Promise<string[]> {
  const since = new Date(Date.now() - downSeconds * 1000);
  const rows = await db.$queryRaw<Array<{ host: string }>>`
    SELECT DISTINCT q.host FROM "QueueWorker" q
     WHERE NOT EXISTS (SELECT 1 FROM "Service" s
                        WHERE s.host = q.host AND s.binary = 'stratus-worker' AND s."lastHeartbeat" >= ${since})`;
  const released: string[] = [];
  for (const { host } of rows) {
    if ((await releaseHostLocks(db, host)) > 0) released.push(host);
  }
  return released;
}
