'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useEffect, useState } from 'react';
import { z } from 'zod';
import { Modal } from '@/components/modal';
import { ResourcePanel } from '@/components/resource-panel';
import { useToast } from '@/components/toast';
import { Button, Checkbox, EnabledBadge, Field, FormError, Input, Select, Textarea } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useZodForm } from '@/lib/forms';
import { useInvalidate, useListState } from '@/lib/resource';
import { nameContains } from '../name-filter';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';

type User = inferRouterOutputs<AppRouter>['identity']['users']['list']['items'][number];

const UserForm = z
  .object({
    name: z.string().trim().min(1, 'A name is required.').max(255, 'At most 255 characters.'),
    email: z.union([z.literal(''), z.email('Not an email address.')]),
    description: z.string().max(4096, 'At most 4096 characters.'),
    password: z.string().max(4096),
    confirm: z.string(),
    enabled: z.boolean(),
    domainId: z.string().min(1),
    projectId: z.string(),
    roleId: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords do not match.' })
  .refine((v) => !v.roleId || v.projectId, { path: ['projectId'], message: 'Choose the project the role applies to.' });

const empty = {
  name: '',
  email: '',
  description: '',
  password: '',
  confirm: '',
  enabled: true,
  domainId: 'default',
  projectId: '',
  roleId: '',
};

export function UsersPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const list = useListState();
  const can = useCan(['identity:create_user', 'identity:update_user', 'identity:delete_user']);
  const query = useQuery({ ...trpc.identity.users.list.queryOptions(nameContains(list.input)), ...list.keep });
  const done = () => invalidate(trpc.identity.users.pathKey());
  const update = useMutation(trpc.identity.users.update.mutationOptions({ onSuccess: done }));
  const remove = useMutation(trpc.identity.users.delete.mutationOptions({ onSuccess: done }));
  return (
    <ResourcePanel
      title="Users"
      description="People and services that sign in; their roles decide what they can do."
      noun="user"
      query={query}
      list={list}
      allowed={{
        create: can['identity:create_user'],
        update: can['identity:update_user'],
        delete: can['identity:delete_user'],
      }}
      columns={[
        {
          header: 'Name',
          cell: (u) => (
            <div>
              <div className="font-medium">{u.name}</div>
              {u.email && <div className="text-xs text-slate-500 dark:text-slate-400">{u.email}</div>}
            </div>
          ),
        },
        {
          header: 'ID',
          cell: (u) => <code className="text-xs text-slate-500">{u.id}</code>,
          className: 'hidden lg:table-cell',
        },
        { header: 'Domain', cell: (u) => u.domainId, className: 'hidden sm:table-cell' },
        { header: 'Status', cell: (u) => <EnabledBadge enabled={u.enabled} /> },
      ]}
      onToggle={(u) => update.mutateAsync({ userId: u.id, enabled: !u.enabled })}
      onDelete={(u) => remove.mutateAsync({ userId: u.id })}
      deleteWarning="Their role assignments and tokens end with them."
      editor={(p) => <UserDialog {...p} onSaved={done} />}
    />
  );
}

function UserDialog({
  open,
  row,
  onClose,
  onSaved,
}: {
  open: boolean;
  row: User | null;
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const form = useZodForm(UserForm, empty);
  const [error, setError] = useState<string | null>(null);
  const creating = open && !row;
  const projects = useQuery({ ...trpc.identity.projects.list.queryOptions({ limit: 200 }), enabled: creating });
  const roles = useQuery({ ...trpc.identity.roles.list.queryOptions({ limit: 200 }), enabled: creating });
  const domains = useQuery({
    ...trpc.identity.domains.list.queryOptions({ limit: 200 }),
    enabled: creating,
    retry: false,
  });
  const create = useMutation(trpc.identity.users.create.mutationOptions(QUIET));
  const update = useMutation(trpc.identity.users.update.mutationOptions(QUIET));
  const assign = useMutation(trpc.identity.assignments.assign.mutationOptions(QUIET));
  const { reset } = form;
  useEffect(() => {
    if (!open) return;
    setError(null);
    reset(
      row
        ? {
            ...empty,
            name: row.name,
            email: row.email ?? '',
            description: row.description,
            enabled: row.enabled,
            domainId: row.domainId,
          }
        : empty,
    );
  }, [open, row, reset]);
  const busy = create.isPending || update.isPending || assign.isPending;

  const submit = async () => {
    const v = form.validate();
    if (!v) return;
    setError(null);
    const common = { name: v.name, email: v.email || null, description: v.description, enabled: v.enabled };
    try {
      if (row) {
        await update.mutateAsync({ userId: row.id, ...common, ...(v.password ? { password: v.password } : {}) });
        toast.success(`User ${v.name} saved`);
      } else {
        const user = await create.mutateAsync({
          ...common,
          domainId: v.domainId,
          password: v.password || null,
          defaultProjectId: v.projectId || null,
        });
        // Like Horizon: the primary project's role is granted right after creation.
        if (v.projectId && v.roleId) {
          try {
            await assign.mutateAsync({ userId: user.id, projectId: v.projectId, roleId: v.roleId });
          } catch (e) {
            toast.error(
              `User ${v.name} created, but the role was not granted`,
              e instanceof Error ? e.message : undefined,
            );
          }
          await invalidate(trpc.identity.assignments.pathKey());
        }
        toast.success(`User ${v.name} created`);
      }
      await onSaved();
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      form.serverError(e);
    }
  };

  return (
    <Modal
      open={open}
      title={row ? `Edit user ${row.name}` : 'Create user'}
      size="lg"
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {row ? 'Save' : 'Create user'}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="User name" htmlFor="user-name" errors={form.err('name')}>
          <Input
            id="user-name"
            autoFocus
            autoComplete="off"
            value={form.values.name}
            onChange={(e) => form.set('name', e.target.value)}
            aria-invalid={Boolean(form.err('name')?.length) || undefined}
          />
        </Field>
        <Field label="Email" htmlFor="user-email" errors={form.err('email')}>
          <Input
            id="user-email"
            type="email"
            value={form.values.email}
            onChange={(e) => form.set('email', e.target.value)}
            aria-invalid={Boolean(form.err('email')?.length) || undefined}
          />
        </Field>
        <Field
          label={row ? 'New password' : 'Password'}
          htmlFor="user-password"
          hint={row ? 'Leave empty to keep the current password.' : undefined}
          errors={form.err('password')}
        >
          <Input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={form.values.password}
            onChange={(e) => form.set('password', e.target.value)}
          />
        </Field>
        <Field label="Confirm password" htmlFor="user-confirm" errors={form.err('confirm')}>
          <Input
            id="user-confirm"
            type="password"
            autoComplete="new-password"
            value={form.values.confirm}
            onChange={(e) => form.set('confirm', e.target.value)}
            aria-invalid={Boolean(form.err('confirm')?.length) || undefined}
          />
        </Field>
      </div>
      <Field label="Description" htmlFor="user-description" errors={form.err('description')}>
        <Textarea
          id="user-description"
          rows={2}
          value={form.values.description}
          onChange={(e) => form.set('description', e.target.value)}
        />
      </Field>
      {!row && (
        <div className="grid gap-4 sm:grid-cols-3">
          <Field label="Domain" htmlFor="user-domain">
            <Select
              id="user-domain"
              value={form.values.domainId}
              onChange={(e) => form.set('domainId', e.target.value)}
            >
              {(domains.data?.items ?? [{ id: 'default', name: 'Default' }]).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Primary project" htmlFor="user-project" errors={form.err('projectId')}>
            <Select
              id="user-project"
              value={form.values.projectId}
              onChange={(e) => form.set('projectId', e.target.value)}
            >
              <option value="">None</option>
              {projects.data?.items.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Role" htmlFor="user-role" hint="Granted on the primary project.">
            <Select id="user-role" value={form.values.roleId} onChange={(e) => form.set('roleId', e.target.value)}>
              <option value="">None</option>
              {roles.data?.items.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </Select>
          </Field>
        </div>
      )}
      <Checkbox
        id="user-enabled"
        label="Enabled"
        checked={form.values.enabled}
        onChange={(e) => form.set('enabled', e.target.checked)}
      />
    </Modal>
  );
}
