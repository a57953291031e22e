import type { Migration as MigrationRow, Server as ServerRow, Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { claimAllocationsInTx, replaceManyAllocationsInTx } from '../placement/allocations.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { currentRequestId } from '../platform/log.ts';
import { badRequest, conflict, notFound, StratusError } from '../platform/errors.ts';
import { enforce, registerPolicyDefaults } from '../policy/index.ts';
import { cfg, db, isAdmin, newUuid, overLimit } from './common.ts';
import { getFlavor } from './flavors.ts';
import { serviceIsUp } from './hosts.ts';
import { imageBackend } from './images.ts';
import { confirmResizeJobDef, rebuildJobDef, resizePrepJobDef, revertResizeJobDef, serverQueue } from './jobs.ts';
import { lockProjectQuota, quotaLimits, quotaUsage } from './quotas.ts';
import { startAction, updateServer } from './records.ts';
import { FlavorSnapshot, flavorSnapshot, loadServer, lockServer, type Server, toServer } from './servers.ts';
import { canDo, PowerState, type ServerAction, TaskState, VmState } from './state.ts';

/*
 * Rebuild and resize with confirm/revert, as Nova has them.
 *  - rebuild: the root disk is made again from the server's (or a new) image on its host;
 *    ports, flavor, host and allocations stay. vm_state keeps, task_state rebuilding.
 *  - resize: the server's current allocations move to a migration record's id as their
 *    placement consumer and the server claims the new flavor on its host (Nova's
 *    "migration-based allocations"; a resize stays on the server's host, Nova's
 *    allow_resize_to_same_host behaviour; moving is cold migration, below).
 *    The host stops the guest, grows the disk, redefines vCPUs/RAM, starts it again:
 *    VERIFY_RESIZE. confirmResize drops the migration's allocations (and the kept disk);
 *    revertResize gives the server its old flavor, disk and allocations back.
 * Quota: while a resize is open a server counts with the larger of its two flavors.
 */

/** Migration statuses (Nova's strings) while a resize holds two flavors. */
export const OPEN_MIGRATION = ['pre-migrating', 'migrating', 'post-migrating', 'finished', 'reverting'] as const;

function check(action: ServerAction, s: ServerRow, ctx: AuthContext): void {
  const v = canDo(action, s, { isAdmin: isAdmin(ctx) });
  if (!v.ok) throw conflict(v.reason);
}

/** A server's root disk is a volume (boot from volume). */
async function volumeBacked(tx: Pick<Tx, '$queryRaw'>, serverId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM "VolumeAttachment" WHERE "serverId" = ${serverId}::uuid AND "bootIndex" = 0`;
  return Number(rows[0]?.n ?? 0) > 0;
}

export const RebuildInput = z.object({
  imageRef: z.string().min(1),
  name: z.string().min(1).max(255).optional(),
  metadata: z.record(z.string().min(1).max(255), z.string().max(255)).optional(),
});

/** Recreates the root disk from `imageRef` (the current or another image) and boots it again. */
export async function rebuildServer(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof RebuildInput>,
): Promise<Server> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:rebuild');
  const parsed = RebuildInput.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw badRequest(`Invalid input for field/attribute ${i?.path.join('.') || 'rebuild'}. ${i?.message ?? ''}`.trim());
  }
  const v = parsed.data;
  const image = await imageBackend().find(ctx, v.imageRef);
  if (!image) throw badRequest(`Image ${v.imageRef} could not be found.`);
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  const flavor = FlavorSnapshot.parse(row.flavor);
  if (flavor.ramMb < image.minRamMb) throw badRequest(`Flavor's memory is too small for requested image.`);
  if (flavor.diskGb > 0) {
    const size = image.virtualSizeBytes ?? image.sizeBytes ?? 0;
    if (flavor.diskGb < image.minDiskGb || size > flavor.diskGb * 1024 ** 3)
      throw badRequest(`Flavor's disk is too small for requested image.`);
  }
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  const updated = await db().$transaction(async (tx) => {
    const s = await lockServer(tx, row.id);
    if (!s || s.deleted) throw notFound(`Instance ${id} could not be found.`);
    check('rebuild', s, ctx);
    if (!s.host) throw conflict(`Cannot 'rebuild' instance ${id}: it is not on any host.`);
    if (await volumeBacked(tx, s.id))
      throw badRequest('Rebuilding a volume-backed server is not supported: its root disk is a volume.');
    const actionId = await startAction(tx, {
      serverId: s.id,
      action: 'rebuild',
      requestId,
      projectId: s.projectId,
      userId: ctx.userId,
    });
    const out = await updateServer(tx, s.id, {
      taskState: TaskState.REBUILDING,
      imageId: image.id,
      ...(v.name !== undefined ? { name: v.name } : {}),
      ...(v.metadata !== undefined ? { metadata: v.metadata } : {}),
    });
    await enqueueJob(tx, rebuildJobDef, { serverId: s.id, actionId }, { host: s.host, queueName: serverQueue(s.id) });
    return out;
  });
  return toServer(updated);
}

/** The server's open resize, if any (at most one: a resize needs task_state None, VERIFY_RESIZE blocks another). */
export async function openMigration(tx: Pick<Tx, 'migration'>, serverId: string): Promise<MigrationRow | null> {
  return tx.migration.findFirst({
    where: { serverId, status: { in: [...OPEN_MIGRATION] } },
    orderBy: { createdAt: 'desc' },
  });
}

/** Migration types (Nova's): a resize stays on its host, a cold migration moves. */
export const MIGRATION_TYPE = { RESIZE: 'resize', MIGRATION: 'migration' } as const;

/**
 * What resize and cold migration share once the request is accepted (inside the caller's
 * transaction, the server locked): the instance action, the migration record in
 * pre-migrating, RESIZE_PREP and the conductor's resize_prep job. The two differ only by
 * the action, the type, the destination and the flavors.
 */
async function beginMigration(
  tx: Tx,
  ctx: AuthContext,
  s: ServerRow,
  o: {
    action: 'resize' | 'migrate';
    migrationType: (typeof MIGRATION_TYPE)[keyof typeof MIGRATION_TYPE];
    requestId: string;
    source: { host: string; node: string };
    dest: { host: string; node: string };
    oldFlavor: FlavorSnapshot;
    newFlavor: FlavorSnapshot;
  },
): Promise<void> {
  const actionId = await startAction(tx, {
    serverId: s.id,
    action: o.action,
    requestId: o.requestId,
    projectId: s.projectId,
    userId: ctx.userId,
  });
  const migrationId = newUuid();
  await tx.migration.create({
    data: {
      id: migrationId,
      serverId: s.id,
      projectId: s.projectId,
      userId: s.userId,
      migrationType: o.migrationType,
      status: 'pre-migrating',
      sourceHost: o.source.host,
      sourceNode: o.source.node,
      destHost: o.dest.host,
      destNode: o.dest.node,
      oldFlavor: { ...o.oldFlavor },
      newFlavor: { ...o.newFlavor },
    },
  });
  await updateServer(tx, s.id, { taskState: TaskState.RESIZE_PREP });
  await enqueueJob(tx, resizePrepJobDef, { serverId: s.id, actionId, migrationId }, { queueName: serverQueue(s.id) });
}

/** Starts a resize to `flavorRef`; the host finishes it (VERIFY_RESIZE). */
export async function resizeServer(ctx: AuthContext, id: string, flavorRef: string): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:resize');
  const flavor = await getFlavor(ctx, flavorRef).catch((err: unknown) => {
    if (err instanceof StratusError && err.code === 'NotFound')
      throw badRequest(`Flavor ${flavorRef} could not be found.`);
    throw err;
  });
  if (flavor.disabled) throw badRequest(`Flavor ${flavor.id} is disabled.`);
  const old = FlavorSnapshot.parse(row.flavor);
  if (flavor.id === old.id) throw badRequest('When resizing, instances must change flavor!');
  const next = flavorSnapshot(flavor);
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(
    async (tx) => {
      await lockProjectQuota(tx, row.projectId);
      const s = await lockServer(tx, row.id);
      if (!s || s.deleted) throw notFound(`Instance ${id} could not be found.`);
      check('resize', s, ctx);
      if (!s.host || !s.node) throw conflict(`Cannot 'resize' instance ${id}: it is not on any host.`);
      if (next.diskGb < old.diskGb && !(await volumeBacked(tx, s.id)))
        throw badRequest(
          `Resizing to a flavor with a smaller disk (${next.diskGb} GB < ${old.diskGb} GB) is not allowed.`,
        );
      // The larger flavor counts until confirm or revert.
      const limits = await quotaLimits(s.projectId, tx);
      const used = await quotaUsage(s.projectId, tx);
      const extraCores = Math.max(0, next.vcpus - old.vcpus);
      const extraRam = Math.max(0, next.ramMb - old.ramMb);
      if (limits.cores >= 0 && used.cores + extraCores > limits.cores)
        throw overLimit(
          `Quota exceeded for cores: Requested ${extraCores}, but already used ${used.cores} of ${limits.cores} cores`,
        );
      if (limits.ram >= 0 && used.ram + extraRam > limits.ram)
        throw overLimit(
          `Quota exceeded for ram: Requested ${extraRam}, but already used ${used.ram} of ${limits.ram} ram`,
        );
      await beginMigration(tx, ctx, s, {
        action: 'resize',
        migrationType: MIGRATION_TYPE.RESIZE,
        requestId,
        source: { host: s.host, node: s.node },
        dest: { host: s.host, node: s.node },
        oldFlavor: old,
        newFlavor: next,
      });
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
}

registerPolicyDefaults([
  {
    name: 'os_compute_api:os-migrate-server:migrate',
    rule: 'rule:admin_required',
    description: 'Cold migrate a server to another host.',
  },
  {
    name: 'os_compute_api:os-migrate-server:migrate:host',
    rule: 'rule:admin_required',
    description: 'Cold migrate a server to a host the caller names (microversion 2.56).',
  },
]);

/**
 * Cold migration (admin): the server moves to another host with its flavor. It runs as
 * a resize does (migration record, the source allocations held by the migration, the
 * destination claimed for the server through the scheduler, VERIFY_RESIZE, then
 * confirmResize/revertResize), but the destination is never the server's own host: the
 * source stops the guest and hands its disk over, the destination copies it into its
 * own instance directory and boots it there.
 */
export async function migrateServer(ctx: AuthContext, id: string, o: { host?: string | null } = {}): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:os-migrate-server:migrate');
  const host = o.host ?? null;
  if (host !== null) {
    enforce(ctx, 'os_compute_api:os-migrate-server:migrate:host', { project_id: row.projectId });
    const node = await db().computeNode.findUnique({ where: { host } });
    if (!node) throw badRequest(`Compute host ${host} could not be found.`);
  }
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(
    async (tx) => {
      const s = await lockServer(tx, row.id);
      if (!s || s.deleted) throw notFound(`Instance ${id} could not be found.`);
      check('migrate', s, ctx);
      if (!s.host || !s.node) throw conflict(`Cannot 'migrate' instance ${id}: it is not on any host.`);
      if (host !== null && host === s.host) throw badRequest('Cannot migrate to the host where the server exists.');
      // Nova's API waits for the conductor's scheduling and answers NoValidHost with a
      // 400; the obvious case — no other enabled, up compute host — is refused here, at
      // once; the scheduler's own filters still decide in compute.resize_prep.
      if (!(await otherComputeHosts(tx, s.host, host)))
        throw badRequest('No valid host was found. No valid host found for cold migrate');
      const volumes = await tx.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM "VolumeAttachment" WHERE "serverId" = ${s.id}::uuid`;
      if (Number(volumes[0]?.n ?? 0) > 0)
        throw badRequest('Migrating a server with volumes attached is not supported yet.');
      const flavor = FlavorSnapshot.parse(s.flavor);
      await beginMigration(tx, ctx, s, {
        action: 'migrate',
        migrationType: MIGRATION_TYPE.MIGRATION,
        requestId,
        source: { host: s.host, node: s.node },
        // The scheduler fills these in (resize_prep); a named host is what it must pick.
        dest: { host: host ?? '', node: '' },
        oldFlavor: flavor,
        newFlavor: flavor,
      });
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
}

/** Whether a compute host other than `source` (or `named`, when given) is enabled and up. */
async function otherComputeHosts(tx: Tx, source: string, named: string | null): Promise<boolean> {
  const since = Date.now() - cfg().serviceDownSeconds * 1000;
  const nodes = await tx.computeNode.findMany({
    where: { host: named ?? { not: source } },
    select: { host: true },
  });
  const services = await tx.service.findMany({
    where: { binary: 'stratus-worker', host: { in: nodes.map((n) => n.host) }, disabled: false },
  });
  return services.some((x) => x.roles.includes('compute') && serviceIsUp(x, since));
}

/** The vm_state a server returns to after a resize ends: what its guest's power says. */
export const settledVmState = (powerState: number): string =>
  powerState === PowerState.SHUTDOWN || powerState === PowerState.NOSTATE ? VmState.STOPPED : VmState.ACTIVE;

/**
 * Confirm's and revert's common start (inside their transaction): the server locked and
 * in VERIFY_RESIZE, its finished migration, and the instance action recorded.
 */
async function lockResized(
  tx: Tx,
  ctx: AuthContext,
  o: { id: string; serverId: string; requestId: string; action: 'confirm_resize' | 'revert_resize' },
): Promise<{ s: ServerRow; m: MigrationRow; actionId: string }> {
  const s = await lockServer(tx, o.serverId);
  if (!s || s.deleted) throw notFound(`Instance ${o.id} could not be found.`);
  check(o.action, s, ctx);
  const m = await openMigration(tx, s.id);
  if (m?.status !== 'finished') throw badRequest(`Instance ${o.id} has not been resized.`);
  const actionId = await startAction(tx, {
    serverId: s.id,
    action: o.action === 'confirm_resize' ? 'confirmResize' : 'revertResize',
    requestId: o.requestId,
    projectId: s.projectId,
    userId: ctx.userId,
  });
  return { s, m, actionId };
}

/** Keeps the new flavor: the migration's (old flavor's) allocations are freed. */
export async function confirmResize(ctx: AuthContext, id: string): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:confirm_resize');
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const { s, m, actionId } = await lockResized(tx, ctx, {
      id,
      serverId: row.id,
      requestId,
      action: 'confirm_resize',
    });
    await releaseConsumer(tx, m.id);
    await tx.migration.update({ where: { id: m.id }, data: { status: 'confirmed' } });
    await updateServer(tx, s.id, { vmState: settledVmState(s.powerState), taskState: null });
    await enqueueJob(
      tx,
      confirmResizeJobDef,
      { serverId: s.id, actionId, migrationId: m.id },
      { host: m.sourceHost, queueName: serverQueue(s.id) },
    );
  });
}

/** Back to the old flavor: the host restores the disk and definition, then allocations swap back. */
export async function revertResize(ctx: AuthContext, id: string): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:revert_resize');
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const { s, m, actionId } = await lockResized(tx, ctx, { id, serverId: row.id, requestId, action: 'revert_resize' });
    await tx.migration.update({ where: { id: m.id }, data: { status: 'reverting' } });
    await updateServer(tx, s.id, { taskState: TaskState.RESIZE_REVERTING });
    await enqueueJob(
      tx,
      revertResizeJobDef,
      { serverId: s.id, actionId, migrationId: m.id },
      { host: m.destHost, queueName: serverQueue(s.id) },
    );
  });
}

// ---------------------------------------------------------------- allocations of a resize

/** Removes every allocation a consumer holds (no-op when it holds none). */
export async function releaseConsumer(tx: Tx, consumerId: string): Promise<void> {
  const c = await tx.placementConsumer.findUnique({ where: { id: consumerId } });
  if (!c) return;
  await claimAllocationsInTx(tx, { consumerId, projectId: c.projectId, userId: c.userId, allocations: [] });
}

async function allocationsOf(tx: Tx, consumerId: string) {
  const rows = await tx.placementAllocation.findMany({ where: { consumerId } });
  const byProvider = new Map<string, Record<string, number>>();
  for (const r of rows) byProvider.set(r.providerId, { ...byProvider.get(r.providerId), [r.resourceClass]: r.used });
  return [...byProvider.entries()].map(([providerId, resources]) => ({ providerId, resources }));
}

/**
 * Moves all of `from`'s allocations to `to` (which gives up its own) in one step:
 * resize hands the server's to the migration; revert hands them back.
 */
export async function moveAllocations(
  tx: Tx,
  o: { from: string; to: string; projectId: string; userId: string },
): Promise<void> {
  const held = await allocationsOf(tx, o.from);
  await replaceManyAllocationsInTx(tx, [
    { consumerId: o.to, projectId: o.projectId, userId: o.userId, allocations: held },
    { consumerId: o.from, projectId: o.projectId, userId: o.userId, allocations: [] },
  ]);
}

/** A deleted server's open resizes: their allocations go, the records close. */
export async function releaseMigrations(tx: Tx, serverId: string): Promise<void> {
  const open = await tx.migration.findMany({ where: { serverId, status: { in: [...OPEN_MIGRATION] } } });
  for (const m of open) {
    await releaseConsumer(tx, m.id);
    await tx.migration.update({ where: { id: m.id }, data: { status: 'error' } });
  }
}
