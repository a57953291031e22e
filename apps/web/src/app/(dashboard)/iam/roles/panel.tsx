'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { NameFormDialog } from '@/components/name-form-dialog';
import { ResourcePanel } from '@/components/resource-panel';
import { Badge } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useInvalidate, useListState } from '@/lib/resource';
import { nameContains } from '../name-filter';
import { QUIET, useTRPC } from '@/lib/trpc';

export function RolesPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const list = useListState();
  const can = useCan(['identity:create_role', 'identity:update_role', 'identity:delete_role']);
  const query = useQuery({ ...trpc.identity.roles.list.queryOptions(nameContains(list.input)), ...list.keep });
  const done = () => invalidate(trpc.identity.roles.pathKey(), trpc.identity.assignments.pathKey());
  const create = useMutation(trpc.identity.roles.create.mutationOptions({ ...QUIET, onSuccess: done }));
  const update = useMutation(trpc.identity.roles.update.mutationOptions({ ...QUIET, onSuccess: done }));
  const remove = useMutation(trpc.identity.roles.delete.mutationOptions({ onSuccess: done }));
  return (
    <ResourcePanel
      title="Roles"
      description="Roles are granted to users and groups on projects and domains; policy decides what each allows."
      noun="role"
      query={query}
      list={list}
      allowed={{
        create: can['identity:create_role'],
        update: can['identity:update_role'],
        delete: can['identity:delete_role'],
      }}
      columns={[
        {
          header: 'Name',
          cell: (r) => (
            <div className="flex items-center gap-2">
              <span className="font-medium">{r.name}</span>
              {['admin', 'member', 'reader'].includes(r.name) && <Badge tone="sky">built-in</Badge>}
            </div>
          ),
        },
        {
          header: 'Description',
          cell: (r) => <span className="text-slate-500 dark:text-slate-400">{r.description || '—'}</span>,
          className: 'hidden sm:table-cell',
        },
        {
          header: 'ID',
          cell: (r) => <code className="text-xs text-slate-500">{r.id}</code>,
          className: 'hidden md:table-cell',
        },
      ]}
      onDelete={(r) => remove.mutateAsync({ roleId: r.id })}
      deleteWarning="Every assignment of this role is removed and the tokens that carry it stop working."
      editor={({ open, row, onClose }) => (
        <NameFormDialog
          open={open}
          noun="role"
          row={row}
          onClose={onClose}
          save={(v) =>
            row
              ? update.mutateAsync({ roleId: row.id, name: v.name, description: v.description })
              : create.mutateAsync({ name: v.name, description: v.description })
          }
        />
      )}
    />
  );
}
