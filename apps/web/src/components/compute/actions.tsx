'use client';
import { canDo, type ServerAction } from '@stratus/core/compute/state';
import { useMutation } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { ConfirmDialog } from '../modal';
import { useToast } from '../toast';

export type ServerRow = inferRouterOutputs<AppRouter>['compute']['servers']['list']['items'][number];

type PowerOp = 'stop' | 'start' | 'reboot_soft' | 'reboot_hard' | 'pause' | 'unpause' | 'suspend' | 'resume';

/**
 * The server actions the dashboard offers, declared once (CloudStack style): which
 * state-machine action gates each (core's canDo, the same table the API refuses with),
 * and whether it applies to a selection.
 */
export interface ServerActionDef {
  id: PowerOp | 'delete';
  label: string;
  gate: ServerAction;
  danger?: boolean;
  bulk?: boolean;
  past: string;
}
export const SERVER_ACTIONS: ServerActionDef[] = [
  { id: 'start', label: 'Start', gate: 'start', bulk: true, past: 'starting' },
  { id: 'stop', label: 'Stop', gate: 'stop', bulk: true, past: 'stopping' },
  { id: 'reboot_soft', label: 'Reboot', gate: 'reboot', bulk: true, past: 'rebooting' },
  { id: 'reboot_hard', label: 'Hard reboot', gate: 'reboot_hard', past: 'hard rebooting' },
  { id: 'pause', label: 'Pause', gate: 'pause', past: 'pausing' },
  { id: 'unpause', label: 'Unpause', gate: 'unpause', past: 'unpausing' },
  { id: 'suspend', label: 'Suspend', gate: 'suspend', past: 'suspending' },
  { id: 'resume', label: 'Resume', gate: 'resume', past: 'resuming' },
  { id: 'delete', label: 'Delete', gate: 'delete', danger: true, bulk: true, past: 'deleting' },
];

type StateOf = Pick<ServerRow, 'vmState' | 'taskState' | 'powerState' | 'locked'>;
export const allows = (a: ServerActionDef, s: StateOf) => canDo(a.gate, s).ok;

/** Runs actions on one or many servers; deletes go through a confirmation naming them. */
export function useServerActions(opts: { onDeleted?: () => void } = {}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const action = useMutation(trpc.compute.servers.action.mutationOptions());
  const remove = useMutation(trpc.compute.servers.delete.mutationOptions());
  const [deleting, setDeleting] = useState<Array<Pick<ServerRow, 'id' | 'name'>> | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = () => invalidate(trpc.compute.servers.pathKey(), trpc.compute.limits.pathKey());

  const run = async (def: ServerActionDef, targets: Array<ServerRow | (StateOf & Pick<ServerRow, 'id' | 'name'>)>) => {
    const ok = targets.filter((t) => allows(def, t));
    if (ok.length === 0) return;
    if (def.id === 'delete') return setDeleting(ok);
    const op = def.id;
    const results = await Promise.allSettled(ok.map((t) => action.mutateAsync({ serverId: t.id, op })));
    const done = results.filter((r) => r.status === 'fulfilled').length;
    if (done) toast.info(`${def.label}: ${done === 1 ? (ok[0]?.name ?? '') : `${done} instances`} ${def.past}`);
    await refresh();
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    const results = await Promise.allSettled(deleting.map((t) => remove.mutateAsync({ serverId: t.id })));
    setBusy(false);
    const done = results.filter((r) => r.status === 'fulfilled').length;
    if (done) toast.success(done === 1 ? `Deleting instance ${deleting[0]?.name ?? ''}` : `Deleting ${done} instances`);
    setDeleting(null);
    await refresh();
    if (done) opts.onDeleted?.();
  };

  const dialog = (
    <ConfirmDialog
      open={deleting !== null}
      title={deleting && deleting.length > 1 ? `Delete ${deleting.length} instances` : 'Delete instance'}
      message={
        deleting && (
          <>
            Delete{' '}
            {deleting.length === 1 ? (
              <strong>{deleting[0]?.name}</strong>
            ) : (
              <>
                <strong>{deleting.length} instances</strong> ({deleting.map((d) => d.name).join(', ')})
              </>
            )}
            ? Their disks are destroyed. This cannot be undone.
          </>
        )
      }
      busy={busy}
      onClose={() => setDeleting(null)}
      onConfirm={() => void confirmDelete()}
    />
  );
  return { run, dialog };
}
