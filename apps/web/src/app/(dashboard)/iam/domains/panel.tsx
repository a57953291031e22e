'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { NameFormDialog } from '@/components/name-form-dialog';
import { ResourcePanel } from '@/components/resource-panel';
import { EnabledBadge } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useInvalidate, useListState } from '@/lib/resource';
import { nameContains } from '../name-filter';
import { QUIET, useTRPC } from '@/lib/trpc';

export function DomainsPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const list = useListState();
  const can = useCan(['identity:create_domain', 'identity:update_domain', 'identity:delete_domain']);
  const query = useQuery({ ...trpc.identity.domains.list.queryOptions(nameContains(list.input)), ...list.keep });
  const done = () => invalidate(trpc.identity.domains.pathKey());
  const create = useMutation(trpc.identity.domains.create.mutationOptions({ ...QUIET, onSuccess: done }));
  const update = useMutation(trpc.identity.domains.update.mutationOptions({ onSuccess: done }));
  const remove = useMutation(trpc.identity.domains.delete.mutationOptions({ onSuccess: done }));
  return (
    <ResourcePanel
      title="Domains"
      description="Domains hold users, groups and projects; names are unique within a domain."
      noun="domain"
      query={query}
      list={list}
      allowed={{
        create: can['identity:create_domain'],
        update: can['identity:update_domain'],
        delete: can['identity:delete_domain'],
      }}
      columns={[
        {
          header: 'Name',
          cell: (d) => (
            <div>
              <div className="font-medium">{d.name}</div>
              {d.description && (
                <div className="max-w-md truncate text-xs text-slate-500 dark:text-slate-400">{d.description}</div>
              )}
            </div>
          ),
        },
        {
          header: 'ID',
          cell: (d) => <code className="text-xs text-slate-500">{d.id}</code>,
          className: 'hidden md:table-cell',
        },
        { header: 'Status', cell: (d) => <EnabledBadge enabled={d.enabled} /> },
      ]}
      onToggle={(d) => update.mutateAsync({ domainId: d.id, enabled: !d.enabled })}
      onDelete={(d) => remove.mutateAsync({ domainId: d.id })}
      deleteWarning="A domain must be disabled first; everything in it is deleted with it."
      editor={({ open, row, onClose }) => (
        <NameFormDialog
          open={open}
          noun="domain"
          row={row}
          withEnabled
          onClose={onClose}
          save={(v) =>
            row
              ? update.mutateAsync({ domainId: row.id, name: v.name, description: v.description, enabled: v.enabled })
              : create.mutateAsync({ name: v.name, description: v.description, enabled: v.enabled })
          }
        />
      )}
    />
  );
}
