'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useEffect, useState } from 'react';
import { z } from 'zod';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog, Modal } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Field, FormError, PageHeader, Select } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useZodForm } from '@/lib/forms';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';

type Assignment = inferRouterOutputs<AppRouter>['identity']['assignments']['list'][number];

const GrantForm = z
  .object({
    roleId: z.string().min(1, 'Choose a role.'),
    actor: z.enum(['user', 'group']),
    userId: z.string(),
    groupId: z.string(),
    target: z.enum(['project', 'domain']),
    projectId: z.string(),
    domainId: z.string(),
  })
  .refine((v) => (v.actor === 'user' ? v.userId : v.groupId), { path: ['actor'], message: 'Choose who gets the role.' })
  .refine((v) => (v.target === 'project' ? v.projectId : v.domainId), {
    path: ['target'],
    message: 'Choose where the role applies.',
  });

/** The grant an assignment row stands for, as assign/unassign take it. */
function grantOf(a: Assignment) {
  return {
    roleId: a.role.id,
    ...(a.user ? { userId: a.user.id } : { groupId: a.group?.id }),
    ...(a.scope.project
      ? { projectId: a.scope.project.id }
      : a.scope.domain
        ? { domainId: a.scope.domain.id }
        : { system: true }),
  };
}
const keyOf = (a: Assignment) =>
  [
    a.role.id,
    a.user?.id ?? a.group?.id,
    a.scope.project?.id ?? a.scope.domain?.id ?? 'system',
    a.viaGroupId ?? '',
  ].join(':');

/** Lists for the selects (first 200 of each: enough for a filter, not a directory). */
function usePickers(enabled: boolean) {
  const trpc = useTRPC();
  const opts = { limit: 200 };
  return {
    users: useQuery({ ...trpc.identity.users.list.queryOptions(opts), enabled }).data?.items ?? [],
    groups: useQuery({ ...trpc.identity.groups.list.queryOptions(opts), enabled }).data?.items ?? [],
    projects: useQuery({ ...trpc.identity.projects.list.queryOptions(opts), enabled }).data?.items ?? [],
    domains: useQuery({ ...trpc.identity.domains.list.queryOptions(opts), enabled, retry: false }).data?.items ?? [],
    roles: useQuery({ ...trpc.identity.roles.list.queryOptions(opts), enabled }).data?.items ?? [],
  };
}

export function AssignmentsPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [filter, setFilter] = useState({ userId: '', projectId: '', roleId: '' });
  const [granting, setGranting] = useState(false);
  const [revoking, setRevoking] = useState<Assignment | null>(null);
  const can = useCan(['identity:create_grant', 'identity:revoke_grant']);
  const pick = usePickers(true);
  const input = {
    userId: filter.userId || undefined,
    projectId: filter.projectId || undefined,
    roleId: filter.roleId || undefined,
  };
  const q = useQuery(trpc.identity.assignments.list.queryOptions(input));
  const done = () => invalidate(trpc.identity.assignments.pathKey(), trpc.identity.session.pathKey());
  const unassign = useMutation(
    trpc.identity.assignments.unassign.mutationOptions({
      onSuccess: () => {
        setRevoking(null);
        toast.success('Role assignment removed');
        return done();
      },
    }),
  );
  const actorName = (a: Assignment) => (a.user ? (a.user.name ?? a.user.id) : (a.group?.name ?? a.group?.id ?? '—'));
  const scopeName = (a: Assignment) =>
    a.scope.project
      ? (a.scope.project.name ?? a.scope.project.id)
      : a.scope.domain
        ? (a.scope.domain.name ?? a.scope.domain.id)
        : 'all';

  return (
    <>
      <PageHeader
        title="Role assignments"
        description="Who holds which role where. Effective roles also come through groups."
        actions={
          can['identity:create_grant'] && (
            <Button variant="primary" onClick={() => setGranting(true)}>
              <Icon name="plus" className="size-4" /> Assign role
            </Button>
          )
        }
      />
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <FilterSelect
          id="filter-user"
          label="User"
          value={filter.userId}
          onChange={(userId) => setFilter((f) => ({ ...f, userId }))}
          options={pick.users}
        />
        <FilterSelect
          id="filter-project"
          label="Project"
          value={filter.projectId}
          onChange={(projectId) => setFilter((f) => ({ ...f, projectId }))}
          options={pick.projects}
        />
        <FilterSelect
          id="filter-role"
          label="Role"
          value={filter.roleId}
          onChange={(roleId) => setFilter((f) => ({ ...f, roleId }))}
          options={pick.roles}
        />
      </div>
      <DataTable
        label="Role assignments"
        rows={q.data}
        rowKey={keyOf}
        loading={q.isLoading}
        error={q.error}
        empty="No role assignment matches."
        columns={[
          {
            header: 'Role',
            cell: (a) => <Badge tone={a.role.name === 'admin' ? 'amber' : 'sky'}>{a.role.name ?? a.role.id}</Badge>,
          },
          {
            header: 'User or group',
            cell: (a) => (
              <span className="flex items-center gap-1.5">
                <Icon name={a.user ? 'user' : 'users'} className="size-4 text-slate-400" />
                <span className="font-medium">{actorName(a)}</span>
              </span>
            ),
          },
          {
            header: 'Scope',
            cell: (a) => (
              <span className="flex items-center gap-1.5">
                <Icon
                  name={a.scope.project ? 'folder' : a.scope.domain ? 'domain' : 'globe'}
                  className="size-4 text-slate-400"
                />
                {a.scope.project ? 'Project' : a.scope.domain ? 'Domain' : 'System'}{' '}
                <span className="font-medium">{scopeName(a)}</span>
              </span>
            ),
          },
        ]}
        actions={[
          {
            label: 'Remove',
            danger: true,
            onSelect: setRevoking,
            hidden: (a) => !can['identity:revoke_grant'] || Boolean(a.viaGroupId),
          },
        ]}
      />
      <GrantDialog open={granting} onClose={() => setGranting(false)} onSaved={done} />
      <ConfirmDialog
        open={revoking !== null}
        title="Remove role assignment"
        confirmLabel="Remove"
        message={
          revoking && (
            <>
              Remove role <strong>{revoking.role.name}</strong> from <strong>{actorName(revoking)}</strong> on{' '}
              <strong>{scopeName(revoking)}</strong>? Their tokens for that scope stop working at once.
            </>
          )
        }
        busy={unassign.isPending}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && unassign.mutate(grantOf(revoking))}
      />
    </>
  );
}

