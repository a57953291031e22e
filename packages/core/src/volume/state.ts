/*
 * Cinder's volume lifecycle in one place: the statuses, and which actions each allows.
 * The API refuses with the reason below (400, as Cinder's InvalidVolume) and the
 * dashboard shows or hides buttons with the same table.
 */
export const VolumeStatus = {
  CREATING: 'creating',
  AVAILABLE: 'available',
  RESERVED: 'reserved',
  ATTACHING: 'attaching',
  IN_USE: 'in-use',
  DETACHING: 'detaching',
  DELETING: 'deleting',
  EXTENDING: 'extending',
  RETYPING: 'retyping',
  BACKING_UP: 'backing-up',
  RESTORING_BACKUP: 'restoring-backup',
  AWAITING_TRANSFER: 'awaiting-transfer',
  ERROR: 'error',
  ERROR_DELETING: 'error_deleting',
  ERROR_EXTENDING: 'error_extending',
  ERROR_RESTORING: 'error_restoring',
} as const;
export type VolumeStatus = (typeof VolumeStatus)[keyof typeof VolumeStatus];
export const VOLUME_STATUSES: readonly string[] = Object.values(VolumeStatus);

export const AttachStatus = {
  DETACHED: 'detached',
  ATTACHING: 'attaching',
  ATTACHED: 'attached',
  DETACHING: 'detaching',
} as const;

export type VolumeAction =
  | 'delete'
  | 'extend'
  | 'extend_attached'
  | 'retype'
  | 'attach'
  | 'detach'
  | 'snapshot'
  | 'snapshot_attached'
  | 'backup'
  | 'backup_attached'
  | 'transfer'
  | 'clone'
  | 'restore_into'
  | 'update';

const S = VolumeStatus;
const ALLOWED: Record<VolumeAction, readonly string[]> = {
  delete: [S.AVAILABLE, S.ERROR, S.ERROR_RESTORING, S.ERROR_EXTENDING, S.ERROR_DELETING],
  extend: [S.AVAILABLE],
  extend_attached: [S.AVAILABLE, S.IN_USE],
  retype: [S.AVAILABLE, S.IN_USE],
  attach: [S.AVAILABLE],
  detach: [S.IN_USE],
  snapshot: [S.AVAILABLE],
  snapshot_attached: [S.AVAILABLE, S.IN_USE],
  backup: [S.AVAILABLE],
  backup_attached: [S.AVAILABLE, S.IN_USE],
  transfer: [S.AVAILABLE],
  clone: [S.AVAILABLE, S.IN_USE],
  restore_into: [S.AVAILABLE],
  update: VOLUME_STATUSES.filter((s) => s !== S.DELETING),
};

const REASON: Record<VolumeAction, string> = {
  delete:
    'Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
  extend: 'Volume should be in available status to be extended (in-use needs microversion 3.42).',
  extend_attached: 'Volume should be in available or in-use status to be extended.',
  retype: 'Volume status must be available or in-use to retype.',
  attach: 'Volume status must be available to reserve.',
  detach: 'Volume must be in-use to be detached.',
  snapshot: 'Volume status must be available to snapshot (in-use needs force=True or microversion 3.66).',
  snapshot_attached: 'Volume status must be available or in-use to snapshot.',
  backup: 'Volume to be backed up must be available (in-use needs force=True).',
  backup_attached: 'Volume to be backed up must be available or in-use.',
  transfer: 'Volume status must be available to transfer.',
  clone: 'Source volume status must be available or in-use.',
  restore_into: 'Volume to be restored to must be available.',
  update: 'Volume is being deleted.',
};

export type VolumeVerdict = { ok: true } | { ok: false; reason: string };

export function canDoVolume(action: VolumeAction, v: { status: string; multiattach?: boolean }): VolumeVerdict {
  let allowed = ALLOWED[action];
  // A multiattach volume takes further attachments while in use.
  if (action === 'attach' && v.multiattach) allowed = [S.AVAILABLE, S.IN_USE];
  if (allowed.includes(v.status)) return { ok: true };
  return { ok: false, reason: `${REASON[action]} (status: ${v.status})` };
}

/** Statuses counted as "busy": a job is working on the volume. */
export const BUSY_STATUSES: readonly string[] = [
  S.CREATING,
  S.ATTACHING,
  S.DETACHING,
  S.DELETING,
  S.EXTENDING,
  S.RETYPING,
  S.BACKING_UP,
  S.RESTORING_BACKUP,
];
