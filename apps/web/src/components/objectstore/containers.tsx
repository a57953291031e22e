'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { isTRPCError, QUIET, useTRPC } from '@/lib/trpc';
import { useInvalidate, useListState } from '@/lib/resource';
import { age, formatBytes, useNow } from '../compute/status';
import { DataTable, markerPaging } from '../data-table';
import { Icon } from '../icons';
import { ConfirmDialog, FormDialog } from '../modal';
import { useToast } from '../toast';
import { Button, Checkbox, Field, Input, PageHeader } from '../ui';
import { useDeleteUnder } from './delete-under';
import { containerHref } from './paths';

interface ContainerRow {
  name: string;
  count: number;
  bytes: number;
  lastModified: string;
}

/** The project's containers: create, filter by prefix, page, open, delete (with contents if asked). */
export function ContainersPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const now = useNow();
  const list = useListState();
  const prefix = list.filter.value;
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ContainerRow | null>(null);
  const [notEmpty, setNotEmpty] = useState<ContainerRow | null>(null);
  const account = useQuery(trpc.objectStore.account.get.queryOptions());
  const query = useQuery({
    ...trpc.objectStore.containers.list.queryOptions({ prefix, marker: list.input.marker, limit: list.input.limit }),
    ...list.keep,
  });
  const remove = useMutation(trpc.objectStore.containers.delete.mutationOptions(QUIET));
  const purge = useDeleteUnder();
  const canWrite = account.data?.canWrite ?? false;
  const refresh = () => invalidate(trpc.objectStore.pathKey());

  const confirmDelete = async () => {
    if (!deleting) return;
    try {
      await remove.mutateAsync({ container: deleting.name });
      toast.success(`Container ${deleting.name} deleted`);
      setDeleting(null);
      await refresh();
    } catch (e) {
      if (isTRPCError(e) && e.data?.code === 'CONFLICT') {
        // Swift refuses a non-empty container: offer to empty it first.
        setNotEmpty(deleting);
        setDeleting(null);
      } else toast.error('Could not delete the container', e instanceof Error ? e.message : String(e));
    }
  };

  const confirmDeleteAll = async () => {
    if (!notEmpty) return;
    const ok = await purge.run(notEmpty.name, '');
    if (ok) {
      try {
        await remove.mutateAsync({ container: notEmpty.name });
        toast.success(`Container ${notEmpty.name} and its objects deleted`);
        setNotEmpty(null);
      } catch (e) {
        toast.error('Could not delete the container', e instanceof Error ? e.message : String(e));
      }
    }
    await refresh();
  };

  return (
    <>
      <PageHeader
        title="Object Store"
        description={
          account.data
            ? `${account.data.containerCount} containers · ${account.data.objectCount} objects · ${formatBytes(account.data.bytesUsed)}, each object stored three times.`
            : 'Containers and objects, stored three times on the ring.'
        }
        actions={
          canWrite && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              <Icon name="plus" className="size-4" /> Create container
            </Button>
          )
        }
      />
      <DataTable
        label="Containers"
        rows={query.data?.items}
        rowKey={(r) => r.name}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, placeholder: 'Filter by prefix' }}
        empty={prefix ? `No container name starts with “${prefix}”.` : 'No containers yet. Create one to upload files.'}
        paging={markerPaging(list.paging, query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (c) => (
              <Link
                href={containerHref(c.name)}
                className="inline-flex items-center gap-2 font-medium hover:text-sky-600"
                data-testid="container-row"
                data-name={c.name}
              >
                <Icon name="bucket" className="size-4 text-slate-400" />
                {c.name}
              </Link>
            ),
          },
          { header: 'Objects', cell: (c) => c.count, className: 'tabular-nums' },
          { header: 'Size', cell: (c) => formatBytes(c.bytes), className: 'hidden sm:table-cell tabular-nums' },
          {
            header: 'Modified',
            cell: (c) => <span title={c.lastModified}>{age(c.lastModified, now)}</span>,
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[{ label: 'Delete', danger: true, onSelect: setDeleting, hidden: () => !canWrite }]}
      />
      <CreateContainerDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={async (name) => {
          setCreating(false);
          toast.success(`Container ${name} created`);
          await refresh();
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete container"
        message={
          deleting && (
            <>
              Delete container <strong>{deleting.name}</strong>? This cannot be undone.
            </>
          )
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => void confirmDelete()}
      />
      <ConfirmDialog
        open={notEmpty !== null}
        title="Container is not empty"
        confirmLabel="Delete with contents"
        message={
          notEmpty && (
            <>
              <strong>{notEmpty.name}</strong> still holds objects, and an object store only deletes empty containers.
              Delete its {notEmpty.count > 0 ? `${notEmpty.count} ` : ''}objects and then the container? This cannot be
              undone.
              {purge.progress !== null && (
                <span className="mt-2 block" role="status">
                  Deleted {purge.progress} objects…
                </span>
              )}
            </>
          )
        }
        busy={purge.busy || remove.isPending}
        onClose={() => {
          purge.stop();
          setNotEmpty(null);
        }}
        onConfirm={() => void confirmDeleteAll()}
      />
    </>
  );
}

function CreateContainerDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (name: string) => Promise<void>;
}) {
  const trpc = useTRPC();
  const create = useMutation(trpc.objectStore.containers.create.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [pub, setPub] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setName('');
    setPub(false);
    setError(null);
  }, [open]);
  const submit = async () => {
    const n = name.trim();
    if (!n) return setError('Give the container a name.');
    if (n.includes('/')) return setError('A container name may not contain “/”.');
    try {
      const r = await create.mutateAsync({ name: n, public: pub });
      if (!r.created) return setError(`A container named ${n} already exists.`);
      await onCreated(n);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title="Create container"
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Create"
      busy={create.isPending}
      error={error}
    >
      <Field label="Container name" htmlFor="container-name" hint="Up to 256 bytes, no “/”.">
        <Input id="container-name" value={name} autoFocus onChange={(e) => setName(e.target.value)} />
      </Field>
      <Checkbox
        id="container-public"
        label="Public: anyone with the link can read and list its objects"
        checked={pub}
        onChange={(e) => setPub(e.target.checked)}
      />
    </FormDialog>
  );
}
