'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { HostState, ServiceStatus, useHeartbeatExpiry } from '@/components/admin/usage';
import { age, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { ConfirmAction, Modal } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Field, FormError, Input, PageHeader } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

interface Target {
  id: string;
  host: string;
  disable: boolean;
}

interface ForceTarget {
  id: string;
  host: string;
  forcedDown: boolean;
}

/**
 * Compute services per worker. Disabling nova-compute on a host keeps its servers
 * running but the scheduler stops placing new ones there (core: setComputeServiceStatus).
 */
export function ServicesPanel() {
  const trpc = useTRPC();
  const now = useNow(10_000);
  const query = useQuery(trpc.admin.services.list.queryOptions());
  const d = query.data;
  const [target, setTarget] = useState<Target | null>(null);
  const [force, setForce] = useState<ForceTarget | null>(null);
  const invalidate = useInvalidate();
  const setForcedDown = useMutation(trpc.admin.services.setForcedDown.mutationOptions());
  useHeartbeatExpiry(
    d && {
      rows: d.services.map((s) => ({ state: s.state, lastHeartbeat: s.updatedAt })),
      serverNow: d.serverNow,
      downSeconds: d.serviceDownSeconds,
    },
    query.dataUpdatedAt,
    query.refetch,
  );
  return (
    <>
      <PageHeader
        title="Compute services"
        description="The compute, scheduler and conductor services of each worker. A disabled compute service takes no new servers; its running ones stay."
      />
      <DataTable
        label="Compute services"
        rows={d?.services}
        rowKey={(s) => `${s.id}:${s.binary}`}
        loading={query.isLoading}
        error={query.error}
        empty="No worker has registered yet."
        columns={[
          {
            header: 'Binary',
            cell: (s) => (
              <code className="text-xs" data-testid="service-row" data-binary={s.binary} data-host={s.host}>
                {s.binary}
              </code>
            ),
          },
          { header: 'Host', cell: (s) => <span className="font-medium">{s.host}</span> },
          { header: 'Zone', cell: (s) => s.zone, className: 'hidden md:table-cell' },
          { header: 'Status', cell: (s) => <ServiceStatus status={s.status} reason={s.disabledReason} /> },
          {
            header: 'State',
            cell: (s) => (
              <span className="inline-flex items-center gap-1.5">
                <HostState state={s.state} />
                {s.forcedDown && <Badge tone="red">forced down</Badge>}
              </span>
            ),
          },
          {
            header: 'Updated',
            cell: (s) => (
              <span className="text-slate-500" title={s.updatedAt}>
                {age(s.updatedAt, now) === 'just now' ? 'just now' : `${age(s.updatedAt, now)} ago`}
              </span>
            ),
            className: 'whitespace-nowrap',
          },
          {
            header: 'Action',
            // Only compute services can be enabled or disabled (what the scheduler's host filter reads).
            cell: (s) =>
              s.binary === 'nova-compute' ? (
                <span className="inline-flex gap-2">
                  <Button
                    variant={s.status === 'enabled' ? 'secondary' : 'primary'}
                    aria-label={`${s.status === 'enabled' ? 'Disable' : 'Enable'} compute service on ${s.host}`}
                    onClick={() => setTarget({ id: s.id, host: s.host, disable: s.status === 'enabled' })}
                  >
                    {s.status === 'enabled' ? 'Disable' : 'Enable'}
                  </Button>
                  <Button
                    variant={s.forcedDown ? 'primary' : 'secondary'}
                    aria-label={`${s.forcedDown ? 'Unset forced down' : 'Force down'} compute service on ${s.host}`}
                    onClick={() => setForce({ id: s.id, host: s.host, forcedDown: !s.forcedDown })}
                  >
                    {s.forcedDown ? 'Unset forced down' : 'Force down'}
                  </Button>
                </span>
              ) : null,
            className: 'text-right',
          },
        ]}
      />
      <StatusDialog target={target} onClose={() => setTarget(null)} />
      <ConfirmAction
        target={force}
        title={force?.forcedDown ? 'Force compute service down' : 'Unset forced down'}
        confirmLabel={force?.forcedDown ? 'Force down' : 'Unset forced down'}
        message={(t) =>
          t.forcedDown ? (
            <>
              <strong>{t.host}</strong> will count as down whatever its heartbeats say, and the scheduler places no new
              servers there. Do this once the host is fenced (powered off or isolated).
            </>
          ) : (
            <>
              <strong>{t.host}</strong> counts as up again while its worker sends heartbeats.
            </>
          )
        }
        action={(t) => setForcedDown.mutateAsync({ serviceId: t.id, forcedDown: t.forcedDown })}
        done={(t) => `Compute service on ${t.host} ${t.forcedDown ? 'forced down' : 'no longer forced down'}`}
        refresh={() => invalidate(trpc.admin.services.pathKey(), trpc.admin.hypervisors.pathKey())}
        onClose={() => setForce(null)}
      />
    </>
  );
}

function StatusDialog({ target, onClose }: { target: Target | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const set = useMutation(trpc.admin.services.setStatus.mutationOptions(QUIET));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setReason('');
    setError(null);
    onClose();
  };
  const submit = async () => {
    if (!target) return;
    setError(null);
    try {
      await set.mutateAsync({ serviceId: target.id, disabled: target.disable, reason: reason.trim() || undefined });
      toast.success(`Compute service on ${target.host} ${target.disable ? 'disabled' : 'enabled'}`);
      await invalidate(trpc.admin.services.pathKey(), trpc.admin.hypervisors.pathKey());
      close();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const verb = target?.disable ? 'Disable' : 'Enable';
  return (
    <Modal
      open={target !== null}
      title={`${verb} compute service`}
      onClose={close}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant={target?.disable ? 'danger' : 'primary'} busy={set.isPending}>
            {verb}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      {target?.disable ? (
        <>
          <p className="text-sm text-slate-600 dark:text-slate-300">
            The scheduler will place no new servers on <strong>{target.host}</strong>. Servers already there keep
            running.
          </p>
          <Field label="Reason" htmlFor="disable-reason" hint="Shown to other operators, e.g. “maintenance”.">
            <Input
              id="disable-reason"
              autoFocus
              maxLength={255}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </Field>
        </>
      ) : (
        <p className="text-sm text-slate-600 dark:text-slate-300">
          <strong>{target?.host}</strong> takes new servers again.
        </p>
      )}
    </Modal>
  );
}
