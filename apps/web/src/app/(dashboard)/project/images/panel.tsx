'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { age, formatBytes, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { EditImageDialog, type ImageRow } from '@/components/image/edit';
import { ImageStatus } from '@/components/image/status';
import { UploadImageDialog } from '@/components/image/upload';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Input, PageHeader, Select } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE, useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const VIS = ['public', 'private', 'shared', 'community'] as const;
const STATUS = ['active', 'queued', 'saving', 'killed', 'deactivated'] as const;

export function ImagesPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const now = useNow();
  const paging = useMarkerPaging();
  const can = useCan(['image:add_image', 'image:publicize_image', 'image:modify_image', 'image:delete_image']);
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<(typeof VIS)[number] | ''>('');
  const [status, setStatus] = useState('');
  const [uploading, setUploading] = useState(false);
  const [editing, setEditing] = useState<ImageRow | null>(null);
  const [deleting, setDeleting] = useState<ImageRow | null>(null);
  const remove = useMutation(trpc.image.images.delete.mutationOptions());
  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== name) {
        setName(text.trim());
        paging.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [text, name, paging]);
  const query = useQuery({
    ...trpc.image.images.list.queryOptions({
      name: name || undefined,
      visibility: visibility || undefined,
      status: status || undefined,
      marker: paging.marker,
      limit: PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });
  const confirmDelete = async () => {
    if (!deleting) return;
    try {
      await remove.mutateAsync({ imageId: deleting.id });
      toast.success(`Image ${deleting.name ?? deleting.id} deleted`);
      setDeleting(null);
      await invalidate(trpc.image.images.pathKey());
    } catch {
      // the toast shows the server's message
    }
  };
  return (
    <>
      <PageHeader
        title="Images"
        description="Disk images to boot instances from. Uploads stream straight to the image store."
        actions={
          can['image:add_image'] && (
            <Button variant="primary" onClick={() => setUploading(true)}>
              <Icon name="plus" className="size-4" /> Upload image
            </Button>
          )
        }
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <div className="relative w-full max-w-xs">
          <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
            <Icon name="search" className="size-4" />
          </span>
          <Input
            type="search"
            aria-label="Filter by name"
            placeholder="Filter by name (exact)"
            value={text}
            onChange={(e) => setText(e.target.value)}
            className="pl-8"
          />
        </div>
        <Select
          aria-label="Visibility"
          className="max-w-44"
          value={visibility}
          onChange={(e) => {
            setVisibility(VIS.find((v) => v === e.target.value) ?? '');
            paging.reset();
          }}
        >
          <option value="">Any visibility</option>
          {VIS.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </Select>
        <Select
          aria-label="Status"
          className="max-w-44"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            paging.reset();
          }}
        >
          <option value="">Any status</option>
          {STATUS.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </Select>
      </div>
      <DataTable
        label="Images"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        empty={
          name || visibility || status
            ? 'No image matches these filters.'
            : 'No images yet. Upload one to launch instances from it.'
        }
        paging={{
          page: paging.page,
          hasPrevious: paging.hasPrevious,
          hasNext: Boolean(query.data?.next),
          onPrevious: paging.previous,
          onNext: () => query.data?.next && paging.next(query.data.next),
        }}
        columns={[
          {
            header: 'Name',
            cell: (i) => (
              <div data-testid="image-row" data-name={i.name ?? ''}>
                <Link href={`/project/images/${i.id}`} className="font-medium hover:text-sky-600">
                  {i.name ?? <code className="text-xs">{i.id}</code>}
                </Link>
                {i.protected && <span className="ml-1.5 text-xs text-amber-600">protected</span>}
              </div>
            ),
          },
          { header: 'Status', cell: (i) => <ImageStatus status={i.status} /> },
          {
            header: 'Visibility',
            cell: (i) => <Badge tone={i.visibility === 'public' ? 'sky' : 'slate'}>{i.visibility}</Badge>,
          },
          { header: 'Format', cell: (i) => i.diskFormat ?? '—', className: 'hidden sm:table-cell' },
          { header: 'Size', cell: (i) => formatBytes(i.size), className: 'hidden md:table-cell tabular-nums' },
          {
            header: 'Age',
            cell: (i) => <span title={i.createdAt}>{age(i.createdAt, now)}</span>,
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[
          {
            label: 'Launch',
            onSelect: (i) => router.push(`/project/instances?launch=${i.id}`),
            hidden: (i) => i.status !== 'active',
          },
          { label: 'Edit', onSelect: setEditing, hidden: () => !can['image:modify_image'] },
          {
            label: 'Delete',
            onSelect: setDeleting,
            danger: true,
            hidden: (i) => i.protected || !can['image:delete_image'],
          },
        ]}
      />
      <UploadImageDialog
        open={uploading}
        onClose={() => setUploading(false)}
        canPublicize={can['image:publicize_image']}
      />
      <EditImageDialog image={editing} onClose={() => setEditing(null)} canPublicize={can['image:publicize_image']} />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete image"
        message={
          deleting && (
            <>
              Delete image <strong>{deleting.name ?? deleting.id}</strong> and its data? Instances already running from
              it keep working. This cannot be undone.
            </>
          )
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => void confirmDelete()}
      />
    </>
  );
}
