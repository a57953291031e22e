import {
  bindPort,
  buildJobDef,
  createPortForServer,
  deletePortsOfServer,
  RequestedNetworks,
  serverContext,
  StratusError,
  userPortsOf,
  deleteJobDef,
  enqueueJob,
  eventFinish,
  eventStart,
  finishAction,
  finishDelete,
  FlavorSnapshot,
  hasAllocation,
  imageBackend,
  type JobDefinition,
  loadConfig,
  lockServer,
  markBootVolumesAttached,
  moveAllocations,
  rebuildJobDef,
  resizeJobDef,
  resizePrepJobDef,
  confirmResizeJobDef,
  revertResizeJobDef,
  selectHostForResize,
  selectHostForMigration,
  migrateSourceJobDef,
  finishMigrationJobDef,
  finishRevertMigrationJobDef,
  MIGRATION_TYPE,
  settledVmState,
  logger,
  makeFault,
  type PowerOp,
  type ServerPatch,
  powerJobDef,
  PowerState,
  refreshNodeUsage,
  releaseAllocation,
  scheduleJobDef,
  selectHost,
  serverQueue,
  TaskState,
  updateServer,
  VmState,
} from '@stratus/core';
import type { Migration as MigrationRow, PrismaClient, Server as ServerRow, Tx } from '@stratus/db';
import type { ImageChecksum, ImageSource } from '../drivers/compute/image-cache.ts';
import type { ComputeDriver, NicSpec } from '../drivers/compute/types.ts';
import type { BootDevices } from './volume.ts';

/*
 * The compute jobs: schedule (any worker), then build / delete / power on the server's
 * host. Each handler re-reads the server and skips work already done, so a retry after a
 * crash is harmless; the driver's calls are idempotent too. Jobs on one server share a
 * queue (serverQueue) and so never run at the same time.
 */

export interface ComputeDeps {
  db: PrismaClient;
  host: string;
  driver: ComputeDriver;
  images: {
    ensureBaseImage(imageId: string, source: ImageSource, opts?: { checksum?: ImageChecksum }): Promise<string>;
  };
  /**
   * Runs this host's network agent pass now (bridge, DHCP entry, security-group rules
   * of the ports just bound), so the guest's first DHCP request is answered. Unset in
   * tests without a dataplane.
   */
  syncNetwork?: () => Promise<void>;
  /** Boot from volume: waits for the server's volumes and says where they are (jobs/volume.ts). */
  volumes?: (serverId: string) => Promise<BootDevices | undefined>;
}

/** Errors no other host would fix (the network vanished, the port is taken): no reschedule. */
function isFatal(err: unknown): boolean {
  return (
    err instanceof StratusError &&
    ['NotFound', 'Conflict', 'BadRequest', 'Forbidden', 'QuotaExceeded'].includes(err.code)
  );
}

const TX = { maxWait: 30_000, timeout: 30_000 };

function errText(err: unknown): { message: string; traceback: string } {
  if (err instanceof Error)
    return { message: err.message.split('\n')[0] ?? err.message, traceback: err.stack ?? err.message };
  return { message: String(err), traceback: String(err) };
}

/**
 * One port per requested network (made once: a retried build or a rebuild reuses the
 * server's port on that network), bound to this host, its dataplane wired before the guest boots.
 */
async function plugServerPorts(d: ComputeDeps, row: ServerRow): Promise<NicSpec[]> {
  const { db, host, syncNetwork } = d;
  const serverId = row.id;
  const parsed = RequestedNetworks.safeParse(row.requestedNetworks);
  const wanted = parsed.success ? parsed.data : [];
  if (wanted.length === 0) return [];
  const ctx = serverContext(row);
  const userPorts = new Set(userPortsOf(row));
  const existing = await db.port.findMany({
    where: { deviceId: serverId, deviceOwner: { startsWith: 'compute:' } },
    orderBy: { createdAt: 'asc' },
  });
  const used = new Set<string>();
  const nics: NicSpec[] = [];
  for (const w of wanted) {
    let portId = w.portId;
    if (!portId) {
      const networkId = w.networkId ?? '';
      const reuse = existing.find((p) => p.networkId === networkId && !used.has(p.id) && !userPorts.has(p.id));
      portId = reuse
        ? reuse.id
        : (
            await createPortForServer({
              ctx,
              networkId,
              serverId,
              ...(w.fixedIp ? { fixedIp: w.fixedIp } : {}),
            })
          ).id;
    }
    used.add(portId);
    const b = await bindPort({ portId, host, serverId });
    nics.push({ mac: b.mac, bridge: b.bridge, tapName: b.tap, mtu: b.mtu });
  }
  if (syncNetwork) await syncNetwork();
  return nics;
}

