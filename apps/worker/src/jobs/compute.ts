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
  logger,
  makeFault,
  type PowerOp,
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
import type { PrismaClient } from '@stratus/db';
import type { ImageChecksum, ImageSource } from '../drivers/compute/image-cache.ts';
import type { ComputeDriver, NicSpec } from '../drivers/compute/types.ts';

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
        await updateServer(tx, serverId, { host: picked.host, node: picked.nodename });
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
      /**
       * One port per requested network (made once: a retried build reuses the server's
       * port on that network), bound to this host, its dataplane wired before the guest boots.
       */
      const plugPorts = async (row: typeof s): Promise<NicSpec[]> => {
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
      };
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
        const { image, bytes } = await imageBackend().open(s.imageId);
        const base = await images.ensureBaseImage(image.id, bytes, image.checksum ? { checksum: image.checksum } : {});
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
          nics,
          displayName: s.name,
        });
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

  return [schedule, build, del, power] as JobDefinition[];
}
