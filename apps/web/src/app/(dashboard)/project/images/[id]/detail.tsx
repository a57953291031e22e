'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { ReactNode } from 'react';
import { useState } from 'react';
import { formatBytes } from '@/components/compute/status';
import { EditImageDialog } from '@/components/image/edit';
import { ImageStatus } from '@/components/image/status';
import { ConfirmDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Card, Spinner } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

function Prop({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="col-span-2 min-w-0 break-words">{children ?? <span className="text-slate-400">—</span>}</dd>
    </div>
  );
}

export function ImageDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const can = useCan(['image:publicize_image', 'image:modify_image', 'image:delete_image']);
  const q = useQuery(trpc.image.images.get.queryOptions({ imageId: id }));
  const remove = useMutation(trpc.image.images.delete.mutationOptions());
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const i = q.data;
  if (q.isLoading) return <Spinner className="size-6 text-sky-600" />;
  if (q.error || !i)
    return (
      <p role="alert" className="text-rose-600">
        {q.error?.message ?? 'Image not found.'}
      </p>
    );
  return (
    <>
      <nav className="mb-2 text-sm text-slate-500">
        <Link href="/project/images" className="hover:text-sky-600">
          Images
        </Link>{' '}
        / {i.name ?? i.id}
      </nav>
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
            {i.name ?? 'Unnamed image'} <ImageStatus status={i.status} />
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{i.id}</p>
        </div>
        <div className="flex gap-2">
          {i.status === 'active' && (
            <Button variant="primary" onClick={() => router.push(`/project/instances?launch=${i.id}`)}>
              Launch
            </Button>
          )}
          {can['image:modify_image'] && <Button onClick={() => setEditing(true)}>Edit</Button>}
          {can['image:delete_image'] && !i.protected && (
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete
            </Button>
          )}
        </div>
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Image">
          <dl className="divide-y divide-slate-100 dark:divide-slate-800">
            <Prop label="Visibility">
              <Badge tone={i.visibility === 'public' ? 'sky' : 'slate'}>{i.visibility}</Badge>
            </Prop>
            <Prop label="Owner">
              <code className="text-xs">{i.owner}</code>
            </Prop>
            <Prop label="Protected">{i.protected ? 'Yes' : 'No'}</Prop>
            <Prop label="Disk format">{i.diskFormat}</Prop>
            <Prop label="Container format">{i.containerFormat}</Prop>
            <Prop label="Size">
              {i.size !== null ? `${formatBytes(i.size)} (${i.size.toLocaleString()} bytes)` : null}
            </Prop>
            <Prop label="Virtual size">{i.virtualSize !== null ? formatBytes(i.virtualSize) : null}</Prop>
            <Prop label="Min disk / RAM">{`${i.minDisk} GB / ${i.minRam} MB`}</Prop>
            <Prop label="Checksum">
              {i.osHashValue ? (
                <code className="text-xs">{`${i.osHashAlgo}: ${i.osHashValue.slice(0, 32)}…`}</code>
              ) : null}
            </Prop>
            <Prop label="Created">{i.createdAt.replace('T', ' ').slice(0, 19)} UTC</Prop>
          </dl>
        </Card>
        <Card title="Properties">
          {Object.keys(i.properties).length === 0 && i.tags.length === 0 ? (
            <p className="text-sm text-slate-500">No properties.</p>
          ) : (
            <dl className="divide-y divide-slate-100 dark:divide-slate-800">
              {i.tags.length > 0 && (
                <Prop label="Tags">
                  <span className="flex flex-wrap gap-1">
                    {i.tags.map((t) => (
                      <Badge key={t}>{t}</Badge>
                    ))}
                  </span>
                </Prop>
              )}
              {Object.entries(i.properties).map(([k, v]) => (
                <Prop key={k} label={k}>
                  <code className="text-xs">{v}</code>
                </Prop>
              ))}
            </dl>
          )}
        </Card>
      </div>
      <EditImageDialog
        image={editing ? i : null}
        onClose={() => setEditing(false)}
        canPublicize={can['image:publicize_image']}
      />
      <ConfirmDialog
        open={deleting}
        title="Delete image"
        message={
          <>
            Delete image <strong>{i.name ?? i.id}</strong> and its data? This cannot be undone.
          </>
        }
        busy={remove.isPending}
        onClose={() => setDeleting(false)}
        onConfirm={() =>
          void remove.mutateAsync({ imageId: i.id }).then(
            async () => {
              toast.success(`Image ${i.name ?? i.id} deleted`);
              await invalidate(trpc.image.images.pathKey());
              router.push('/project/images');
            },
            () => {},
          )
        }
      />
    </>
  );
}
