'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import { Crumbs, type RuleRow, useNetPermissions } from '@/components/network/common';
import { AddRuleDialog, portText, protocolText } from '@/components/network/rule-editor';
import { useToast } from '@/components/toast';
import { Badge, Button, Spinner } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';
import { GroupDialog } from '../panel';

/** One security group and its rule editor (presets, custom rules, delete with confirmation). */
export function SecurityGroupDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const nav = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const query = useQuery(trpc.network.securityGroups.get.queryOptions({ id }));
  const names = useQuery(trpc.network.securityGroups.names.queryOptions());
  const removeRule = useMutation(trpc.network.securityGroups.deleteRule.mutationOptions());
  const remove = useMutation(trpc.network.securityGroups.delete.mutationOptions());
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState(false);
  const [dropping, setDropping] = useState<RuleRow | null>(null);
  const [deleting, setDeleting] = useState(false);

  if (query.isLoading) return <Spinner className="size-6 text-sky-600" />;
  const g = query.data;
  if (query.error || !g)
    return (
      <div className="space-y-3">
        <p role="alert" className="text-rose-600">
          {query.error?.message ?? 'Security group not found.'}
        </p>
        <Link href="/project/security-groups" className="text-sm text-sky-600">
          ← Security Groups
        </Link>
      </div>
    );
  const groupName = (gid: string) => names.data?.find((x) => x.id === gid)?.name || gid.slice(0, 8);
  const remoteText = (r: RuleRow) =>
    r.remoteGroupId
      ? `group ${groupName(r.remoteGroupId)}`
      : (r.remoteIpPrefix ?? (r.ethertype === 'IPv6' ? '::/0' : '0.0.0.0/0'));
  const confirmDropRule = async () => {
    if (!dropping) return;
    try {
      await removeRule.mutateAsync({ id: dropping.id });
      toast.success('Rule deleted');
      setDropping(null);
      await invalidate(trpc.network.securityGroups.pathKey());
    } catch {
      // the toast shows the server's message
    }
  };
  const confirmDelete = async () => {
    try {
      await remove.mutateAsync({ id: g.id });
      toast.success(`Security group ${g.name} deleted`);
      setDeleting(false);
      await invalidate(trpc.network.securityGroups.pathKey());
      nav.push('/project/security-groups');
    } catch {
      // the toast shows the server's message
    }
  };
  const ruleList = (direction: 'ingress' | 'egress') => g.rules.filter((r) => r.direction === direction);
  return (
    <>
      <Crumbs parent="Security Groups" href="/project/security-groups" current={g.name} />
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
            {g.name} {g.isDefault && <Badge tone="sky">default</Badge>}
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{g.id}</p>
          {g.description && <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">{g.description}</p>}
        </div>
        {perms.write && (
          <div className="flex shrink-0 gap-2">
            <Button variant="primary" onClick={() => setAdding(true)}>
              <Icon name="plus" className="size-4" /> Add rule
            </Button>
            {!g.isDefault && (
              <>
                <Button onClick={() => setEditing(true)}>Edit</Button>
                <Button variant="danger" onClick={() => setDeleting(true)}>
                  Delete
                </Button>
              </>
            )}
          </div>
        )}
      </div>
      <div className="grid gap-6">
        {(['ingress', 'egress'] as const).map((direction) => (
          <section key={direction} aria-labelledby={`${direction}-heading`}>
            <h2 id={`${direction}-heading`} className="mb-2 text-sm font-semibold">
              {direction === 'ingress' ? 'Ingress rules (to instances)' : 'Egress rules (from instances)'}
            </h2>
            <DataTable
              label={direction === 'ingress' ? 'Ingress rules' : 'Egress rules'}
              rows={ruleList(direction)}
              rowKey={(r) => r.id}
              loading={false}
              empty={
                direction === 'ingress' ? 'No ingress rules: nothing may reach the instances.' : 'No egress rules.'
              }
              columns={[
                { header: 'Ether type', cell: (r) => r.ethertype },
                {
                  header: 'Protocol',
                  cell: (r) => (
                    <span
                      data-testid="rule-row"
                      data-protocol={r.protocol ?? 'any'}
                      data-port={r.portRangeMin ?? ''}
                      data-direction={r.direction}
                    >
                      {protocolText(r)}
                    </span>
                  ),
                },
                { header: 'Port range', cell: (r) => portText(r) },
                { header: 'Remote', cell: (r) => <span className="font-mono text-xs">{remoteText(r)}</span> },
                {
                  header: 'Description',
                  cell: (r) => r.description || '—',
                  className: 'hidden md:table-cell text-slate-500',
                },
              ]}
              actions={perms.write ? [{ label: 'Delete rule', onSelect: setDropping, danger: true }] : []}
            />
          </section>
        ))}
      </div>
      <AddRuleDialog open={adding} groupId={g.id} onClose={() => setAdding(false)} />
      <GroupDialog open={editing} group={g} onClose={() => setEditing(false)} />
      <ConfirmDialog
        open={dropping !== null}
        title="Delete rule"
        message={
          dropping && (
            <>
              Delete the {dropping.direction} rule{' '}
              <strong>
                {protocolText(dropping)} {portText(dropping)}
              </strong>{' '}
              from {remoteText(dropping)}? Traffic it allowed is dropped at once.
            </>
          )
        }
        busy={removeRule.isPending}
        onClose={() => setDropping(null)}
        onConfirm={() => void confirmDropRule()}
      />
      <ConfirmDialog
        open={deleting}
        title="Delete security group"
        message={
          <>
            Delete security group <strong>{g.name}</strong>? This cannot be undone.
          </>
        }
        busy={remove.isPending}
        onClose={() => setDeleting(false)}
        onConfirm={() => void confirmDelete()}
      />
    </>
  );
}