export function computeJobs(deps: () => ComputeDeps): JobDefinition[] {
  const schedule: JobDefinition<typeof scheduleJobDef.payload> = {
    ...scheduleJobDef,
    async handler({ serverId, actionId }) {
      const { db } = deps();
      const s = await db.server.findUnique({ where: { id: serverId } });
      if (!s || s.deleted || s.vmState !== VmState.BUILDING || s.taskState !== TaskState.SCHEDULING || s.host) return;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_schedule'), TX);
      // A retry after a crash between the claim and the commit below: start over.
      if (await hasAllocation(db, serverId)) await db.$transaction((tx) => releaseAllocation(tx, serverId), TX);
      const picked = await selectHost(s);
      await db.$transaction(async (tx) => {
        const cur = await lockServer(tx, serverId);
        if (
          !cur ||
          cur.deleted ||
          cur.vmState !== VmState.BUILDING ||
          cur.taskState !== TaskState.SCHEDULING ||
          cur.host
        ) {
          // Deleted (or otherwise overtaken) while we were choosing: give the claim back.
          if ('host' in picked && !cur?.host) await releaseAllocation(tx, serverId);
          return;
        }
        if ('error' in picked) {
          const tried = cur.triedHosts.length ? ` Tried: ${cur.triedHosts.join(', ')}.` : '';
          const last =
            cur.fault && typeof cur.fault === 'object' && 'message' in cur.fault
              ? ` Last error: ${String(cur.fault.message)}`
              : '';
          await updateServer(tx, serverId, {
            vmState: VmState.ERROR,
            taskState: null,
            fault: makeFault(500, 'No valid host was found. ', `${picked.error}${tried}${last}`),
          });
          await eventFinish(tx, actionId, 'compute_schedule', 'Error', { message: picked.error });
          await finishAction(tx, actionId, 'Error');
          return;
        }
        await updateServer(tx, serverId, {
          host: picked.host,
          node: picked.nodename,
          availabilityZone: cur.availabilityZone?.split(':')[0] || picked.availabilityZone,
        });
        await eventFinish(tx, actionId, 'compute_schedule', 'Success', { host: picked.host });
        await enqueueJob(
          tx,
          buildJobDef,
          { serverId, actionId },
          { host: picked.host, queueName: serverQueue(serverId) },
        );
      }, TX);
    },
  };

  const build: JobDefinition<typeof buildJobDef.payload> = {
    ...buildJobDef,
    async handler({ serverId, actionId }) {
      const { db, host, driver, images, syncNetwork } = deps();
      const s = await db.server.findUnique({ where: { id: serverId } });
      if (!s || s.deleted || s.taskState === TaskState.DELETING) return;
      if (s.vmState !== VmState.BUILDING || s.host !== host) return;
      const plugPorts = (row: typeof s) => plugServerPorts(deps(), row);
      const flavor = FlavorSnapshot.parse(s.flavor);
      let step = 'compute_block_device_mapping';
      /** Moves to a task state, unless a delete overtook the build. */
      const setTask = async (taskState: string, event: string) => {
        step = event;
        return db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState === TaskState.DELETING) return false;
          await updateServer(tx, serverId, { taskState });
          await eventStart(tx, actionId, event, host);
          return true;
        }, TX);
      };
      try {
        if (!(await setTask(TaskState.BLOCK_DEVICE_MAPPING, 'compute_block_device_mapping'))) return;
        const vols = await deps().volumes?.(serverId);
        let base = '';
        if (!vols?.root) {
          const { image, bytes } = await imageBackend().open(s.imageId);
          base = await images.ensureBaseImage(image.id, bytes, image.checksum ? { checksum: image.checksum } : {});
        }
        await db.$transaction(
          (tx) => eventFinish(tx, actionId, 'compute_block_device_mapping', 'Success', { host }),
          TX,
        );

        if (!(await setTask(TaskState.SPAWNING, 'compute_spawn'))) return;
        const nics = await plugPorts(s);
        const result = await driver.spawn({
          uuid: serverId,
          vcpus: flavor.vcpus,
          memoryMb: flavor.ramMb,
          rootDiskGb: flavor.diskGb,
          baseImagePath: base,
          ...(vols?.root ? { rootVolume: vols.root } : {}),
          nics,
          displayName: s.name,
        });
        for (const extra of vols?.extra ?? []) await driver.attachVolume(serverId, extra);
        // Once more now that libvirt made the taps (idempotent; a failure here only logs).
        if (nics.length && syncNetwork)
          await syncNetwork().catch((err: unknown) =>
            logger().warn({ err, serverId }, 'network pass after spawn failed'),
          );
        const ps = await driver.powerState(serverId);
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState === TaskState.DELETING) return;
          await updateServer(tx, serverId, {
            vmState: VmState.ACTIVE,
            taskState: null,
            powerState: ps === PowerState.NOSTATE ? PowerState.RUNNING : ps,
            launchedAt: new Date(),
            fault: undefined,
          });
          if (vols) await markBootVolumesAttached(tx, serverId);
          const t = result.timings;
          await eventFinish(tx, actionId, 'compute_spawn', 'Success', {
            host,
            message: `disk ${Math.round(t.diskMs)} ms, define ${Math.round(t.defineMs)} ms, start ${Math.round(t.startMs)} ms`,
          });
          await finishAction(tx, actionId);
        }, TX);
        await refreshNodeUsage(host, db);
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId, host, step }, 'build failed');
        // Roll back what this host made (domain, disks), then the claim, then retry elsewhere.
        await driver
          .destroy(serverId)
          .catch((destroyErr: unknown) =>
            logger().error({ err: destroyErr, serverId }, 'cleanup after failed build failed'),
          );
        await deletePortsOfServer(serverId, { preserve: userPortsOf(s) }).catch((portErr: unknown) =>
          logger().error({ err: portErr, serverId }, 'removing the ports of a failed build failed'),
        );
        const max = isFatal(err) ? 0 : loadConfig().schedulerMaxAttempts;
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState === TaskState.DELETING) return;
          await releaseAllocation(tx, serverId);
          await eventFinish(tx, actionId, step, 'Error', { host, message: e.message, traceback: e.traceback });
          const tried = [...cur.triedHosts, host];
          if (tried.length < max) {
            await updateServer(tx, serverId, {
              host: null,
              node: null,
              triedHosts: tried,
              taskState: TaskState.SCHEDULING,
              fault: makeFault(
                500,
                e.message,
                `Build on ${host} failed; rescheduling (attempt ${tried.length + 1} of ${max}).`,
              ),
            });
            await enqueueJob(
              tx,
              scheduleJobDef,
              { serverId, actionId },
              { jobKey: `schedule:${serverId}:${tried.length}` },
            );
          } else {
            await updateServer(tx, serverId, {
              vmState: VmState.ERROR,
              taskState: null,
              powerState: PowerState.NOSTATE,
              triedHosts: tried,
              fault: makeFault(
                500,
                `Build of instance ${serverId} aborted: ${e.message}`,
                `Tried ${tried.length} host(s): ${tried.join(', ')}`,
              ),
            });
            await finishAction(tx, actionId, 'Error');
          }
        }, TX);
        await refreshNodeUsage(host, db);
      }
    },
  };

  const del: JobDefinition<typeof deleteJobDef.payload> = {
    ...deleteJobDef,
    async handler({ serverId, actionId }) {
      const { db, host, driver } = deps();
      const s = await db.server.findUnique({ where: { id: serverId } });
      if (!s || s.deleted) return;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_terminate_instance', host), TX);
      await driver.destroy(serverId);
      await deletePortsOfServer(serverId, { preserve: userPortsOf(s) });
      await db.$transaction(async (tx) => {
        const cur = await lockServer(tx, serverId);
        if (!cur || cur.deleted) return;
        // A cold migration still open: its source host drops what it kept for a revert.
        const moved = await tx.migration.findMany({
          where: {
            serverId,
            migrationType: MIGRATION_TYPE.MIGRATION,
            status: { in: ['post-migrating', 'finished', 'reverting'] },
            sourceHost: { not: host },
          },
        });
        for (const m of moved)
          await enqueueJob(
            tx,
            confirmResizeJobDef,
            { serverId, actionId, migrationId: m.id },
            { host: m.sourceHost, queueName: serverQueue(serverId) },
          );
        await finishDelete(tx, serverId, actionId);
      }, TX);
      await refreshNodeUsage(host, db);
    },
  };

  const FINAL: Record<PowerOp, { task: string; vm: string; event: string }> = {
    stop: { task: TaskState.POWERING_OFF, vm: VmState.STOPPED, event: 'compute_stop_instance' },
    start: { task: TaskState.POWERING_ON, vm: VmState.ACTIVE, event: 'compute_start_instance' },
    reboot_soft: { task: TaskState.REBOOTING, vm: VmState.ACTIVE, event: 'compute_reboot_instance' },
    reboot_hard: { task: TaskState.REBOOTING_HARD, vm: VmState.ACTIVE, event: 'compute_reboot_instance' },
    pause: { task: TaskState.PAUSING, vm: VmState.PAUSED, event: 'compute_pause_instance' },
    unpause: { task: TaskState.UNPAUSING, vm: VmState.ACTIVE, event: 'compute_unpause_instance' },
    suspend: { task: TaskState.SUSPENDING, vm: VmState.SUSPENDED, event: 'compute_suspend_instance' },
    resume: { task: TaskState.RESUMING, vm: VmState.ACTIVE, event: 'compute_resume_instance' },
  };

  const power: JobDefinition<typeof powerJobDef.payload> = {
    ...powerJobDef,
    async handler({ serverId, actionId, op }) {
      const { db, host, driver } = deps();
      const f = FINAL[op];
      const s = await db.server.findUnique({ where: { id: serverId } });
      // Done already (a retry), or overtaken by a delete.
      if (!s || s.deleted || s.taskState !== f.task) return;
      await db.$transaction((tx) => eventStart(tx, actionId, f.event, host), TX);
      try {
        if (op === 'stop') await driver.stop(serverId);
        else if (op === 'start') await driver.start(serverId);
        else if (op === 'reboot_soft') await driver.reboot(serverId, 'SOFT');
        else if (op === 'reboot_hard') await driver.reboot(serverId, 'HARD');
        else if (op === 'pause') await driver.pause(serverId);
        else if (op === 'unpause') await driver.unpause(serverId);
        else if (op === 'suspend') await driver.suspend(serverId);
        else await driver.resume(serverId);
        const ps = await driver.powerState(serverId);
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState !== f.task) return;
          await updateServer(tx, serverId, { vmState: f.vm, taskState: null, powerState: ps });
          await eventFinish(tx, actionId, f.event, 'Success', { host });
          await finishAction(tx, actionId);
        }, TX);
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId, op }, 'power action failed');
        const ps = await driver.powerState(serverId).catch(() => s.powerState);
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState !== f.task) return;
          // Nova reverts the task state and keeps the vm state; the event carries the error.
          await updateServer(tx, serverId, { taskState: null, powerState: ps });
          await eventFinish(tx, actionId, f.event, 'Error', { host, message: e.message, traceback: e.traceback });
          await finishAction(tx, actionId, 'Error');
        }, TX);
      }
    },
  };

  /** Stops a running guest for a flavor change; returns whether it was running. */
  const stopForChange = async (driver: ComputeDriver, serverId: string): Promise<boolean> => {
    const ps = await driver.powerState(serverId);
    if (ps === PowerState.RUNNING || ps === PowerState.PAUSED) {
      await driver.stop(serverId);
      return true;
    }
    return false;
  };

  const rebuild: JobDefinition<typeof rebuildJobDef.payload> = {
    ...rebuildJobDef,
    async handler({ serverId, actionId }) {
      const d = deps();
      const { db, host, driver, images } = d;
      const s = await db.server.findUnique({ where: { id: serverId } });
      if (!s || s.deleted || s.taskState !== TaskState.REBUILDING || s.host !== host) return;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_rebuild_instance', host), TX);
      const flavor = FlavorSnapshot.parse(s.flavor);
      try {
        // The guest and its disks go; ports, flavor and allocations stay.
        await driver.destroy(serverId);
        const { image, bytes } = await imageBackend().open(s.imageId);
        const base = await images.ensureBaseImage(image.id, bytes, image.checksum ? { checksum: image.checksum } : {});
        await db.$transaction((tx) => updateServer(tx, serverId, { taskState: TaskState.REBUILD_SPAWNING }), TX);
        const nics = await plugServerPorts(d, s);
        await driver.spawn({
          uuid: serverId,
          vcpus: flavor.vcpus,
          memoryMb: flavor.ramMb,
          rootDiskGb: flavor.diskGb,
          baseImagePath: base,
          nics,
          displayName: s.name,
        });
        // A rebuilt stopped server stays stopped (Nova).
        if (s.vmState === VmState.STOPPED) await driver.stop(serverId);
        const ps = await driver.powerState(serverId);
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState === TaskState.DELETING) return;
          await updateServer(tx, serverId, {
            vmState: s.vmState === VmState.STOPPED ? VmState.STOPPED : VmState.ACTIVE,
            taskState: null,
            powerState: ps,
            launchedAt: new Date(),
            fault: undefined,
          });
          await eventFinish(tx, actionId, 'compute_rebuild_instance', 'Success', { host });
          await finishAction(tx, actionId);
        }, TX);
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId }, 'rebuild failed');
        const ps = await driver.powerState(serverId).catch(() => PowerState.NOSTATE);
        await db.$transaction(async (tx) => {
          const cur = await lockServer(tx, serverId);
          if (!cur || cur.deleted || cur.taskState === TaskState.DELETING) return;
          await updateServer(tx, serverId, {
            vmState: VmState.ERROR,
            taskState: null,
            powerState: ps,
            fault: makeFault(500, `Rebuild of instance ${serverId} failed: ${e.message}`, e.traceback),
          });
          await eventFinish(tx, actionId, 'compute_rebuild_instance', 'Error', { host, ...e });
          await finishAction(tx, actionId, 'Error');
        }, TX);
      }
    },
  };

  /** Ends a resize that could not go on: allocations back to the server, migration in error. */
  /**
   * The server and migration a resize/migration job works on, when both are still in the
   * state the job expects (a retry after the step, or a deleted server, finds them not).
   */
  const loadMigrating = async (
    db: PrismaClient,
    ids: { serverId: string; migrationId: string },
    taskState: string,
    status: string,
  ): Promise<{ s: ServerRow; m: MigrationRow } | undefined> => {
    const s = await db.server.findUnique({ where: { id: ids.serverId } });
    const m = await db.migration.findUnique({ where: { id: ids.migrationId } });
    if (!s || !m || s.deleted || s.taskState !== taskState || m.status !== status) return undefined;
    return { s, m };
  };

  /**
   * A step that hands the work on to the next job (one transaction; nothing when the
   * server is gone, but `gone`): migration and server updates, the event's end, `next`.
   */
  const handOn = (
    db: PrismaClient,
    o: {
      serverId: string;
      actionId: string;
      event: string;
      result?: 'Success' | 'Error';
      detail: Record<string, unknown>;
      migration?: { id: string; data: { status: string; destHost?: string; destNode?: string } };
      server?: ServerPatch;
      next: (tx: Tx) => Promise<unknown>;
      gone?: (tx: Tx) => Promise<void>;
    },
  ) =>
    db.$transaction(async (tx) => {
      const cur = await lockServer(tx, o.serverId);
      if (!cur || cur.deleted) {
        await o.gone?.(tx);
        return;
      }
      if (o.migration) await tx.migration.update({ where: { id: o.migration.id }, data: o.migration.data });
      if (o.server) await updateServer(tx, o.serverId, o.server);
      await eventFinish(tx, o.actionId, o.event, o.result ?? 'Success', o.detail);
      await o.next(tx);
    }, TX);

  /**
   * The last step of a resize, a migration or their revert (one transaction; nothing when
   * the server is gone): the migration's allocations back to the server when reverting,
   * the migration's status, the server's state, the event's and the action's end.
   */
  const settle = (
    db: PrismaClient,
    o: {
      serverId: string;
      actionId: string;
      m: MigrationRow;
      host: string;
      event: string;
      status: string;
      server: ServerPatch;
      giveBack?: boolean;
      result?: 'Error';
    },
  ) =>
    db.$transaction(async (tx) => {
      const cur = await lockServer(tx, o.serverId);
      if (!cur || cur.deleted) return;
      if (o.giveBack)
        await moveAllocations(tx, { from: o.m.id, to: o.serverId, projectId: o.m.projectId, userId: o.m.userId });
      await tx.migration.update({ where: { id: o.m.id }, data: { status: o.status } });
      await updateServer(tx, o.serverId, o.server);
      await eventFinish(tx, o.actionId, o.event, 'Success', { host: o.host });
      await finishAction(tx, o.actionId, o.result);
    }, TX);

  /** An in-place flavor change (resize or its revert) on this host; returns the power state after. */
  const reshapeGuest = async (
    driver: ComputeDriver,
    serverId: string,
    f: FlavorSnapshot,
    op: 'resize' | 'revertResize',
  ): Promise<number> => {
    const wasRunning = await stopForChange(driver, serverId);
    await driver[op](serverId, { vcpus: f.vcpus, memoryMb: f.ramMb, rootDiskGb: f.diskGb });
    if (wasRunning) await driver.start(serverId);
    return driver.powerState(serverId);
  };

  const abandonResize = async (
    db: PrismaClient,
    o: { serverId: string; actionId: string; migrationId: string; event: string; error: string; vmState?: string },
  ) =>
    db.$transaction(async (tx) => {
      const cur = await lockServer(tx, o.serverId);
      const m = await tx.migration.findUnique({ where: { id: o.migrationId } });
      if (!cur || !m) return;
      if (!cur.deleted && (await hasAllocation(tx, o.migrationId))) {
        await moveAllocations(tx, { from: o.migrationId, to: o.serverId, projectId: m.projectId, userId: m.userId });
      }
      await tx.migration.update({ where: { id: m.id }, data: { status: 'error' } });
      if (cur.deleted) return;
      await updateServer(tx, o.serverId, {
        taskState: null,
        ...(o.vmState ? { vmState: o.vmState } : {}),
        fault: makeFault(
          500,
          o.error,
          m.migrationType === MIGRATION_TYPE.MIGRATION
            ? `Migration from ${m.sourceHost} failed.`
            : `Resize to flavor ${FlavorSnapshot.parse(m.newFlavor).name} failed.`,
        ),
      });
      await eventFinish(tx, o.actionId, o.event, 'Error', { message: o.error });
      await finishAction(tx, o.actionId, 'Error');
    }, TX);

  const resizePrep: JobDefinition<typeof resizePrepJobDef.payload> = {
    ...resizePrepJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const { db } = deps();
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_PREP, 'pre-migrating');
      if (!found) return;
      const { s, m } = found;
      await db.$transaction((tx) => eventStart(tx, actionId, 'conductor_migrate_server'), TX);
      // 1. The old flavor's allocations become the migration's (skipped on a retry that did it).
      await db.$transaction(async (tx) => {
        if (await hasAllocation(tx, migrationId)) return;
        await moveAllocations(tx, { from: serverId, to: migrationId, projectId: m.projectId, userId: m.userId });
      }, TX);
      // 2. The new flavor is claimed for the server on its own host (a resize) or on another
      // one (a cold migration), through the scheduler's filters.
      const migrating = m.migrationType === MIGRATION_TYPE.MIGRATION;
      const picked =
        (await hasAllocation(db, serverId)) && m.destNode
          ? { host: m.destHost, nodename: m.destNode }
          : migrating
            ? await selectHostForMigration(s, { source: m.sourceHost, host: m.destHost || null })
            : await selectHostForResize(s, FlavorSnapshot.parse(m.newFlavor), m.sourceHost);
      if ('error' in picked) {
        await abandonResize(db, {
          serverId,
          actionId,
          migrationId,
          event: 'conductor_migrate_server',
          error: `No valid host was found. ${picked.error}`,
        });
        return;
      }
      await handOn(db, {
        serverId,
        actionId,
        event: 'conductor_migrate_server',
        detail: { host: picked.host },
        migration: { id: migrationId, data: { status: 'migrating', destHost: picked.host, destNode: picked.nodename } },
        server: { taskState: TaskState.RESIZE_MIGRATING },
        // A resize runs on its host; a cold migration starts on the source.
        next: (tx) =>
          enqueueJob(
            tx,
            migrating ? migrateSourceJobDef : resizeJobDef,
            { serverId, actionId, migrationId },
            { host: migrating ? m.sourceHost : picked.host, queueName: serverQueue(serverId) },
          ),
        // Deleted meanwhile: finishDelete freed the migration; the new claim goes too.
        gone: (tx) => releaseAllocation(tx, serverId),
      });
    },
  };

  const resize: JobDefinition<typeof resizeJobDef.payload> = {
    ...resizeJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const { db, host, driver } = deps();
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_MIGRATING, 'migrating');
      if (!found) return;
      const { m } = found;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_resize_instance', host), TX);
      const next = FlavorSnapshot.parse(m.newFlavor);
      try {
        const ps = await reshapeGuest(driver, serverId, next, 'resize');
        await settle(db, {
          serverId,
          actionId,
          m,
          host,
          event: 'compute_resize_instance',
          status: 'finished',
          server: { vmState: VmState.RESIZED, taskState: null, powerState: ps, flavor: { ...next }, flavorId: next.id },
        });
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId }, 'resize failed');
        // The guest's old definition and disk may be half-changed: ERROR, as Nova leaves it.
        await abandonResize(db, {
          serverId,
          actionId,
          migrationId,
          event: 'compute_resize_instance',
          error: e.message,
          vmState: VmState.ERROR,
        });
      }
      await refreshNodeUsage(host, db);
    },
  };

  const confirm: JobDefinition<typeof confirmResizeJobDef.payload> = {
    ...confirmResizeJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const { db, host, driver } = deps();
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_confirm_resize', host), TX);
      const m = await db.migration.findUnique({ where: { id: migrationId } });
      // A cold migration's source drops its kept copy; a resize drops the kept disk.
      if (m?.migrationType === MIGRATION_TYPE.MIGRATION) await driver.confirmMigration(serverId);
      else await driver.confirmResize(serverId);
      await db.$transaction(async (tx) => {
        await eventFinish(tx, actionId, 'compute_confirm_resize', 'Success', { host });
        await finishAction(tx, actionId);
      }, TX);
      await refreshNodeUsage(host, db);
    },
  };

  const revert: JobDefinition<typeof revertResizeJobDef.payload> = {
    ...revertResizeJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const { db, host, driver } = deps();
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_REVERTING, 'reverting');
      if (!found) return;
      const { m } = found;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_revert_resize', host), TX);
      const old = FlavorSnapshot.parse(m.oldFlavor);
      if (m.migrationType === MIGRATION_TYPE.MIGRATION) {
        // The destination drops its copy (domain, disk); the source takes the guest back.
        try {
          await driver.destroy(serverId);
          await handOn(db, {
            serverId,
            actionId,
            event: 'compute_revert_resize',
            detail: { host },
            next: (tx) =>
              enqueueJob(
                tx,
                finishRevertMigrationJobDef,
                { serverId, actionId, migrationId },
                { host: m.sourceHost, queueName: serverQueue(serverId) },
              ),
          });
        } catch (err) {
          await failRevert(db, { serverId, actionId, migrationId, host, err });
        }
        await refreshNodeUsage(host, db);
        return;
      }
      try {
        const ps = await reshapeGuest(driver, serverId, old, 'revertResize');
        // The server takes the old flavor's allocations back from the migration.
        await settle(db, {
          serverId,
          actionId,
          m,
          host,
          event: 'compute_revert_resize',
          status: 'reverted',
          giveBack: true,
          server: {
            vmState: settledVmState(ps),
            taskState: null,
            powerState: ps,
            flavor: { ...old },
            flavorId: old.id,
          },
        });
      } catch (err) {
        await failRevert(db, { serverId, actionId, migrationId, host, err });
      }
      await refreshNodeUsage(host, db);
    },
  };

  /** A revert that failed half-way: ERROR with the fault, as Nova leaves it. */
  const failRevert = async (
    db: PrismaClient,
    o: { serverId: string; actionId: string; migrationId: string; host: string; err: unknown; event?: string },
  ) => {
    const e = errText(o.err);
    logger().warn({ err: o.err, serverId: o.serverId }, 'revert resize failed');
    await db.$transaction(async (tx) => {
      const cur = await lockServer(tx, o.serverId);
      if (!cur || cur.deleted) return;
      await tx.migration.update({ where: { id: o.migrationId }, data: { status: 'error' } });
      await updateServer(tx, o.serverId, {
        vmState: VmState.ERROR,
        taskState: null,
        fault: makeFault(500, `Revert of the resize failed: ${e.message}`, e.traceback),
      });
      await eventFinish(tx, o.actionId, o.event ?? 'compute_revert_resize', 'Error', { host: o.host, ...e });
      await finishAction(tx, o.actionId, 'Error');
    }, TX);
  };

  // ------------------------------------------------------------ cold migration between hosts

  const migrateSource: JobDefinition<typeof migrateSourceJobDef.payload> = {
    ...migrateSourceJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const { db, host, driver } = deps();
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_MIGRATING, 'migrating');
      if (!found) return;
      const { s, m } = found;
      if (s.host !== host || m.sourceHost !== host) return;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_resize_instance', host), TX);
      try {
        const handed = await driver.migrateDiskAndPowerOff(serverId);
        await handOn(db, {
          serverId,
          actionId,
          event: 'compute_resize_instance',
          detail: { host },
          migration: { id: migrationId, data: { status: 'post-migrating' } },
          server: { taskState: TaskState.RESIZE_MIGRATED },
          next: (tx) =>
            enqueueJob(
              tx,
              finishMigrationJobDef,
              { serverId, actionId, migrationId, sourceDiskPath: handed.diskPath },
              { host: m.destHost, queueName: serverQueue(serverId) },
            ),
        });
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId, host }, 'migration: handing the guest over failed');
        // The guest may be stopped and undefined half-way: take it back here if we can.
        const start = s.vmState === VmState.ACTIVE;
        const back = await driver.finishRevertMigration(serverId, { start }).then(
          () => true,
          () => false,
        );
        const ps = await driver.powerState(serverId).catch(() => PowerState.NOSTATE);
        await abandonResize(db, {
          serverId,
          actionId,
          migrationId,
          event: 'compute_resize_instance',
          error: e.message,
          ...(back ? {} : { vmState: VmState.ERROR }),
        });
        if (back) await db.$transaction((tx) => updateServer(tx, serverId, { powerState: ps }), TX);
      }
    },
  };

  const finishMigration: JobDefinition<typeof finishMigrationJobDef.payload> = {
    ...finishMigrationJobDef,
    async handler({ serverId, actionId, migrationId, sourceDiskPath }) {
      const d = deps();
      const { db, host, driver, images } = d;
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_MIGRATED, 'post-migrating');
      if (!found) return;
      const { s, m } = found;
      if (m.destHost !== host) return;
      await db.$transaction(async (tx) => {
        await updateServer(tx, serverId, { taskState: TaskState.RESIZE_FINISH });
        await eventStart(tx, actionId, 'compute_finish_resize', host);
      }, TX);
      const flavor = FlavorSnapshot.parse(m.newFlavor);
      try {
        // The overlay's base image comes from this host's cache (fetched when missing).
        const { image, bytes } = await imageBackend().open(s.imageId);
        const base = await images.ensureBaseImage(image.id, bytes, image.checksum ? { checksum: image.checksum } : {});
        const nics = await plugServerPorts(d, { ...s, host });
        await driver.finishMigration({
          uuid: serverId,
          vcpus: flavor.vcpus,
          memoryMb: flavor.ramMb,
          rootDiskGb: flavor.diskGb,
          baseImagePath: base,
          nics,
          displayName: s.name,
          sourceDiskPath,
          // Nova powers the guest on at the destination unless it was stopped.
          start: s.vmState !== VmState.STOPPED,
        });
        const ps = await driver.powerState(serverId);
        await settle(db, {
          serverId,
          actionId,
          m,
          host,
          event: 'compute_finish_resize',
          status: 'finished',
          server: { vmState: VmState.RESIZED, taskState: null, powerState: ps, host, node: m.destNode },
        });
      } catch (err) {
        const e = errText(err);
        logger().warn({ err, serverId, host }, 'migration: finishing on the destination failed');
        // Nothing of the destination's copy stays; the source still has the guest.
        await driver.destroy(serverId).catch(() => undefined);
        await handOn(db, {
          serverId,
          actionId,
          event: 'compute_finish_resize',
          result: 'Error',
          detail: { host, ...e },
          migration: { id: migrationId, data: { status: 'reverting' } },
          server: {
            taskState: TaskState.RESIZE_REVERTING,
            fault: makeFault(500, `Migration to ${host} failed: ${e.message}`, e.traceback),
          },
          next: (tx) =>
            enqueueJob(
              tx,
              finishRevertMigrationJobDef,
              { serverId, actionId, migrationId },
              { host: m.sourceHost, queueName: serverQueue(serverId) },
            ),
        });
      }
      await refreshNodeUsage(host, db);
    },
  };

  const finishRevertMigration: JobDefinition<typeof finishRevertMigrationJobDef.payload> = {
    ...finishRevertMigrationJobDef,
    async handler({ serverId, actionId, migrationId }) {
      const d = deps();
      const { db, host, driver } = d;
      const found = await loadMigrating(db, { serverId, migrationId }, TaskState.RESIZE_REVERTING, 'reverting');
      if (!found) return;
      const { s, m } = found;
      if (m.sourceHost !== host) return;
      await db.$transaction((tx) => eventStart(tx, actionId, 'compute_finish_revert_resize', host), TX);
      try {
        // VERIFY_RESIZE's power state says whether the guest runs (a failed finish: the old one).
        const running =
          s.vmState === VmState.RESIZED ? s.powerState === PowerState.RUNNING : s.powerState !== PowerState.SHUTDOWN;
        await plugServerPorts(d, { ...s, host });
        await driver.finishRevertMigration(serverId, { start: running });
        const ps = await driver.powerState(serverId);
        const failed = s.vmState !== VmState.RESIZED;
        // The server takes the source's allocations back from the migration.
        await settle(db, {
          serverId,
          actionId,
          m,
          host,
          event: 'compute_finish_revert_resize',
          status: failed ? 'error' : 'reverted',
          giveBack: true,
          server: { vmState: settledVmState(ps), taskState: null, powerState: ps, host, node: m.sourceNode },
          ...(failed ? { result: 'Error' as const } : {}),
        });
      } catch (err) {
        await failRevert(db, { serverId, actionId, migrationId, host, err, event: 'compute_finish_revert_resize' });
      }
      await refreshNodeUsage(host, db);
      if (m.destHost) await refreshNodeUsage(m.destHost, db);
    },
  };

  return [
    schedule,
    build,
    del,
    power,
    rebuild,
    resizePrep,
    resize,
    confirm,
    revert,
    migrateSource,
    finishMigration,
    finishRevertMigration,
  ] as JobDefinition[];
}
