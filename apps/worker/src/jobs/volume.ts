import { chmod, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AttachStatus,
  backupCreateJobDef,
  backupDeleteJobDef,
  backupObjectCaller,
  backupRestoreJobDef,
  emitBackupEvent,
  emitSnapshotEvent,
  emitVolumeEvent,
  eventFinish,
  eventStart,
  finishAction,
  imageBackend,
  type JobDefinition,
  loadConfig,
  lockVolume,
  logger,
  registerVolumeBackend,
  settleVolumeAfterDetach,
  snapshotCreateJobDef,
  snapshotDeleteJobDef,
  updateVolumeRow,
  volumeAttachJobDef,
  volumeCreateJobDef,
  volumeDeleteJobDef,
  volumeDetachJobDef,
  volumeExtendJobDef,
  VolumeStatus,
} from '@stratus/core';
import type { PrismaClient, Tx } from '@stratus/db';
import type { ImageChecksum, ImageSource } from '../drivers/compute/image-cache.ts';
import { runTool } from '../drivers/compute/libvirt.ts';
import type { ComputeDriver, VolumeAttachSpec } from '../drivers/compute/types.ts';
import {
  type BackupTarget,
  FilesystemBackupTarget,
  readBackupMetadata,
  restoreBackupToRaw,
  writeBackup,
} from '../drivers/volume/backup.ts';
import { ObjectStoreBackupTarget } from '../drivers/volume/backup-object.ts';
import { FileVolumeBackend } from '../drivers/volume/file.ts';
import { LibvirtLiveDisk } from '../drivers/volume/live.ts';
import { ensureWorkerObjectBackend } from './objectstore.ts';
import type { LiveDisk, VolumeBackendDriver, VolumeFormat } from '../drivers/volume/types.ts';

/*
 * The block-storage jobs. Data jobs (create, delete, extend, snapshots, backups) run on
 * the volume's backend host in the volume's queue; attach and detach run on the server's
 * host in the server's queue. Each handler re-reads its row and returns when the work
 * was done already (a retry after a crash), and every driver call is idempotent. A
 * failure leaves Cinder's error status with the reason, never a half-made volume.
 */
export interface VolumeDeps {
  db: PrismaClient;
  host: string;
  backend: VolumeBackendDriver;
  /** This host's backend name (host@name is the volume's `backend`). */
  backendName: string;
  availabilityZone: string;
  overSubscription: number;
  live: LiveDisk;
  compute: Pick<ComputeDriver, 'attachVolume' | 'detachVolume'>;
  images: {
    ensureBaseImage(imageId: string, source: ImageSource, opts?: { checksum?: ImageChecksum }): Promise<string>;
  };
  /** The filesystem backup target (backups whose row says driver `file`). */
  backups: BackupTarget;
  /** The object-store target of one backup's owner (driver `object`); absent: unreachable here. */
  objectBackups?: (b: BackupOwner) => BackupTarget;
  backupChunkBytes: number;
}

type BackupOwner = { id: string; projectId: string; userId: string };

/** Where a backup's data lives, from its row (not from today's configuration). */
function backupTargetOf(d: VolumeDeps, b: BackupOwner & { driver: string }): BackupTarget {
  if (b.driver !== 'object') return d.backups;
  if (!d.objectBackups) throw new Error(`backup ${b.id} is in the object store, which this worker cannot reach`);
  return d.objectBackups(b);
}

const TX = { maxWait: 30_000, timeout: 30_000 };
const fmt = (f: string): VolumeFormat => (f === 'raw' ? 'raw' : 'qcow2');
const GiB = 1024 ** 3;

function errMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return (m.split('\n')[0] ?? m).slice(0, 1000);
}

