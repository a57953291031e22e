'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useMemo, useState } from 'react';
import { age, formatBytes, useNow } from '@/components/compute/status';
import { DataTable, FilterSelect, useListFilters } from '@/components/data-table';
import { EditImageDialog, type ImageRow } from '@/components/image/edit';
import { ImageStatus } from '@/components/image/status';
import { UploadImageDialog } from '@/components/image/upload';
import { Icon } from '@/components/icons';
import { ConfirmAction } from '@/components/modal';
import { Badge, Button, PageHeader } from '@/components/ui';
import { CreateVolumeDialog } from '@/components/volume/create';
import { useCan } from '@/lib/can';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const VIS = ['public', 'private', 'shared', 'community'] as const;
const STATUS = ['active', 'queued', 'saving', 'killed', 'deactivated'] as const;

export function ImagesPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidate();
  const now = useNow();
  const list = useListFilters({ visibility: '' as (typeof VIS)[number] | '', status: '' });
  const can = useCan([
    'image:add_image',
    'image:publicize_image',
    'image:modify_image',
    'image:delete_image',
    'volume:create',
  ]);
  // Horizon's "Create Volume" on an image's row: the volume form with this image as source.
  const [volumeFrom, setVolumeFrom] = useState<string | null>(null);
  const volumePreset = useMemo(
    () => (volumeFrom ? { source: 'image' as const, sourceId: volumeFrom } : undefined),
    [volumeFrom],
  );
  const [uploading, setUploading] = useState(false);
  const [editing, setEditing] = useState<ImageRow | null>(null);
  const [deleting, setDeleting] = useState<ImageRow | null>(null);
  const remove = useMutation(trpc.image.images.delete.mutationOptions());
  const query = useQuery({
    ...trpc.image.images.list.queryOptions({
      ...list.input,
      visibility: list.values.visibility || undefined,
      status: list.values.status || undefined,
    }),
    ...list.keep,
  });
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
      <DataTable
        label="Images"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, label: 'Filter by name', placeholder: 'Filter by name (exact)' }}
        toolbar={
          <>
            <FilterSelect
              label="Visibility"
              any="Any visibility"
              options={VIS}
              value={list.values.visibility}
              onChange={(v) => list.set('visibility', VIS.find((x) => x === v) ?? '')}
            />
            <FilterSelect
              label="Status"
              any="Any status"
              options={STATUS}
              value={list.values.status}
              onChange={(v) => list.set('status', v)}
            />
          </>
        }
        empty={
          list.filtered ? 'No image matches these filters.' : 'No images yet. Upload one to launch instances from it.'
        }
        paging={list.pager(query.data?.next)}
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
          {
            label: 'Create volume',
            onSelect: (i) => setVolumeFrom(i.id),
            hidden: (i) => i.status !== 'active' || !can['volume:create'],
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
      <CreateVolumeDialog open={volumeFrom !== null} preset={volumePreset} onClose={() => setVolumeFrom(null)} />
      <EditImageDialog image={editing} onClose={() => setEditing(null)} canPublicize={can['image:publicize_image']} />
      <ConfirmAction
        target={deleting}
        title="Delete image"
        message={(d) => (
          <>
            Delete image <strong>{d.name ?? d.id}</strong> and its data? Instances already running from it keep working.
            This cannot be undone.
          </>
        )}
        action={(d) => remove.mutateAsync({ imageId: d.id })}
        done={(d) => `Image ${d.name ?? d.id} deleted`}
        refresh={() => invalidate(trpc.image.images.pathKey())}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
