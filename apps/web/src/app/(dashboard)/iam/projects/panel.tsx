'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { NameFormDialog } from '@/components/name-form-dialog';
import { ResourcePanel } from '@/components/resource-panel';
import { EnabledBadge } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useInvalidate, useListState } from '@/lib/resource';
import { nameContains } from '../name-filter';
import { QUIET, useTRPC } from '@/lib/trpc';

export function ProjectsPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const list = useListState();
  const can = useCan(['identity:create_project', 'identity:update_project', 'identity:delete_project']);
  const query = useQuery({ ...trpc.identity.projects.list.queryOptions(nameContains(list.input)), ...list.keep });
  const done = () => invalidate(trpc.identity.projects.pathKey(), trpc.identity.session.projects.pathKey());
  const create = useMutation(trpc.identity.projects.create.mutationOptions({ ...QUIET, onSuccess: done }));
  const update = useMutation(trpc.identity.projects.update.mutationOptions({ onSuccess: done }));
  const remove = useMutation(trpc.identity.projects.delete.mutationOptions({ onSuccess: done }));
  return (
    <ResourcePanel
      title="Projects"
      description="Projects own resources; users and groups get roles on them."
      noun="project"
      query={query}
      list={list}
      allowed={{
        create: can['identity:create_project'],
        update: can['identity:update_project'],
        delete: can['identity:delete_project'],
      }}
      columns={[
        {
          header: 'Name',
          cell: (p) => (
            <div>
              <div className="font-medium">{p.name}</div>
              {p.description && (
                <div className="max-w-md truncate text-xs text-slate-500 dark:text-slate-400">{p.description}</div>
              )}
            </div>
          ),
        },
        {
          header: 'ID',
          cell: (p) => <code className="text-xs text-slate-500">{p.id}</code>,
          className: 'hidden md:table-cell',
        },
        { header: 'Domain', cell: (p) => p.domainId, className: 'hidden sm:table-cell' },
        { header: 'Status', cell: (p) => <EnabledBadge enabled={p.enabled} /> },
      ]}
      onToggle={(p) => update.mutateAsync({ projectId: p.id, enabled: !p.enabled })}
      onDelete={(p) => remove.mutateAsync({ projectId: p.id })}
      deleteWarning="Its role assignments go with it."
      editor={({ open, row, onClose }) => (
        <NameFormDialog
          open={open}
          noun="project"
          row={row}
          withEnabled
          withDomain
          onClose={onClose}
          save={(v) =>
            row
              ? update.mutateAsync({ projectId: row.id, name: v.name, description: v.description, enabled: v.enabled })
              : create.mutateAsync({
                  name: v.name,
                  description: v.description,
                  enabled: v.enabled,
                  domainId: v.domainId,
                })
          }
        />
      )}
    />
  );
}
