'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useInvalidate, useListState } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { age, formatBytes, useNow } from '../compute/status';
import { DataTable, markerPaging } from '../data-table';
import { Icon } from '../icons';
import { ConfirmDialog, FormDialog } from '../modal';
import { useToast } from '../toast';
import { Badge, Button, Field, Input, PageHeader } from '../ui';
import { useDeleteUnder } from './delete-under';
import { MetadataDialog } from './metadata';
import { containerHref, crumbs, downloadHref, leafName } from './paths';
import { UploadList, useUploads } from './upload';

type Entry =
  | { kind: 'folder'; name: string }
  | { kind: 'object'; name: string; bytes: number; etag: string; contentType: string; lastModified: string };

/**
 * One container at one pseudo-folder (`path`, '' or "a/b/"): its folders and objects a page
 * at a time, uploads with progress, downloads, metadata, public access, deletes.
 */
export function ContainerBrowser({ container, path }: { container: string; path: string }) {
  const trpc = useTRPC();
  const toast = useToast();
  const router = useRouter();
  const invalidate = useInvalidate();
  const now = useNow();
  const listState = useListState();
  const filter = listState.filter.value;
  const [deleting, setDeleting] = useState<Entry | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [editingContainer, setEditingContainer] = useState(false);
  const [newFolder, setNewFolder] = useState(false);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const account = useQuery(trpc.objectStore.account.get.queryOptions());
  const info = useQuery(trpc.objectStore.containers.get.queryOptions({ container }));
  const list = useQuery({
    ...trpc.objectStore.objects.list.queryOptions({
      container,
      prefix: path + filter,
      delimiter: '/',
      marker: listState.input.marker,
      limit: listState.input.limit,
    }),
    ...listState.keep,
  });
  const objectMeta = useQuery({
    ...trpc.objectStore.objects.get.queryOptions({ container, object: editing ?? '' }),
    enabled: editing !== null,
  });
  const setPublic = useMutation(trpc.objectStore.containers.setPublic.mutationOptions());
  const removeObject = useMutation(trpc.objectStore.objects.delete.mutationOptions(QUIET));
  const saveObjectMeta = useMutation(trpc.objectStore.objects.updateMeta.mutationOptions(QUIET));
  const saveContainerMeta = useMutation(trpc.objectStore.containers.updateMeta.mutationOptions(QUIET));
  const purge = useDeleteUnder();
  const canWrite = account.data?.canWrite ?? false;
  const refresh = () => invalidate(trpc.objectStore.pathKey());
  const uploads = useUploads({ accountPath: account.data?.path, onUploaded: () => void refresh() });

  const pick = (files: FileList | null) => {
    if (!files?.length) return;
    uploads.add([...files], container, path);
  };

  const copy = async (value: string, what: string) => {
    try {
      await navigator.clipboard.writeText(value);
      toast.success(`${what} copied`);
    } catch {
      toast.info(`Copy the ${what.toLowerCase()}`, value);
    }
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    if (deleting.kind === 'object') {
      try {
        await removeObject.mutateAsync({ container, object: deleting.name });
        toast.success(`${leafName(deleting.name, path)} deleted`);
        setDeleting(null);
      } catch (e) {
        toast.error('Could not delete the object', e instanceof Error ? e.message : String(e));
      }
    } else {
      const ok = await purge.run(container, deleting.name);
      if (ok) {
        toast.success(`Folder ${leafName(deleting.name, path)} deleted`);
        setDeleting(null);
      }
    }
    await refresh();
  };

  const c = info.data;
  const publicObjectUrl = (name: string) =>
    c?.publicUrl ? `${c.publicUrl}/${name.split('/').map(encodeURIComponent).join('/')}` : null;

  return (
    // Files dropped anywhere on the browser are uploaded into the folder shown.
    <section
      aria-label={`Container ${container}`}
      onDragOver={(e) => {
        if (!canWrite) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        if (!canWrite) return;
        e.preventDefault();
        setDragging(false);
        pick(e.dataTransfer.files);
      }}
      className={dragging ? 'rounded-xl outline-2 outline-dashed outline-sky-500' : ''}
    >
      <nav aria-label="Breadcrumb" className="mb-2 flex flex-wrap items-center gap-1 text-sm text-slate-500">
        <Link href="/project/object-store" className="hover:text-sky-600">
          Containers
        </Link>
        <span aria-hidden="true">/</span>
        {path ? (
          <Link href={containerHref(container)} className="hover:text-sky-600">
            {container}
          </Link>
        ) : (
          <span aria-current="page" className="font-medium text-slate-800 dark:text-slate-100">
            {container}
          </span>
        )}
        {crumbs(path).map((b, i, all) => (
          <span key={b.path} className="flex items-center gap-1">
            <span aria-hidden="true">/</span>
            {i === all.length - 1 ? (
              <span aria-current="page" className="font-medium text-slate-800 dark:text-slate-100">
                {b.label}
              </span>
            ) : (
              <Link href={containerHref(container, b.path)} className="hover:text-sky-600">
                {b.label}
              </Link>
            )}
          </span>
        ))}
      </nav>
      <PageHeader
        title={container}
        description={
          c ? `${c.objectCount} objects · ${formatBytes(c.bytesUsed)}` : info.error ? info.error.message : undefined
        }
        actions={
          canWrite && (
            <>
              <Button onClick={() => setNewFolder(true)}>
                <Icon name="folder" className="size-4" /> Create folder
              </Button>
              <Button onClick={() => setEditingContainer(true)} disabled={!c}>
                <Icon name="edit" className="size-4" /> Metadata
              </Button>
              <Button variant="primary" onClick={() => fileInput.current?.click()}>
                <Icon name="plus" className="size-4" /> Upload files
              </Button>
              <input
                ref={fileInput}
                type="file"
                multiple
                className="hidden"
                aria-label="Files to upload"
                onChange={(e) => {
                  pick(e.target.files);
                  e.target.value = '';
                }}
              />
            </>
          )
        }
      />
      {c && (
        <div className="mb-4 flex flex-wrap items-center gap-3 rounded-xl border border-slate-200 bg-white px-4 py-3 text-sm shadow-xs dark:border-slate-800 dark:bg-slate-900">
          <Badge tone={c.public ? 'sky' : 'slate'}>{c.public ? 'Public' : 'Private'}</Badge>
          {c.public && c.publicUrl ? (
            <>
              <Input
                readOnly
                aria-label="Public URL"
                value={c.publicUrl}
                className="max-w-xl font-mono text-xs"
                onFocus={(e) => e.target.select()}
              />
              <Button onClick={() => c.publicUrl && void copy(c.publicUrl, 'Public URL')}>Copy URL</Button>
            </>
          ) : (
            <span className="text-slate-500 dark:text-slate-400">
              Only members of this project (and grants in its ACLs) can read it.
            </span>
          )}
          {canWrite && (
            <Button
              className="ml-auto"
              busy={setPublic.isPending}
              onClick={() =>
                void setPublic.mutateAsync({ container, public: !c.public }).then(async (r) => {
                  toast.success(r.public ? `${container} is public` : `${container} is private`);
                  await refresh();
                })
              }
            >
              {c.public ? 'Make private' : 'Make public'}
            </Button>
          )}
        </div>
      )}
      <UploadList
        items={uploads.items}
        container={container}
        onCancel={uploads.cancel}
        onCancelAll={uploads.cancelAll}
        onClear={uploads.clearFinished}
      />
      <DataTable<Entry>
        label="Objects"
        rows={list.data?.items}
        rowKey={(r) => `${r.kind}:${r.name}`}
        loading={list.isLoading}
        error={list.error}
        filter={{
          ...listState.filter,
          label: 'Filter by prefix',
          placeholder: path ? `Filter in ${path}` : 'Filter by prefix',
        }}
        empty={
          filter
            ? `Nothing here starts with “${filter}”.`
            : canWrite
              ? 'This folder is empty. Upload files or drop them here.'
              : 'This folder is empty.'
        }
        paging={markerPaging(listState.paging, list.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (e) =>
              e.kind === 'folder' ? (
                <Link
                  href={containerHref(container, e.name)}
                  className="inline-flex items-center gap-2 font-medium hover:text-sky-600"
                  data-testid="folder-row"
                  data-name={e.name}
                >
                  <Icon name="folder" className="size-4 text-amber-500" />
                  {leafName(e.name, path)}
                </Link>
              ) : (
                <span className="font-medium" data-testid="object-row" data-name={e.name}>
                  {leafName(e.name, path)}
                </span>
              ),
          },
          {
            header: 'Size',
            cell: (e) => (e.kind === 'object' ? formatBytes(e.bytes) : '—'),
            className: 'tabular-nums',
          },
          {
            header: 'Type',
            cell: (e) => (e.kind === 'object' ? e.contentType : 'folder'),
            className: 'hidden md:table-cell text-slate-500',
          },
          {
            header: 'Modified',
            cell: (e) => (e.kind === 'object' ? <span title={e.lastModified}>{age(e.lastModified, now)}</span> : ''),
            className: 'hidden md:table-cell text-slate-500',
          },
          {
            header: 'Download',
            cell: (e) =>
              e.kind === 'object' ? (
                <a
                  href={downloadHref(container, e.name)}
                  download={leafName(e.name, path) || undefined}
                  aria-label={`Download ${leafName(e.name, path)}`}
                  className="inline-flex items-center rounded-md p-1 text-slate-500 hover:bg-slate-100 hover:text-sky-600 dark:hover:bg-slate-800"
                >
                  <Icon name="download" className="size-4" />
                </a>
              ) : null,
            className: 'w-16',
          },
        ]}
        actions={[
          {
            label: 'Open',
            onSelect: (e) => router.push(containerHref(container, e.name)),
            hidden: (e) => e.kind !== 'folder',
          },
          {
            label: 'Copy public URL',
            onSelect: (e) => {
              const u = publicObjectUrl(e.name);
              if (u) void copy(u, 'Public URL');
            },
            hidden: (e) => e.kind !== 'object' || !c?.public,
          },
          {
            label: 'Edit metadata',
            onSelect: (e) => setEditing(e.name),
            hidden: (e) => e.kind !== 'object' || !canWrite,
          },
          { label: 'Delete', danger: true, onSelect: setDeleting, hidden: () => !canWrite },
        ]}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting?.kind === 'folder' ? 'Delete folder' : 'Delete object'}
        message={
          deleting &&
          (deleting.kind === 'folder' ? (
            <>
              Delete folder <strong>{leafName(deleting.name, path)}</strong> and every object in it? This cannot be
              undone.
              {purge.progress !== null && (
                <span className="mt-2 block" role="status">
                  Deleted {purge.progress} objects…
                </span>
              )}
            </>
          ) : (
            <>
              Delete <strong>{leafName(deleting.name, path)}</strong>? This cannot be undone.
            </>
          ))
        }
        busy={removeObject.isPending || purge.busy}
        onClose={() => {
          purge.stop();
          setDeleting(null);
        }}
        onConfirm={() => void confirmDelete()}
      />
      <MetadataDialog
        open={editing !== null}
        title="Object metadata"
        description={editing ?? undefined}
        prefix="X-Object-Meta-"
        initial={objectMeta.data?.meta}
        loading={objectMeta.isLoading}
        onClose={() => setEditing(null)}
        onSave={async (meta) => {
          if (!editing) return;
          await saveObjectMeta.mutateAsync({ container, object: editing, meta });
          toast.success('Metadata saved');
          await refresh();
        }}
      />
      <MetadataDialog
        open={editingContainer}
        title="Container metadata"
        description={container}
        prefix="X-Container-Meta-"
        initial={c?.meta}
        onClose={() => setEditingContainer(false)}
        onSave={async (meta, removed) => {
          await saveContainerMeta.mutateAsync({ container, set: meta, remove: removed });
          toast.success('Metadata saved');
          await refresh();
        }}
      />
      <CreateFolderDialog
        open={newFolder}
        container={container}
        path={path}
        onClose={() => setNewFolder(false)}
        onCreated={async (name) => {
          setNewFolder(false);
          toast.success(`Folder ${leafName(name, path)} created`);
          await refresh();
        }}
      />
    </section>
  );
}

function CreateFolderDialog({
  open,
  container,
  path,
  onClose,
  onCreated,
}: {
  open: boolean;
  container: string;
  path: string;
  onClose: () => void;
  onCreated: (name: string) => Promise<void>;
}) {
  const trpc = useTRPC();
  const create = useMutation(trpc.objectStore.objects.createFolder.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setName('');
    setError(null);
  }, [open]);
  const submit = async () => {
    const n = name.trim().replace(/^\/+|\/+$/g, '');
    if (!n) return setError('Give the folder a name.');
    try {
      const r = await create.mutateAsync({ container, path: `${path}${n}` });
      await onCreated(r.name);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title="Create folder"
      description={`In ${container}/${path}`}
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Create"
      busy={create.isPending}
      error={error}
    >
      <Field label="Folder name" htmlFor="folder-name" hint="“a/b” makes nested folders.">
        <Input id="folder-name" value={name} autoFocus onChange={(e) => setName(e.target.value)} />
      </Field>
    </FormDialog>
  );
}
