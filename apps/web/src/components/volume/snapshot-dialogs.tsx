'use client';
import { useMutation } from '@tanstack/react-query';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';
import { ConfirmDialog } from '../modal';
import { useToast } from '../toast';
import { type BackupRow, type SnapshotRow, volumeLabel } from './status';

/* Deleting snapshots and backups, with confirmation; shared by the panels and the volume page. */

export function DeleteSnapshotDialog({ snapshot, onClose }: { snapshot: SnapshotRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const remove = useMutation(trpc.volume.snapshots.delete.mutationOptions());
  return (
    <ConfirmDialog
      open={snapshot !== null}
      title="Delete snapshot"
      busy={remove.isPending}
      onClose={onClose}
      onConfirm={() =>
        snapshot &&
        void remove.mutateAsync({ snapshotId: snapshot.id }).then(
          async () => {
            toast.success(`Snapshot ${volumeLabel(snapshot)} is being deleted`);
            await invalidate(trpc.volume.pathKey());
            onClose();
          },
          () => {},
        )
      }
      message={
        snapshot && (
          <>
            Delete snapshot <strong>{volumeLabel(snapshot)}</strong>? Volumes made from it keep their data. This cannot
            be undone.
          </>
        )
      }
    />
  );
}

export function DeleteBackupDialog({ backup, onClose }: { backup: BackupRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const remove = useMutation(trpc.volume.backups.delete.mutationOptions());
  return (
    <ConfirmDialog
      open={backup !== null}
      title="Delete backup"
      busy={remove.isPending}
      onClose={onClose}
      onConfirm={() =>
        backup &&
        void remove.mutateAsync({ backupId: backup.id }).then(
          async () => {
            toast.success(`Backup ${volumeLabel(backup)} is being deleted`);
            await invalidate(trpc.volume.pathKey());
            onClose();
          },
          () => {},
        )
      }
      message={
        backup && (
          <>
            Delete backup <strong>{volumeLabel(backup)}</strong> and its stored data? This cannot be undone.
          </>
        )
      }
    />
  );
}