function FilterSelect({
  id,
  label,
  value,
  onChange,
  options,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<{ id: string; name: string }>;
}) {
  return (
    <Field label={label} htmlFor={id}>
      <Select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}

function GrantDialog({
  open,
  onClose,
  onSaved,
}: {
  open: boolean;
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const pick = usePickers(open);
  const empty = {
    roleId: '',
    actor: 'user' as const,
    userId: '',
    groupId: '',
    target: 'project' as const,
    projectId: '',
    domainId: '',
  };
  const form = useZodForm(GrantForm, empty);
  const [error, setError] = useState<string | null>(null);
  const assign = useMutation(trpc.identity.assignments.assign.mutationOptions(QUIET));
  const { reset } = form;
  useEffect(() => {
    if (open) {
      reset({ roleId: '', actor: 'user', userId: '', groupId: '', target: 'project', projectId: '', domainId: '' });
      setError(null);
    }
  }, [open, reset]);
  const submit = async () => {
    const v = form.validate();
    if (!v) return;
    try {
      await assign.mutateAsync({
        roleId: v.roleId,
        ...(v.actor === 'user' ? { userId: v.userId } : { groupId: v.groupId }),
        ...(v.target === 'project' ? { projectId: v.projectId } : { domainId: v.domainId }),
      });
      toast.success('Role assigned');
      await onSaved();
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const v = form.values;
  return (
    <Modal
      open={open}
      title="Assign role"
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={assign.isPending}>
            Assign
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <Field label="Role" htmlFor="grant-role" errors={form.err('roleId')}>
        <Select id="grant-role" value={v.roleId} onChange={(e) => form.set('roleId', e.target.value)}>
          <option value="">Choose a role…</option>
          {pick.roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </Select>
      </Field>
      <div className="grid grid-cols-[8rem_1fr] items-end gap-3">
        <Field label="To a" htmlFor="grant-actor">
          <Select
            id="grant-actor"
            value={v.actor}
            onChange={(e) => form.set('actor', e.target.value === 'group' ? 'group' : 'user')}
          >
            <option value="user">User</option>
            <option value="group">Group</option>
          </Select>
        </Field>
        <Field label={v.actor === 'user' ? 'User' : 'Group'} htmlFor="grant-who" errors={form.err('actor')}>
          <Select
            id="grant-who"
            value={v.actor === 'user' ? v.userId : v.groupId}
            onChange={(e) =>
              v.actor === 'user' ? form.set('userId', e.target.value) : form.set('groupId', e.target.value)
            }
          >
            <option value="">Choose…</option>
            {(v.actor === 'user' ? pick.users : pick.groups).map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <div className="grid grid-cols-[8rem_1fr] items-end gap-3">
        <Field label="On a" htmlFor="grant-target">
          <Select
            id="grant-target"
            value={v.target}
            onChange={(e) => form.set('target', e.target.value === 'domain' ? 'domain' : 'project')}
          >
            <option value="project">Project</option>
            <option value="domain">Domain</option>
          </Select>
        </Field>
        <Field label={v.target === 'project' ? 'Project' : 'Domain'} htmlFor="grant-where" errors={form.err('target')}>
          <Select
            id="grant-where"
            value={v.target === 'project' ? v.projectId : v.domainId}
            onChange={(e) =>
              v.target === 'project' ? form.set('projectId', e.target.value) : form.set('domainId', e.target.value)
            }
          >
            <option value="">Choose…</option>
            {(v.target === 'project' ? pick.projects : pick.domains).map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </Select>
        </Field>
      </div>
    </Modal>
  );
}
