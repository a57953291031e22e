'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { DataTable, markerPaging } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmAction, FormDialog } from '@/components/modal';
import { type SecurityGroupRow, useNetPermissions } from '@/components/network/common';
import { useToast } from '@/components/toast';
import { Badge, Button, Field, Input, PageHeader } from '@/components/ui';
import { useInvalidate, useListState } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

/** Security groups of the project; the rule editor is on each group's page. */
export function SecurityGroupsPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const list = useListState();
  const [editing, setEditing] = useState<{ row: SecurityGroupRow | null } | null>(null);
  const [deleting, setDeleting] = useState<SecurityGroupRow | null>(null);
  const remove = useMutation(trpc.network.securityGroups.delete.mutationOptions());
  const query = useQuery({ ...trpc.network.securityGroups.list.queryOptions(list.input), ...list.keep });
  return (
    <>
      <PageHeader
        title="Security Groups"
        description="Firewall rules applied to your instances' ports. The default group allows all egress and traffic between its members."
        actions={
          perms.write && (
            <Button variant="primary" onClick={() => setEditing({ row: null })}>
              <Icon name="plus" className="size-4" /> Create security group
            </Button>
          )
        }
      />
      <DataTable
        label="Security groups"
        rows={query.data?.items}
        rowKey={(g) => g.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, label: 'Filter by name', placeholder: 'Filter by name (exact)' }}
        empty={list.input.name ? `No security group is named “${list.input.name}”.` : 'No security groups yet.'}
        paging={markerPaging(list.paging, query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (g) => (
              <span data-testid="secgroup-row" data-name={g.name}>
                <Link href={`/project/security-groups/${g.id}`} className="font-medium hover:text-sky-600">
                  {g.name || g.id.slice(0, 8)}
                </Link>
                {g.isDefault && (
                  <span className="ml-2">
                    <Badge tone="sky">default</Badge>
                  </span>
                )}
              </span>
            ),
          },
          { header: 'Description', cell: (g) => g.description || '—', className: 'text-slate-500' },
          {
            header: 'Rules',
            cell: (g) => (
              <span className="tabular-nums">
                {g.rules.filter((r) => r.direction === 'ingress').length} in /{' '}
                {g.rules.filter((r) => r.direction === 'egress').length} out
              </span>
            ),
          },
        ]}
        actions={[
          { label: 'Manage rules', onSelect: (g) => router.push(`/project/security-groups/${g.id}`) },
          { label: 'Edit', onSelect: (row) => setEditing({ row }), hidden: (g) => !perms.write || g.isDefault },
          {
            label: 'Delete',
            onSelect: setDeleting,
            danger: true,
            hidden: (g) => !perms.write || g.isDefault,
          },
        ]}
      />
      <GroupDialog
        open={editing !== null}
        group={editing?.row ?? null}
        onClose={() => setEditing(null)}
        onCreated={(id) => router.push(`/project/security-groups/${id}`)}
      />
      <ConfirmAction
        target={deleting}
        title="Delete security group"
        message={(g) => (
          <>
            Delete security group <strong>{g.name}</strong> and its rules? Groups still used by ports cannot be deleted.
            This cannot be undone.
          </>
        )}
        action={(g) => remove.mutateAsync({ id: g.id })}
        done={(g) => `Security group ${g.name} deleted`}
        refresh={() => invalidate(trpc.network.securityGroups.pathKey())}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}

/** Create a group (it starts with egress-allow rules) or rename one. */
export function GroupDialog({
  open,
  group,
  onClose,
  onCreated,
}: {
  open: boolean;
  group: { id: string; name: string; description: string } | null;
  onClose: () => void;
  onCreated?: (id: string) => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const create = useMutation(trpc.network.securityGroups.create.mutationOptions(QUIET));
  const update = useMutation(trpc.network.securityGroups.update.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setName(group?.name ?? '');
    setDescription(group?.description ?? '');
    setError(null);
  }, [open, group]);
  const submit = async () => {
    if (!name.trim()) return setError('A name is required.');
    setError(null);
    try {
      if (group) {
        await update.mutateAsync({ id: group.id, name: name.trim(), description });
        toast.success(`Security group ${name.trim()} saved`);
      } else {
        const g = await create.mutateAsync({ name: name.trim(), description });
        toast.success(`Security group ${g.name} created`);
        onCreated?.(g.id);
      }
      await invalidate(trpc.network.securityGroups.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title={group ? `Edit security group ${group.name}` : 'Create security group'}
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel={group ? 'Save' : 'Create security group'}
      busy={create.isPending || update.isPending}
      error={error}
    >
      <Field label="Name" htmlFor="secgroup-name">
        <Input id="secgroup-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Description" htmlFor="secgroup-description">
        <Input id="secgroup-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
    </FormDialog>
  );
}
