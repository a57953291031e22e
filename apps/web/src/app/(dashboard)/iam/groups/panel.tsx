'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Modal } from '@/components/modal';
import { NameFormDialog } from '@/components/name-form-dialog';
import { ResourcePanel } from '@/components/resource-panel';
import { useToast } from '@/components/toast';
import { Button, EnabledBadge, Field, Select, Spinner } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useInvalidate, useListState } from '@/lib/resource';
import { nameContains } from '../name-filter';
import { QUIET, useTRPC } from '@/lib/trpc';

export function GroupsPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const list = useListState();
  const [members, setMembers] = useState<{ id: string; name: string } | null>(null);
  const can = useCan([
    'identity:create_group',
    'identity:update_group',
    'identity:delete_group',
    'identity:list_users_in_group',
  ]);
  const query = useQuery({ ...trpc.identity.groups.list.queryOptions(nameContains(list.input)), ...list.keep });
  const done = () => invalidate(trpc.identity.groups.pathKey());
  const create = useMutation(trpc.identity.groups.create.mutationOptions({ ...QUIET, onSuccess: done }));
  const update = useMutation(trpc.identity.groups.update.mutationOptions({ ...QUIET, onSuccess: done }));
  const remove = useMutation(trpc.identity.groups.delete.mutationOptions({ onSuccess: done }));
  return (
    <>
      <ResourcePanel
        title="Groups"
        description="Roles granted to a group apply to each of its members."
        noun="group"
        query={query}
        list={list}
        allowed={{
          create: can['identity:create_group'],
          update: can['identity:update_group'],
          delete: can['identity:delete_group'],
        }}
        columns={[
          {
            header: 'Name',
            cell: (g) => (
              <div>
                <div className="font-medium">{g.name}</div>
                {g.description && (
                  <div className="max-w-md truncate text-xs text-slate-500 dark:text-slate-400">{g.description}</div>
                )}
              </div>
            ),
          },
          {
            header: 'ID',
            cell: (g) => <code className="text-xs text-slate-500">{g.id}</code>,
            className: 'hidden md:table-cell',
          },
          { header: 'Domain', cell: (g) => g.domainId, className: 'hidden sm:table-cell' },
        ]}
        extraActions={[
          { label: 'Members', onSelect: (g) => setMembers(g), hidden: () => !can['identity:list_users_in_group'] },
        ]}
        onDelete={(g) => remove.mutateAsync({ groupId: g.id })}
        deleteWarning="Its members lose the roles they had through it."
        editor={({ open, row, onClose }) => (
          <NameFormDialog
            open={open}
            noun="group"
            row={row}
            withDomain
            onClose={onClose}
            save={(v) =>
              row
                ? update.mutateAsync({ groupId: row.id, name: v.name, description: v.description })
                : create.mutateAsync({ name: v.name, description: v.description, domainId: v.domainId })
            }
          />
        )}
      />
      <MembersDialog group={members} onClose={() => setMembers(null)} />
    </>
  );
}

function MembersDialog({ group, onClose }: { group: { id: string; name: string } | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [userId, setUserId] = useState('');
  const groupId = group?.id ?? '';
  const members = useQuery({ ...trpc.identity.groups.members.queryOptions({ groupId }), enabled: Boolean(group) });
  const users = useQuery({ ...trpc.identity.users.list.queryOptions({ limit: 200 }), enabled: Boolean(group) });
  const done = () =>
    invalidate(trpc.identity.groups.members.queryKey({ groupId }), trpc.identity.assignments.pathKey());
  const add = useMutation(
    trpc.identity.groups.addMember.mutationOptions({
      onSuccess: () => {
        setUserId('');
        toast.success('Member added');
        return done();
      },
    }),
  );
  const removeMember = useMutation(trpc.identity.groups.removeMember.mutationOptions({ onSuccess: done }));
  const inGroup = new Set(members.data?.map((m) => m.id));
  const candidates = users.data?.items.filter((u) => !inGroup.has(u.id)) ?? [];
  return (
    <Modal
      open={group !== null}
      title={`Members of ${group?.name ?? ''}`}
      onClose={onClose}
      size="lg"
      footer={<Button onClick={onClose}>Close</Button>}
    >
      <form
        className="flex items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (userId) add.mutate({ groupId, userId });
        }}
      >
        <div className="flex-1">
          <Field label="Add a user" htmlFor="member-user">
            <Select id="member-user" value={userId} onChange={(e) => setUserId(e.target.value)}>
              <option value="">Choose a user…</option>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        <Button type="submit" variant="primary" disabled={!userId} busy={add.isPending}>
          Add
        </Button>
      </form>
      <div className="rounded-lg border border-slate-200 dark:border-slate-800">
        {members.isLoading && (
          <div className="p-6 text-center">
            <Spinner className="size-5 text-sky-600" />
          </div>
        )}
        {members.data?.length === 0 && <p className="p-6 text-center text-sm text-slate-500">No members yet.</p>}
        <ul className="divide-y divide-slate-100 dark:divide-slate-800">
          {members.data?.map((m) => (
            <li key={m.id} className="flex items-center justify-between px-4 py-2.5 text-sm">
              <span className="flex items-center gap-2">
                <span className="font-medium">{m.name}</span>
                {!m.enabled && <EnabledBadge enabled={false} />}
              </span>
              <Button variant="ghost" onClick={() => removeMember.mutate({ groupId, userId: m.id })}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      </div>
    </Modal>
  );
}
