'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useCan } from '@/lib/can';
import { useTRPC } from '@/lib/trpc';
import { Badge, Button, Card, Spinner } from '../ui';
import { AttachDialog, attachableServer, DetachVolumeDialog } from '../volume/dialogs';
import { StorageStatus, type VolumeRow, volumeLabel } from '../volume/status';

const POLICIES = [
  'os_compute_api:os-volumes-attachments:create',
  'os_compute_api:os-volumes-attachments:delete',
] as const;

/**
 * An instance's volumes (Horizon's "Volumes Attached"): device, volume, size and status,
 * attach one of the project's available volumes, detach with confirmation. Live: the
 * volume worker's volume.* events invalidate volume.* queries (lib/live.ts), so attaching
 * turns attached and a detached volume leaves the list without polling.
 */
export function InstanceVolumes({
  server,
}: {
  server: { id: string; name: string; status: string; taskState: string | null };
}) {
  const trpc = useTRPC();
  const can = useCan(POLICIES);
  const list = useQuery(trpc.volume.volumes.forServer.queryOptions({ serverId: server.id }));
  const [attaching, setAttaching] = useState(false);
  const [detaching, setDetaching] = useState<VolumeRow | null>(null);
  const ready = attachableServer(server);
  const rows = list.data ?? [];
  return (
    <Card
      title="Attached volumes"
      action={
        can['os_compute_api:os-volumes-attachments:create'] && (
          <Button
            disabled={!ready}
            title={ready ? undefined : 'Volumes attach to active, stopped, paused or suspended instances with no task.'}
            onClick={() => setAttaching(true)}
          >
            Attach volume
          </Button>
        )
      }
    >
      {list.isLoading ? (
        <Spinner className="size-5 text-sky-600" />
      ) : list.error ? (
        <p role="alert" className="text-sm text-rose-600">
          {list.error.message}
        </p>
      ) : rows.length === 0 ? (
        <p className="text-sm text-slate-500" data-testid="instance-volumes-empty">
          No volume is attached. Disks attached here survive the instance and can move to another one.
        </p>
      ) : (
        <table className="w-full text-sm" data-testid="instance-volumes">
          <thead>
            <tr className="text-left text-xs text-slate-500 uppercase">
              {['Device', 'Volume', 'Size', 'Status'].map((h) => (
                <th key={h} scope="col" className="py-2 pr-4 font-medium">
                  {h}
                </th>
              ))}
              <th scope="col" className="py-2 font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {rows.map((a) => {
              const v = a.volume;
              // The root disk of a server booted from a volume cannot be detached (Nova refuses).
              const root = a.device === '/dev/vda';
              const detachable =
                v !== null && !root && a.status === 'attached' && can['os_compute_api:os-volumes-attachments:delete'];
              return (
                <tr
                  key={a.volumeId}
                  data-testid="instance-volume-row"
                  data-volume-id={a.volumeId}
                  data-name={v?.name ?? ''}
                >
                  <td className="py-2 pr-4">
                    <code data-testid="instance-volume-device">{a.device ?? '—'}</code>
                    {root && (
                      <span className="ml-2">
                        <Badge>root</Badge>
                      </span>
                    )}
                  </td>
                  <td className="py-2 pr-4">
                    <Link className="font-medium text-sky-600 hover:underline" href={`/project/volumes/${a.volumeId}`}>
                      {v ? volumeLabel(v) : a.volumeId.slice(0, 8)}
                    </Link>
                    {a.deleteOnTermination && (
                      <span className="ml-2 text-xs text-amber-600">deleted with the instance</span>
                    )}
                  </td>
                  <td className="py-2 pr-4 tabular-nums">{v ? `${v.size} GiB` : '—'}</td>
                  <td className="py-2 pr-4">
                    {v ? <StorageStatus status={v.status} /> : <Badge tone="slate">{a.status}</Badge>}
                  </td>
                  <td className="py-2 text-right">
                    {detachable && (
                      <Button
                        variant="danger"
                        disabled={!ready}
                        aria-label={`Detach ${volumeLabel(v)}`}
                        onClick={() => setDetaching(v)}
                      >
                        Detach
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <AttachDialog server={attaching ? server : null} onClose={() => setAttaching(false)} />
      <DetachVolumeDialog volume={detaching} serverId={server.id} onClose={() => setDetaching(null)} />
    </Card>
  );
}
