import { z } from 'zod';
import type { JobDefinition } from '../platform/jobs.ts';

/*
 * The block-storage jobs as core enqueues them; their handlers live in the worker
 * (apps/worker/src/jobs/volume.ts). Data jobs run on the volume's backend host, one at a
 * time per volume (volumeQueue); attach/detach run on the server's host in the server's
 * queue, so they never race a build, power action or delete of that server.
 */
const notHere = async (): Promise<void> => {
  throw new Error('volume job handlers run in the worker');
};

export const VolumeJob = z.object({ volumeId: z.string().uuid() });
export const SnapshotJob = z.object({ snapshotId: z.string().uuid() });
export const BackupJob = z.object({ backupId: z.string().uuid() });
export const RestoreJob = z.object({ backupId: z.string().uuid(), volumeId: z.string().uuid() });
export const AttachmentJob = z.object({ attachmentId: z.string().uuid(), actionId: z.string().uuid().optional() });

const def = <S extends z.ZodType>(name: string, payload: S, maxAttempts = 5): JobDefinition<S> => ({
  name,
  payload,
  hostBound: true,
  maxAttempts,
  handler: notHere,
});

export const volumeCreateJobDef = def('volume.create', VolumeJob, 3);
export const volumeDeleteJobDef = def('volume.delete', VolumeJob, 10);
export const volumeExtendJobDef = def('volume.extend', VolumeJob, 3);
export const snapshotCreateJobDef = def('volume.snapshot_create', SnapshotJob, 3);
export const snapshotDeleteJobDef = def('volume.snapshot_delete', SnapshotJob, 10);
export const backupCreateJobDef = def('volume.backup_create', BackupJob, 3);
export const backupDeleteJobDef = def('volume.backup_delete', BackupJob, 10);
export const backupRestoreJobDef = def('volume.backup_restore', RestoreJob, 3);
export const volumeAttachJobDef = def('volume.attach', AttachmentJob, 3);
export const volumeDetachJobDef = def('volume.detach', AttachmentJob, 5);

/** Data jobs on one volume run one at a time, in order. */
export const volumeQueue = (volumeId: string): string => `volume:${volumeId}`;