/** Registers (or refreshes) this host's backend with its capacity. */
export async function registerThisBackend(d: VolumeDeps): Promise<string> {
  const cap = await d.backend.capacity();
  return registerVolumeBackend(
    {
      host: d.host,
      backendName: d.backendName,
      driver: d.backend.driver,
      availabilityZone: d.availabilityZone,
      totalGb: cap.totalGb,
      freeGb: cap.freeGb,
      overSubscription: d.overSubscription,
    },
    d.db,
  );
}

/** The attached, running server holding a volume on this host, if any. */
async function liveHolder(d: VolumeDeps, volumeId: string): Promise<{ serverId: string; device: string } | undefined> {
  const a = await d.db.volumeAttachment.findFirst({ where: { volumeId, status: 'attached' } });
  if (!a?.device) return undefined;
  return (await d.live.isRunning(a.serverId)) ? { serverId: a.serverId, device: a.device } : undefined;
}

async function setBackup(
  tx: Tx,
  id: string,
  data: {
    status?: string;
    progress?: number;
    failReason?: string | null;
    restoreVolumeId?: string | null;
    objectCount?: number;
    storedBytes?: bigint;
  },
) {
  const b = await tx.volumeBackup.update({ where: { id }, data });
  await emitBackupEvent(tx, b, 'backup.updated');
}

/** Copies a volume's current data to a raw scratch file (live through libvirt when in use). */
async function readVolumeRaw(d: VolumeDeps, volumeId: string, format: VolumeFormat, scratch: string): Promise<string> {
  const raw = join(scratch, 'data.raw');
  const holder = await liveHolder(d, volumeId);
  let src = d.backend.locate(volumeId, format);
  if (holder) {
    const copy = join(scratch, 'live.qcow2');
    await d.live.blockCopy(holder.serverId, holder.device, copy, 'qcow2');
    src = { path: copy, format: 'qcow2' };
  }
  await runTool('qemu-img', ['convert', '-q', '-U', '-f', src.format, '-O', 'raw', src.path, raw], {
    timeoutMs: 6 * 3600_000,
  });
  await chmod(raw, 0o600);
  return raw;
}

