import {
  emitEvent,
  type Prisma,
  type Tx,
  type VolumeAttachment as AttachmentRow,
  type VolumeBackup as BackupRow,
  type Volume as VolumeRow,
  type VolumeSnapshot as SnapshotRow,
} from '@stratus/db';
import { z } from 'zod';

/*
 * Rows → the views core returns, and the one write path for status changes (the row
 * and its live event in the same transaction).
 */
const StringMap = z.record(z.string(), z.string());
const asMap = (v: unknown): Record<string, string> => {
  const r = StringMap.safeParse(v);
  return r.success ? r.data : {};
};

export interface VolumeAttachmentView {
  id: string;
  volumeId: string;
  serverId: string;
  host: string | null;
  device: string | null;
  status: string;
  mode: string;
  bootIndex: number | null;
  deleteOnTermination: boolean;
  tag: string | null;
  attachedAt: Date | null;
}

export interface VolumeView {
  id: string;
  name: string | null;
  description: string | null;
  projectId: string;
  userId: string;
  size: number;
  status: string;
  attachStatus: string;
  volumeTypeId: string;
  volumeTypeName: string;
  availabilityZone: string;
  backend: string | null;
  host: string | null;
  format: string;
  bootable: boolean;
  multiattach: boolean;
  metadata: Record<string, string>;
  imageMetadata: Record<string, string>;
  sourceVolId: string | null;
  snapshotId: string | null;
  imageId: string | null;
  backupId: string | null;
  errorMessage: string | null;
  attachments: VolumeAttachmentView[];
  createdAt: Date;
  updatedAt: Date;
}

export function toAttachment(a: AttachmentRow): VolumeAttachmentView {
  return {
    id: a.id,
    volumeId: a.volumeId,
    serverId: a.serverId,
    host: a.host,
    device: a.device,
    status: a.status,
    mode: a.mode,
    bootIndex: a.bootIndex,
    deleteOnTermination: a.deleteOnTermination,
    tag: a.tag,
    attachedAt: a.attachedAt,
  };
}

export function toVolume(r: VolumeRow & { attachments?: AttachmentRow[] }, typeName: string): VolumeView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    projectId: r.projectId,
    userId: r.userId,
    size: r.size,
    status: r.status,
    attachStatus: r.attachStatus,
    volumeTypeId: r.volumeTypeId,
    volumeTypeName: typeName,
    availabilityZone: r.availabilityZone,
    backend: r.backend,
    host: r.host,
    format: r.format,
    bootable: r.bootable,
    multiattach: r.multiattach,
    metadata: asMap(r.metadata),
    imageMetadata: asMap(r.imageMetadata),
    sourceVolId: r.sourceVolId,
    snapshotId: r.snapshotId,
    imageId: r.imageId,
    backupId: r.backupId,
    errorMessage: r.errorMessage,
    attachments: (r.attachments ?? []).filter((a) => a.status === 'attached').map(toAttachment),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export interface SnapshotView {
  id: string;
  volumeId: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: number;
  metadata: Record<string, string>;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toSnapshot(s: SnapshotRow): SnapshotView {
  return {
    id: s.id,
    volumeId: s.volumeId,
    projectId: s.projectId,
    userId: s.userId,
    name: s.name,
    description: s.description,
    size: s.size,
    status: s.status,
    progress: s.progress,
    metadata: asMap(s.metadata),
    errorMessage: s.errorMessage,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export interface BackupView {
  id: string;
  volumeId: string;
  snapshotId: string | null;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: number;
  isIncremental: boolean;
  parentId: string | null;
  hasDependentBackups: boolean;
  /** Where the data lives: the owner's object-store account (`object`) or the filesystem target (`file`). */
  driver: 'object' | 'file';
  /** The object-store container, or the folder under the filesystem target. */
  container: string | null;
  objectCount: number;
  storedBytes: number;
  availabilityZone: string | null;
  failReason: string | null;
  metadata: Record<string, string>;
  dataTimestamp: Date;
  createdAt: Date;
  updatedAt: Date;
}

export function toBackup(b: BackupRow, hasDependents: boolean): BackupView {
  return {
    id: b.id,
    volumeId: b.volumeId,
    snapshotId: b.snapshotId,
    projectId: b.projectId,
    userId: b.userId,
    name: b.name,
    description: b.description,
    size: b.size,
    status: b.status,
    progress: b.progress,
    isIncremental: b.isIncremental,
    parentId: b.parentId,
    hasDependentBackups: hasDependents,
    driver: b.driver === 'object' ? 'object' : 'file',
    container: b.container,
    objectCount: b.objectCount,
    storedBytes: Number(b.storedBytes),
    availabilityZone: b.availabilityZone,
    failReason: b.failReason,
    metadata: asMap(b.metadata),
    dataTimestamp: b.dataTimestamp,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}

export type VolumePatch = Pick<
  Prisma.VolumeUncheckedUpdateInput,
  | 'status'
  | 'attachStatus'
  | 'size'
  | 'errorMessage'
  | 'previousStatus'
  | 'pendingSize'
  | 'pendingTypeId'
  | 'volumeTypeId'
  | 'bootable'
  | 'multiattach'
  | 'metadata'
  | 'imageMetadata'
  | 'name'
  | 'description'
  | 'projectId'
  | 'userId'
  | 'backend'
  | 'host'
>;

/** Writes a volume change and its live event (volume.updated) in the caller's transaction. */
export async function updateVolumeRow(tx: Tx, id: string, patch: VolumePatch): Promise<VolumeRow> {
  const v = await tx.volume.update({ where: { id }, data: patch });
  await emitVolumeEvent(tx, v, 'volume.updated');
  return v;
}

export async function emitVolumeEvent(
  tx: Pick<Tx, '$executeRaw'>,
  v: Pick<VolumeRow, 'id' | 'projectId' | 'name' | 'status' | 'attachStatus' | 'size'>,
  type: string,
): Promise<void> {
  await emitEvent(tx, {
    type,
    projectId: v.projectId,
    resourceId: v.id,
    data: { name: v.name, status: v.status, attachStatus: v.attachStatus, size: v.size },
  });
}

/** A snapshot's or backup's live event: its name, status and progress. */
async function emitProgressEvent(
  tx: Pick<Tx, '$executeRaw'>,
  r: Pick<SnapshotRow | BackupRow, 'id' | 'projectId' | 'name' | 'status' | 'progress'>,
  type: string,
): Promise<void> {
  await emitEvent(tx, {
    type,
    projectId: r.projectId,
    resourceId: r.id,
    data: { name: r.name, status: r.status, progress: r.progress },
  });
}
export const emitSnapshotEvent = emitProgressEvent;
export const emitBackupEvent = emitProgressEvent;