export function volumeJobs(deps: () => VolumeDeps): JobDefinition[] {
  const create: JobDefinition<typeof volumeCreateJobDef.payload> = {
    ...volumeCreateJobDef,
    async handler({ volumeId }) {
      const d = deps();
      const v = await d.db.volume.findUnique({ where: { id: volumeId } });
      if (!v || v.status !== VolumeStatus.CREATING) return;
      const f = fmt(v.format);
      let scratch: string | undefined;
      try {
        if (v.imageId) {
          const { image, bytes } = await imageBackend().open(v.imageId);
          const base = await d.images.ensureBaseImage(
            image.id,
            bytes,
            image.checksum ? { checksum: image.checksum } : {},
          );
          await d.backend.createFromImage(v.id, base, v.size, f);
        } else if (v.snapshotId) {
          await d.backend.createFromSnapshot(v.id, v.snapshotId, v.size, f);
        } else if (v.sourceVolId) {
          const src = await d.db.volume.findUnique({ where: { id: v.sourceVolId } });
          if (!src) throw new Error(`source volume ${v.sourceVolId} is gone`);
          await d.backend.cloneVolume(v.id, src.id, fmt(src.format), v.size, f);
        } else if (v.backupId) {
          const b = await d.db.volumeBackup.findUnique({ where: { id: v.backupId } });
          if (!b) throw new Error(`backup ${v.backupId} is gone`);
          scratch = await d.backend.scratchDir();
          const raw = join(scratch, 'restore.raw');
          const target = backupTargetOf(d, b);
          const meta = await readBackupMetadata(target, b.container ?? 'volumebackups', b.id);
          await restoreBackupToRaw({
            target,
            container: b.container ?? 'volumebackups',
            meta,
            rawPath: raw,
            progress: (p) => d.db.$transaction((tx) => setBackup(tx, b.id, { progress: p }), TX),
          });
          await d.backend.createFromRaw(v.id, raw, v.size, f);
        } else {
          await d.backend.createBlank(v.id, v.size, f);
        }
        await d.db.$transaction(async (tx) => {
          const cur = await lockVolume(tx, v.id);
          if (cur?.status !== VolumeStatus.CREATING) return;
          await updateVolumeRow(tx, v.id, { status: VolumeStatus.AVAILABLE, errorMessage: null });
          if (v.backupId)
            await setBackup(tx, v.backupId, { status: 'available', progress: 100, restoreVolumeId: null });
        }, TX);
      } catch (err) {
        logger().warn({ err, volumeId }, 'volume create failed');
        await d.backend.delete(v.id).catch(() => {});
        await d.db.$transaction(async (tx) => {
          const cur = await lockVolume(tx, v.id);
          if (cur?.status !== VolumeStatus.CREATING) return;
          await updateVolumeRow(tx, v.id, { status: VolumeStatus.ERROR, errorMessage: errMessage(err) });
          if (v.backupId) await setBackup(tx, v.backupId, { status: 'available', restoreVolumeId: null });
        }, TX);
      } finally {
        if (scratch) await rm(scratch, { recursive: true, force: true });
      }
    },
  };

  const del: JobDefinition<typeof volumeDeleteJobDef.payload> = {
    ...volumeDeleteJobDef,
    async handler({ volumeId }, job) {
      const d = deps();
      const v = await d.db.volume.findUnique({ where: { id: volumeId } });
      if (!v || v.status !== VolumeStatus.DELETING) return;
      try {
        for (const s of await d.db.volumeSnapshot.findMany({ where: { volumeId } }))
          await d.backend.deleteSnapshot(s.id);
        await d.backend.delete(volumeId);
        await d.db.$transaction(async (tx) => {
          const cur = await lockVolume(tx, volumeId);
          if (!cur) return;
          await tx.volumeSnapshot.deleteMany({ where: { volumeId } });
          await tx.volumeAttachment.deleteMany({ where: { volumeId } });
          await tx.volume.delete({ where: { id: volumeId } });
          await emitVolumeEvent(tx, { ...cur, status: 'deleted' }, 'volume.deleted');
        }, TX);
      } catch (err) {
        if (job.attempt < job.maxAttempts) throw err;
        await d.db.$transaction(
          (tx) => updateVolumeRow(tx, volumeId, { status: VolumeStatus.ERROR_DELETING, errorMessage: errMessage(err) }),
          TX,
        );
      }
    },
  };

  const extend: JobDefinition<typeof volumeExtendJobDef.payload> = {
    ...volumeExtendJobDef,
    async handler({ volumeId }) {
      const d = deps();
      const v = await d.db.volume.findUnique({ where: { id: volumeId } });
      if (!v || v.status !== VolumeStatus.EXTENDING || !v.pendingSize) return;
      const newSize = v.pendingSize;
      try {
        const holder = await liveHolder(d, volumeId);
        if (holder) await d.live.blockResize(holder.serverId, holder.device, newSize * GiB);
        else await d.backend.extend(volumeId, newSize, fmt(v.format));
        await d.db.$transaction(async (tx) => {
          const cur = await lockVolume(tx, volumeId);
          if (cur?.status !== VolumeStatus.EXTENDING) return;
          await updateVolumeRow(tx, volumeId, {
            size: newSize,
            status: cur.previousStatus ?? VolumeStatus.AVAILABLE,
            previousStatus: null,
            pendingSize: null,
            errorMessage: null,
          });
        }, TX);
      } catch (err) {
        logger().warn({ err, volumeId }, 'volume extend failed');
        await d.db.$transaction(async (tx) => {
          const cur = await lockVolume(tx, volumeId);
          if (cur?.status !== VolumeStatus.EXTENDING) return;
          await updateVolumeRow(tx, volumeId, {
            status: VolumeStatus.ERROR_EXTENDING,
            pendingSize: null,
            errorMessage: errMessage(err),
          });
        }, TX);
      }
    },
  };

  const snapCreate: JobDefinition<typeof snapshotCreateJobDef.payload> = {
    ...snapshotCreateJobDef,
    async handler({ snapshotId }) {
      const d = deps();
      const s = await d.db.volumeSnapshot.findUnique({ where: { id: snapshotId } });
      if (s?.status !== 'creating') return;
      const v = await d.db.volume.findUnique({ where: { id: s.volumeId } });
      const setSnap = (data: { status: string; progress?: number; errorMessage?: string | null }) =>
        d.db.$transaction(async (tx) => {
          const u = await tx.volumeSnapshot.update({ where: { id: snapshotId }, data });
          await emitSnapshotEvent(tx, u, 'snapshot.updated');
        }, TX);
      try {
        if (!v) throw new Error(`volume ${s.volumeId} is gone`);
        const holder = await liveHolder(d, v.id);
        if (holder) {
          const dst = d.backend.snapshotLocation(snapshotId).path;
          await d.live.blockCopy(holder.serverId, holder.device, `${dst}.part`, 'qcow2');
          await rename(`${dst}.part`, dst);
        } else {
          await d.backend.createSnapshot(snapshotId, v.id, fmt(v.format));
        }
        await setSnap({ status: 'available', progress: 100, errorMessage: null });
      } catch (err) {
        logger().warn({ err, snapshotId }, 'snapshot failed');
        await d.backend.deleteSnapshot(snapshotId).catch(() => {});
        await setSnap({ status: 'error', errorMessage: errMessage(err) });
      }
    },
  };

  const snapDelete: JobDefinition<typeof snapshotDeleteJobDef.payload> = {
    ...snapshotDeleteJobDef,
    async handler({ snapshotId }, job) {
      const d = deps();
      const s = await d.db.volumeSnapshot.findUnique({ where: { id: snapshotId } });
      if (s?.status !== 'deleting') return;
      try {
        await d.backend.deleteSnapshot(snapshotId);
        await d.db.$transaction(async (tx) => {
          const gone = await tx.volumeSnapshot.deleteMany({ where: { id: snapshotId } });
          if (gone.count) await emitSnapshotEvent(tx, { ...s, status: 'deleted' }, 'snapshot.deleted');
        }, TX);
      } catch (err) {
        if (job.attempt < job.maxAttempts) throw err;
        await d.db.volumeSnapshot.update({
          where: { id: snapshotId },
          data: { status: 'error_deleting', errorMessage: errMessage(err) },
        });
      }
    },
  };

  const backupCreate: JobDefinition<typeof backupCreateJobDef.payload> = {
    ...backupCreateJobDef,
    async handler({ backupId }) {
      const d = deps();
      const b = await d.db.volumeBackup.findUnique({ where: { id: backupId } });
      if (b?.status !== 'creating') return;
      const container = b.container ?? 'volumebackups';
      const restoreVolume = (tx: Tx) =>
        lockVolume(tx, b.volumeId).then((cur) =>
          cur?.status === VolumeStatus.BACKING_UP
            ? updateVolumeRow(tx, b.volumeId, {
                status: cur.previousStatus ?? VolumeStatus.AVAILABLE,
                previousStatus: null,
              })
            : undefined,
        );
      let scratch: string | undefined;
      let target: BackupTarget | undefined;
      try {
        target = backupTargetOf(d, b);
        const v = await d.db.volume.findUnique({ where: { id: b.volumeId } });
        if (!v) throw new Error(`volume ${b.volumeId} is gone`);
        scratch = await d.backend.scratchDir();
        const raw = await readVolumeRaw(d, v.id, fmt(v.format), scratch);
        const parent = b.parentId ? await readBackupMetadata(target, container, b.parentId) : null;
        const r = await writeBackup({
          target,
          container,
          backupId,
          volumeId: v.id,
          rawPath: raw,
          chunkSize: d.backupChunkBytes,
          parent,
          progress: (p) => d.db.$transaction((tx) => setBackup(tx, backupId, { progress: p }), TX),
        });
        await d.db.$transaction(async (tx) => {
          await setBackup(tx, backupId, {
            status: 'available',
            progress: 100,
            objectCount: r.objectCount,
            storedBytes: BigInt(r.storedBytes),
            failReason: null,
          });
          await restoreVolume(tx);
        }, TX);
      } catch (err) {
        logger().warn({ err, backupId }, 'backup failed');
        await target?.deletePrefix(container, `${backupId}/`).catch(() => 0);
        await d.db.$transaction(async (tx) => {
          await setBackup(tx, backupId, { status: 'error', failReason: errMessage(err) });
          await restoreVolume(tx);
        }, TX);
      } finally {
        if (scratch) await rm(scratch, { recursive: true, force: true });
      }
    },
  };

  const backupDelete: JobDefinition<typeof backupDeleteJobDef.payload> = {
    ...backupDeleteJobDef,
    async handler({ backupId }, job) {
      const d = deps();
      const b = await d.db.volumeBackup.findUnique({ where: { id: backupId } });
      if (b?.status !== 'deleting') return;
      try {
        await backupTargetOf(d, b).deletePrefix(b.container ?? 'volumebackups', `${backupId}/`);
        await d.db.$transaction(async (tx) => {
          const gone = await tx.volumeBackup.deleteMany({ where: { id: backupId } });
          if (gone.count) await emitBackupEvent(tx, { ...b, status: 'deleted' }, 'backup.deleted');
        }, TX);
      } catch (err) {
        if (job.attempt < job.maxAttempts) throw err;
        await d.db.$transaction(
          (tx) => setBackup(tx, backupId, { status: 'error_deleting', failReason: errMessage(err) }),
          TX,
        );
      }
    },
  };

  const backupRestore: JobDefinition<typeof backupRestoreJobDef.payload> = {
    ...backupRestoreJobDef,
    async handler({ backupId, volumeId }) {
      const d = deps();
      const b = await d.db.volumeBackup.findUnique({ where: { id: backupId } });
      const v = await d.db.volume.findUnique({ where: { id: volumeId } });
      if (!b || !v || v.status !== VolumeStatus.RESTORING_BACKUP) return;
      const container = b.container ?? 'volumebackups';
      let scratch: string | undefined;
      try {
        scratch = await d.backend.scratchDir();
        const raw = join(scratch, 'restore.raw');
        const target = backupTargetOf(d, b);
        const meta = await readBackupMetadata(target, container, backupId);
        await restoreBackupToRaw({
          target,
          container,
          meta,
          rawPath: raw,
          progress: (p) => d.db.$transaction((tx) => setBackup(tx, backupId, { progress: p }), TX),
        });
        await d.backend.createFromRaw(volumeId, raw, v.size, fmt(v.format));
        await d.db.$transaction(async (tx) => {
          await updateVolumeRow(tx, volumeId, {
            status: v.previousStatus ?? VolumeStatus.AVAILABLE,
            previousStatus: null,
            errorMessage: null,
          });
          await setBackup(tx, backupId, { status: 'available', progress: 100, restoreVolumeId: null });
        }, TX);
      } catch (err) {
        logger().warn({ err, backupId, volumeId }, 'backup restore failed');
        await d.db.$transaction(async (tx) => {
          await updateVolumeRow(tx, volumeId, { status: VolumeStatus.ERROR_RESTORING, errorMessage: errMessage(err) });
          await setBackup(tx, backupId, { status: 'available', restoreVolumeId: null });
        }, TX);
      } finally {
        if (scratch) await rm(scratch, { recursive: true, force: true });
      }
    },
  };

  const attach: JobDefinition<typeof volumeAttachJobDef.payload> = {
    ...volumeAttachJobDef,
    async handler({ attachmentId, actionId }) {
      const d = deps();
      const a = await d.db.volumeAttachment.findUnique({ where: { id: attachmentId }, include: { volume: true } });
      if (a?.status !== 'attaching' || !a.device) return;
      const event = 'compute_attach_volume';
      if (actionId) await d.db.$transaction((tx) => eventStart(tx, actionId, event, d.host), TX);
      const spec = attachSpec(d, a.volumeId, a.volume.format, a.device);
      try {
        await d.compute.attachVolume(a.serverId, spec);
        await d.db.$transaction(async (tx) => {
          const cur = await tx.volumeAttachment.findUnique({ where: { id: attachmentId } });
          if (cur?.status !== 'attaching') return;
          await tx.volumeAttachment.update({
            where: { id: attachmentId },
            data: { status: 'attached', attachedAt: new Date() },
          });
          await updateVolumeRow(tx, a.volumeId, {
            status: VolumeStatus.IN_USE,
            attachStatus: AttachStatus.ATTACHED,
            previousStatus: null,
            errorMessage: null,
          });
          if (actionId) {
            await eventFinish(tx, actionId, event, 'Success', { host: d.host, message: `attached at ${a.device}` });
            await finishAction(tx, actionId);
          }
        }, TX);
      } catch (err) {
        logger().warn({ err, attachmentId }, 'volume attach failed');
        await d.compute.detachVolume(a.serverId, spec.targetDev).catch(() => {});
        await d.db.$transaction(async (tx) => {
          await tx.volumeAttachment.deleteMany({ where: { id: attachmentId } });
          await settleVolumeAfterDetach(tx, a.volumeId);
          await updateVolumeRow(tx, a.volumeId, {
            errorMessage: `attach to server ${a.serverId} failed: ${errMessage(err)}`,
          });
          if (actionId) {
            await eventFinish(tx, actionId, event, 'Error', { host: d.host, message: errMessage(err) });
            await finishAction(tx, actionId, 'Error');
          }
        }, TX);
      }
    },
  };

  const detach: JobDefinition<typeof volumeDetachJobDef.payload> = {
    ...volumeDetachJobDef,
    async handler({ attachmentId, actionId }) {
      const d = deps();
      const a = await d.db.volumeAttachment.findUnique({ where: { id: attachmentId } });
      if (a?.status !== 'detaching' || !a.device) return;
      const event = 'compute_detach_volume';
      if (actionId) await d.db.$transaction((tx) => eventStart(tx, actionId, event, d.host), TX);
      try {
        await d.compute.detachVolume(a.serverId, a.device.replace(/^\/dev\//, ''));
        await d.db.$transaction(async (tx) => {
          const gone = await tx.volumeAttachment.deleteMany({ where: { id: attachmentId, status: 'detaching' } });
          if (!gone.count) return;
          await settleVolumeAfterDetach(tx, a.volumeId);
          if (actionId) {
            await eventFinish(tx, actionId, event, 'Success', { host: d.host });
            await finishAction(tx, actionId);
          }
        }, TX);
      } catch (err) {
        logger().warn({ err, attachmentId }, 'volume detach failed');
        await d.db.$transaction(async (tx) => {
          await tx.volumeAttachment.updateMany({ where: { id: attachmentId }, data: { status: 'attached' } });
          await updateVolumeRow(tx, a.volumeId, {
            status: VolumeStatus.IN_USE,
            attachStatus: AttachStatus.ATTACHED,
            errorMessage: `detach from server ${a.serverId} failed: ${errMessage(err)}`,
          });
          if (actionId) {
            await eventFinish(tx, actionId, event, 'Error', { host: d.host, message: errMessage(err) });
            await finishAction(tx, actionId, 'Error');
          }
        }, TX);
      }
    },
  };

  return [
    create,
    del,
    extend,
    snapCreate,
    snapDelete,
    backupCreate,
    backupDelete,
    backupRestore,
    attach,
    detach,
  ] as JobDefinition[];
}

function attachSpec(d: VolumeDeps, volumeId: string, format: string, device: string): VolumeAttachSpec {
  const loc = d.backend.locate(volumeId, fmt(format));
  // Nova puts the volume id in the disk's serial; virtio keeps 20 characters of it.
  return {
    path: loc.path,
    format: loc.format,
    targetDev: device.replace(/^\/dev\//, ''),
    serial: volumeId.slice(0, 20),
  };
}

// ---------------------------------------------------------------- boot from volume (the build's side)

export interface BootDevices {
  /** The root disk when the server boots from a volume. */
  root?: { path: string; format: VolumeFormat };
  /** Further volumes to attach once the guest is defined. */
  extra: VolumeAttachSpec[];
}

/**
 * For a build: waits until the server's reserved volumes are available (their create
 * jobs run on the backend host) and returns where they are. Undefined when the server
 * has no volumes. Throws when a volume went to error or is on another host.
 */
export async function prepareBootVolumes(
  d: VolumeDeps,
  serverId: string,
  o: { timeoutMs?: number; pollMs?: number } = {},
): Promise<BootDevices | undefined> {
  const end = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const rows = await d.db.volumeAttachment.findMany({
      where: { serverId, status: 'reserved' },
      include: { volume: true },
      orderBy: { createdAt: 'asc' },
    });
    if (rows.length === 0) return undefined;
    const failed = rows.find((r) => r.volume.status === VolumeStatus.ERROR);
    if (failed)
      throw new Error(`volume ${failed.volumeId} could not be created: ${failed.volume.errorMessage ?? 'error'}`);
    if (rows.every((r) => r.volume.status === VolumeStatus.AVAILABLE || r.volume.status === VolumeStatus.RESERVED)) {
      const out: BootDevices = { extra: [] };
      for (const r of rows) {
        if (r.volume.host !== d.host)
          throw new Error(`volume ${r.volumeId} is on host ${r.volume.host ?? '-'}, not on ${d.host}`);
        const spec = attachSpec(d, r.volumeId, r.volume.format, r.device ?? '/dev/vdb');
        if (r.bootIndex === 0) out.root = { path: spec.path, format: spec.format };
        else out.extra.push(spec);
      }
      return out;
    }
    if (Date.now() > end) throw new Error('timed out waiting for the server’s volumes to be created');
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
}

// ---------------------------------------------------------------- the worker's volume role

let made: VolumeDeps | undefined;
/** This worker's volume dependencies, made on first use from the config. */
export function volumeDeps(compute: {
  db: PrismaClient;
  driver: ComputeDriver;
  images: VolumeDeps['images'];
}): VolumeDeps {
  if (!made) {
    const c = loadConfig();
    made = {
      db: compute.db,
      host: c.host,
      backend: new FileVolumeBackend({ dir: c.volumeDir ?? join(c.stateDir, 'volumes'), stateDir: c.stateDir }),
      backendName: c.volumeBackendName,
      availabilityZone: c.defaultAvailabilityZone,
      overSubscription: c.volumeOverSubscriptionRatio,
      live: new LibvirtLiveDisk(),
      compute: compute.driver,
      images: compute.images,
      backups: new FilesystemBackupTarget(c.backupDir ?? join(c.stateDir, 'backups')),
      objectBackups: (b) =>
        new ObjectStoreBackupTarget({
          caller: backupObjectCaller(b),
          projectId: b.projectId,
          ready: ensureWorkerObjectBackend,
        }),
      backupChunkBytes: c.backupChunkMb * 1024 * 1024,
    };
  }
  return made;
}

/** Registers the backend now and refreshes its capacity every minute (errors are logged). */
export function startVolumeBackend(deps: () => VolumeDeps, everyMs = 60_000): () => void {
  const tick = () =>
    registerThisBackend(deps()).catch((err: unknown) => logger().warn({ err }, 'volume backend registration failed'));
  void tick();
  const t = setInterval(() => void tick(), everyMs);
  t.unref();
  return () => clearInterval(t);
}
