'use client';
import { canDoVolume } from '@stratus/core/volume/state';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { ConfirmDialog, FormDialog, Modal } from '../modal';
import { useToast } from '../toast';
import { Button, Checkbox, Field, FormError, Input, Select, Textarea } from '../ui';
import { CreateVolumeDialog, type CreateVolumePreset } from './create';
import { type BackupRow, volumeLabel, type VolumeRow } from './status';

/*
 * Every action on a volume, as a menu entry with its dialog. Which entries show comes
 * from core's status table (canDoVolume) and the caller's policy, so the dashboard offers
 * what the API would accept; the API still decides and its message is shown as is.
 */

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export type VolumeActionId =
  | 'edit'
  | 'extend'
  | 'retype'
  | 'attach'
  | 'detach'
  | 'snapshot'
  | 'backup'
  | 'clone'
  | 'transfer'
  | 'delete';

export const VOLUME_POLICIES = [
  'volume:create',
  'volume:update',
  'volume:delete',
  'volume:extend',
  'volume:retype',
  'volume:create_snapshot',
  'backup:create',
  'volume:create_transfer',
  'volume:accept_transfer',
] as const;

type Can = Record<(typeof VOLUME_POLICIES)[number], boolean>;

/** Every volume action: its label, and when the status table and policy allow it. */
export const VOLUME_ACTIONS: Array<{
  id: VolumeActionId;
  label: string;
  danger?: boolean;
  allows: (v: VolumeRow, can: Can) => boolean;
}> = [
  { id: 'edit', label: 'Edit volume', allows: (v, c) => c['volume:update'] && canDoVolume('update', v).ok },
  {
    id: 'extend',
    label: 'Extend volume',
    allows: (v, c) => c['volume:extend'] && canDoVolume('extend_attached', v).ok,
  },
  {
    id: 'retype',
    label: 'Change volume type',
    allows: (v, c) => c['volume:retype'] && canDoVolume('retype', v).ok,
  },
  { id: 'attach', label: 'Attach to instance', allows: (v, c) => c['volume:update'] && canDoVolume('attach', v).ok },
  {
    id: 'detach',
    label: 'Detach',
    allows: (v, c) => c['volume:update'] && v.status === 'in-use' && v.attachments.length > 0,
  },
  {
    id: 'snapshot',
    label: 'Create snapshot',
    allows: (v, c) => c['volume:create_snapshot'] && canDoVolume('snapshot_attached', v).ok,
  },
  {
    id: 'backup',
    label: 'Create backup',
    allows: (v, c) => c['backup:create'] && canDoVolume('backup_attached', v).ok,
  },
  {
    id: 'clone',
    label: 'Create volume from this',
    allows: (v, c) => c['volume:create'] && v.status === 'available',
  },
  {
    id: 'transfer',
    label: 'Create transfer',
    allows: (v, c) => c['volume:create_transfer'] && canDoVolume('transfer', v).ok,
  },
  {
    id: 'delete',
    label: 'Delete volume',
    danger: true,
    allows: (v, c) => c['volume:delete'] && canDoVolume('delete', v).ok && v.attachStatus === 'detached',
  },
];

/** The actions a volume offers now. */
export const volumeMenu = (v: VolumeRow, can: Can) => VOLUME_ACTIONS.filter((a) => a.allows(v, can));

/** The dialogs behind volumeMenu: `open(id, volume)` shows one; render `dialog` once. */
export function useVolumeActions(opts: { onDeleted?: (v: VolumeRow) => void } = {}) {
  const [state, setState] = useState<{ id: VolumeActionId; v: VolumeRow } | null>(null);
  const close = () => setState(null);
  const v = state?.v ?? null;
  const is = (id: VolumeActionId) => (state?.id === id ? v : null);
  // One object per opening: the form resets when its preset changes, not on every live re-render.
  const cloneId = state?.id === 'clone' ? state.v.id : null;
  const clonePreset = useMemo<CreateVolumePreset | undefined>(
    () => (cloneId ? { source: 'volume', sourceId: cloneId } : undefined),
    [cloneId],
  );
  const dialog = (
    <>
      <EditVolumeDialog volume={is('edit')} onClose={close} />
      <ExtendVolumeDialog volume={is('extend')} onClose={close} />
      <ChangeVolumeTypeDialog volume={is('retype')} onClose={close} />
      <AttachDialog volume={is('attach')} onClose={close} />
      <DetachVolumeDialog volume={is('detach')} onClose={close} />
      <CreateSnapshotDialog volume={is('snapshot')} onClose={close} />
      <CreateBackupDialog volume={is('backup')} onClose={close} />
      <CreateVolumeDialog open={state?.id === 'clone'} preset={clonePreset} onClose={close} />
      <TransferVolumeDialog volume={is('transfer')} onClose={close} />
      <DeleteVolumeDialog volume={is('delete')} onClose={close} onDeleted={opts.onDeleted} />
    </>
  );
  return { open: (id: VolumeActionId, volume: VolumeRow) => setState({ id, v: volume }), dialog };
}

/**
 * A volume dialog's submit (`openFor`: what it is open for, falsy when closed): `run` sends the request and returns the confirmation; then
 * the volume lists refresh, the confirmation shows and (unless `close` is false) the
 * dialog closes. A refusal shows in the dialog (`error`) as the API worded it.
 */
function useSubmit(openFor: unknown, onClose: () => void) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [error, setError] = useState<string | null>(null);
  // Each opening starts without the last one's error.
  useEffect(() => {
    if (openFor) setError(null);
  }, [openFor]);
  const submit = async (run: () => Promise<string>, close = true) => {
    try {
      const message = await run();
      await invalidate(trpc.volume.pathKey());
      toast.success(message);
      if (close) onClose();
    } catch (e) {
      setError(errText(e));
    }
  };
  return { error, setError, submit };
}

export function EditVolumeDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const update = useMutation(trpc.volume.volumes.update.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [bootable, setBootable] = useState(false);
  const { error, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setName(volume.name ?? '');
    setDescription(volume.description ?? '');
    setBootable(volume.bootable);
  }, [volume]);
  const save = async () => {
    if (!volume) return;
    await submit(async () => {
      await update.mutateAsync({
        volumeId: volume.id,
        ...(name !== (volume.name ?? '') ? { name: name.trim() || null } : {}),
        ...(description !== (volume.description ?? '') ? { description: description.trim() || null } : {}),
        ...(bootable !== volume.bootable ? { bootable } : {}),
      });
      return `Volume ${name || volume.id} saved`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Edit volume ${volume ? volumeLabel(volume) : ''}`}
      submitLabel="Save"
      busy={update.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field label="Name" htmlFor="edit-volume-name">
        <Input id="edit-volume-name" autoFocus maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Description" htmlFor="edit-volume-description">
        <Textarea
          id="edit-volume-description"
          rows={2}
          maxLength={255}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </Field>
      <Checkbox
        id="edit-volume-bootable"
        label="Bootable (instances may boot from it)"
        checked={bootable}
        onChange={(e) => setBootable(e.target.checked)}
      />
    </FormDialog>
  );
}

export function ExtendVolumeDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const extend = useMutation(trpc.volume.volumes.extend.mutationOptions(QUIET));
  const [size, setSize] = useState('');
  const { error, setError, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setSize(String(volume.size + 1));
  }, [volume]);
  const save = async () => {
    if (!volume) return;
    const n = Number(size);
    if (!Number.isInteger(n)) return setError('The new size is a whole number of GiB.');
    // Smaller or equal sizes go to the API on purpose: its message says why they are refused.
    await submit(async () => {
      await extend.mutateAsync({ volumeId: volume.id, newSize: n });
      return `Volume ${volumeLabel(volume)} is being extended to ${n} GiB`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Extend volume ${volume ? volumeLabel(volume) : ''}`}
      description={
        volume?.status === 'in-use'
          ? 'The volume is attached: it grows live and the guest sees the new size.'
          : 'Volumes only grow; a file system on it needs resizing inside the guest.'
      }
      submitLabel="Extend"
      busy={extend.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field label="Current size" htmlFor="extend-current">
        <Input id="extend-current" disabled value={`${volume?.size ?? ''} GiB`} />
      </Field>
      <Field label="New size (GiB)" htmlFor="extend-size">
        <Input
          id="extend-size"
          type="number"
          autoFocus
          step={1}
          value={size}
          onChange={(e) => setSize(e.target.value)}
        />
      </Field>
    </FormDialog>
  );
}

/**
 * Change Type (Cinder's retype without migration): the new type must accept the backend the
 * data is on; core refuses other types with Cinder's message, shown in the dialog.
 */
export function ChangeVolumeTypeDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const retype = useMutation(trpc.volume.volumes.retype.mutationOptions(QUIET));
  const types = useQuery({ ...trpc.volume.types.queryOptions(), enabled: volume !== null });
  const [type, setType] = useState('');
  const { error, setError, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (volume) setType('');
  }, [volume]);
  const choices = (types.data ?? []).filter((t) => t.id !== volume?.volumeTypeId);
  const save = async () => {
    if (!volume) return;
    if (!type) return setError('Choose the new volume type.');
    await submit(async () => {
      const v = await retype.mutateAsync({ volumeId: volume.id, volumeType: type });
      return `Volume ${volumeLabel(volume)} is now of type ${v.volumeTypeName ?? type}`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Change type of ${volume ? volumeLabel(volume) : ''}`}
      description="The data stays where it is: only types served by the volume's current backend are accepted."
      submitLabel="Change type"
      busy={retype.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field label="Current type" htmlFor="retype-current">
        <Input id="retype-current" disabled value={volume?.volumeTypeName ?? volume?.volumeTypeId ?? ''} />
      </Field>
      <Field
        label="New type"
        htmlFor="retype-type"
        hint={types.data && choices.length === 0 ? 'There is no other volume type.' : undefined}
      >
        <Select id="retype-type" autoFocus value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">Choose a type…</option>
          {choices.map((t) => (
            <option key={t.id} value={t.name}>
              {t.name}
              {t.description ? ` — ${t.description}` : ''}
            </option>
          ))}
        </Select>
      </Field>
    </FormDialog>
  );
}

/** States in which Nova attaches or detaches (see core/compute/volume-attachments). */
export const ATTACHABLE = new Set(['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED']);

/** Whether an instance can take or give up a volume now (Nova's vm states, no task running). */
export const attachableServer = (s: { status: string; taskState: string | null }) =>
  ATTACHABLE.has(s.status) && !s.taskState;

/**
 * Attach, from either side: opened for a volume (its menu or page) it offers the project's
 * instances that can take it now; opened for an instance (its page or its row in
 * Instances) it offers the project's available volumes. The device is chosen by the cloud
 * unless asked for; a running instance gets the disk at once (hot-plug).
 */
export function AttachDialog({
  volume = null,
  server = null,
  onClose,
}: {
  /** The volume to attach: choose the instance. */
  volume?: VolumeRow | null;
  /** The instance to attach to: choose the volume. */
  server?: { id: string; name: string } | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const attach = useMutation(trpc.volume.volumes.attach.mutationOptions(QUIET));
  const servers = useQuery({ ...trpc.compute.servers.list.queryOptions({ limit: 200 }), enabled: volume !== null });
  const volumes = useQuery({
    ...trpc.volume.volumes.list.queryOptions({ status: 'available', limit: 200 }),
    enabled: volume === null && server !== null,
  });
  const openFor = volume?.id ?? server?.id ?? null;
  const [choice, setChoice] = useState('');
  const [device, setDevice] = useState('');
  const { error, setError, submit } = useSubmit(openFor, onClose);
  useEffect(() => {
    if (!openFor) return;
    setChoice('');
    setDevice('');
  }, [openFor]);
  // The side to choose: its options (id, name shown in the toast, option text) and wording.
  const pick = volume
    ? {
        label: 'Instance',
        prompt: 'Choose an instance…',
        missing: 'Choose an instance.',
        loaded: servers.data !== undefined,
        none: 'No instance of this project can take a volume now.',
        options: (servers.data?.items ?? [])
          .filter((s) => attachableServer(s) && !volume.attachments.some((a) => a.serverId === s.id))
          .map((s) => ({ id: s.id, name: s.name, text: `${s.name} (${s.status})` })),
      }
    : {
        label: 'Volume',
        prompt: 'Choose a volume…',
        missing: 'Choose a volume.',
        loaded: volumes.data !== undefined,
        none: 'This project has no available volume: create one in Volumes first.',
        options: (volumes.data?.items ?? []).map((v) => ({
          id: v.id,
          name: volumeLabel(v),
          text: `${volumeLabel(v)} (${v.size} GiB)`,
        })),
      };
  const save = async () => {
    const chosen = pick.options.find((o) => o.id === choice);
    if (!openFor) return;
    if (!chosen) return setError(pick.missing);
    const [volumeId, volumeName] = volume ? [volume.id, volumeLabel(volume)] : [chosen.id, chosen.name];
    const [serverId, serverName] = server ? [server.id, server.name] : [chosen.id, chosen.name];
    await submit(async () => {
      const a = await attach.mutateAsync({ volumeId, serverId, device: device.trim() || undefined });
      return `Attaching ${volumeName} to ${serverName} as ${a.device ?? 'a new disk'}`;
    });
  };
  return (
    <FormDialog
      open={openFor !== null}
      title={volume ? `Attach volume ${volumeLabel(volume)}` : `Attach a volume to ${server?.name ?? ''}`}
      description="A running instance gets the disk at once (hot-plug); the device name is chosen for you unless you ask for one."
      submitLabel="Attach volume"
      busy={attach.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field
        label={pick.label}
        htmlFor="attach-choice"
        hint={pick.loaded && pick.options.length === 0 ? pick.none : undefined}
      >
        <Select id="attach-choice" autoFocus value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">{pick.prompt}</option>
          {pick.options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.text}
            </option>
          ))}
        </Select>
      </Field>
      <Field
        label="Device name (optional)"
        htmlFor="attach-device"
        hint="For example /dev/vdb; leave empty to let the cloud choose."
      >
        <Input id="attach-device" value={device} placeholder="/dev/vdb" onChange={(e) => setDevice(e.target.value)} />
      </Field>
    </FormDialog>
  );
}

export function DetachVolumeDialog({
  volume,
  serverId: fromServer,
  onClose,
}: {
  volume: VolumeRow | null;
  /** Preselects the instance to detach from (a multiattach volume has several). */
  serverId?: string;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const detach = useMutation(trpc.volume.volumes.detach.mutationOptions(QUIET));
  const servers = useQuery({ ...trpc.compute.servers.list.queryOptions({ limit: 200 }), enabled: volume !== null });
  const [serverId, setServerId] = useState('');
  const { error, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setServerId(
      fromServer && volume.attachments.some((a) => a.serverId === fromServer)
        ? fromServer
        : (volume.attachments[0]?.serverId ?? ''),
    );
  }, [volume, fromServer]);
  const name = (id: string) => servers.data?.items.find((s) => s.id === id)?.name ?? id;
  const att = volume?.attachments.find((a) => a.serverId === serverId);
  const save = async () => {
    if (!volume || !serverId) return;
    await submit(async () => {
      await detach.mutateAsync({ volumeId: volume.id, serverId });
      return `Detaching ${volumeLabel(volume)} from ${name(serverId)}`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Detach volume ${volume ? volumeLabel(volume) : ''}`}
      submitLabel="Detach"
      submitVariant="danger"
      busy={detach.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      {(volume?.attachments.length ?? 0) > 1 && (
        <Field label="Instance" htmlFor="detach-server">
          <Select id="detach-server" value={serverId} onChange={(e) => setServerId(e.target.value)}>
            {volume?.attachments.map((a) => (
              <option key={a.serverId} value={a.serverId}>
                {name(a.serverId)} ({a.device ?? '—'})
              </option>
            ))}
          </Select>
        </Field>
      )}
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Detach <strong>{volume ? volumeLabel(volume) : ''}</strong> from <strong>{name(serverId)}</strong>
        {att?.device ? (
          <>
            {' '}
            (<code>{att.device}</code>)
          </>
        ) : null}
        ? Unmount it inside the guest first: a disk still mounted there is pulled away under the file system.
      </p>
    </FormDialog>
  );
}

function NameDescription({
  prefix,
  name,
  setName,
  description,
  setDescription,
}: {
  prefix: string;
  name: string;
  setName: (s: string) => void;
  description: string;
  setDescription: (s: string) => void;
}) {
  return (
    <>
      <Field label="Name" htmlFor={`${prefix}-name`}>
        <Input id={`${prefix}-name`} autoFocus maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Description" htmlFor={`${prefix}-description`}>
        <Textarea
          id={`${prefix}-description`}
          rows={2}
          maxLength={255}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </Field>
    </>
  );
}

export function CreateSnapshotDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.volume.snapshots.create.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const { error, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setName(`${volumeLabel(volume)}-snap`);
    setDescription('');
  }, [volume]);
  const save = async () => {
    if (!volume) return;
    await submit(async () => {
      const s = await create.mutateAsync({
        volumeId: volume.id,
        name: name.trim() || undefined,
        description: description.trim() || undefined,
      });
      return `Snapshot ${s.name ?? s.id} is being created`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Create snapshot of ${volume ? volumeLabel(volume) : ''}`}
      description={
        volume?.status === 'in-use'
          ? 'The volume is attached: it is copied while the guest runs (crash-consistent).'
          : 'A point-in-time copy you can create new volumes from.'
      }
      submitLabel="Create snapshot"
      busy={create.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <NameDescription
        prefix="snapshot"
        name={name}
        setName={setName}
        description={description}
        setDescription={setDescription}
      />
    </FormDialog>
  );
}

export function CreateBackupDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.volume.backups.create.mutationOptions(QUIET));
  const prior = useQuery({
    ...trpc.volume.backups.list.queryOptions({ volumeId: volume?.id ?? '', status: 'available', limit: 1 }),
    enabled: volume !== null,
  });
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [incremental, setIncremental] = useState(false);
  const { error, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setName(`${volumeLabel(volume)}-backup`);
    setDescription('');
    setIncremental(false);
  }, [volume]);
  const hasFull = (prior.data?.items.length ?? 0) > 0;
  const save = async () => {
    if (!volume) return;
    await submit(async () => {
      const b = await create.mutateAsync({
        volumeId: volume.id,
        incremental,
        name: name.trim() || undefined,
        description: description.trim() || undefined,
      });
      return `Backup ${b.name ?? b.id} started: its progress shows in Backups`;
    });
  };
  return (
    <FormDialog
      open={volume !== null}
      title={`Back up ${volume ? volumeLabel(volume) : ''}`}
      description="A copy of the volume's data kept apart from the volume, restorable to this or a new volume."
      submitLabel="Create backup"
      busy={create.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <NameDescription
        prefix="backup"
        name={name}
        setName={setName}
        description={description}
        setDescription={setDescription}
      />
      <Checkbox
        id="backup-incremental"
        label={
          hasFull
            ? 'Incremental (only what changed since the latest backup)'
            : 'Incremental (needs an earlier backup of this volume)'
        }
        disabled={!hasFull}
        checked={incremental}
        onChange={(e) => setIncremental(e.target.checked)}
      />
    </FormDialog>
  );
}

export function RestoreBackupDialog({ backup, onClose }: { backup: BackupRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const restore = useMutation(trpc.volume.backups.restore.mutationOptions(QUIET));
  const volumes = useQuery({
    ...trpc.volume.volumes.list.queryOptions({ status: 'available', limit: 200 }),
    enabled: backup !== null,
  });
  const [target, setTarget] = useState('');
  const [name, setName] = useState('');
  const { error, submit } = useSubmit(backup, onClose);
  useEffect(() => {
    if (!backup) return;
    setTarget('');
    setName(`${backup.name ?? backup.id.slice(0, 8)}-restored`);
  }, [backup]);
  const fits = (volumes.data?.items ?? []).filter(
    (v) => backup && v.size >= backup.size && v.attachStatus === 'detached',
  );
  const save = async () => {
    if (!backup) return;
    await submit(async () => {
      const r = await restore.mutateAsync({
        backupId: backup.id,
        ...(target ? { volumeId: target } : { name: name.trim() || undefined }),
      });
      return `Restoring backup into ${r.volumeName ?? r.volumeId}`;
    });
  };
  return (
    <FormDialog
      open={backup !== null}
      title={`Restore backup ${backup?.name ?? ''}`}
      description="Into a new volume, or over an available volume at least as large (its data is replaced)."
      submitLabel="Restore"
      busy={restore.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field label="Restore into" htmlFor="restore-target">
        <Select id="restore-target" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">A new volume ({backup?.size ?? ''} GiB)</option>
          {fits.map((v) => (
            <option key={v.id} value={v.id}>
              {volumeLabel(v)} ({v.size} GiB) — replaces its data
            </option>
          ))}
        </Select>
      </Field>
      {!target && (
        <Field label="New volume name" htmlFor="restore-name">
          <Input id="restore-name" maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
      )}
    </FormDialog>
  );
}

/** Creates a transfer and shows its auth key once: it is never shown again. */
export function TransferVolumeDialog({ volume, onClose }: { volume: VolumeRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.volume.transfers.create.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ id: string; authKey: string } | null>(null);
  const { error, submit } = useSubmit(volume, onClose);
  useEffect(() => {
    if (!volume) return;
    setName('');
    setCreated(null);
  }, [volume]);
  const save = async () => {
    if (!volume) return;
    if (created) return onClose();
    await submit(async () => {
      const t = await create.mutateAsync({ volumeId: volume.id, name: name.trim() || undefined });
      setCreated({ id: t.id, authKey: t.authKey });
      return `Transfer of ${volumeLabel(volume)} created`;
    }, false);
  };
  return (
    <Modal
      open={volume !== null}
      title={`Transfer volume ${volume ? volumeLabel(volume) : ''}`}
      description="Another project takes the volume over with the transfer id and its auth key."
      onClose={onClose}
      onSubmit={() => void save()}
      footer={
        created ? (
          <Button type="submit" variant="primary">
            I have saved the key
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={create.isPending}>
              Create transfer
            </Button>
          </>
        )
      }
    >
      <FormError message={error} />
      {created ? (
        <div className="space-y-3 text-sm" data-testid="transfer-created">
          <p className="rounded-lg bg-amber-50 px-3 py-2 text-amber-800 dark:bg-amber-500/10 dark:text-amber-300">
            Copy the auth key now: it is shown only once and cannot be recovered. Give both values to the receiving
            project.
          </p>
          <Field label="Transfer id" htmlFor="transfer-id">
            <Input
              id="transfer-id"
              readOnly
              value={created.id}
              className="font-mono text-xs"
              onFocus={(e) => e.target.select()}
            />
          </Field>
          <Field label="Auth key" htmlFor="transfer-key">
            <Input
              id="transfer-key"
              readOnly
              value={created.authKey}
              className="font-mono text-xs"
              onFocus={(e) => e.target.select()}
            />
          </Field>
        </div>
      ) : (
        <Field
          label="Transfer name"
          htmlFor="transfer-name"
          hint="The volume waits in awaiting-transfer until accepted or cancelled."
        >
          <Input id="transfer-name" autoFocus maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
      )}
    </Modal>
  );
}

export function AcceptTransferDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const accept = useMutation(trpc.volume.transfers.accept.mutationOptions(QUIET));
  const [id, setId] = useState('');
  const [key, setKey] = useState('');
  const { error, setError, submit } = useSubmit(open, onClose);
  useEffect(() => {
    if (!open) return;
    setId('');
    setKey('');
  }, [open]);
  const save = async () => {
    if (!id.trim() || !key.trim()) return setError('Both the transfer id and the auth key are needed.');
    await submit(async () => {
      const r = await accept.mutateAsync({ transferId: id.trim(), authKey: key.trim() });
      return `Volume ${r.volumeId.slice(0, 8)} now belongs to this project`;
    });
  };
  return (
    <FormDialog
      open={open}
      title="Accept volume transfer"
      description="Takes over a volume another project offered, with the id and key they gave you."
      submitLabel="Accept transfer"
      busy={accept.isPending}
      error={error}
      onClose={onClose}
      onSubmit={() => void save()}
    >
      <Field label="Transfer id" htmlFor="accept-id">
        <Input
          id="accept-id"
          autoFocus
          className="font-mono text-xs"
          value={id}
          onChange={(e) => setId(e.target.value)}
        />
      </Field>
      <Field label="Auth key" htmlFor="accept-key">
        <Input id="accept-key" className="font-mono text-xs" value={key} onChange={(e) => setKey(e.target.value)} />
      </Field>
    </FormDialog>
  );
}

export function DeleteVolumeDialog({
  volume,
  onClose,
  onDeleted,
}: {
  volume: VolumeRow | null;
  onClose: () => void;
  onDeleted?: (v: VolumeRow) => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const remove = useMutation(trpc.volume.volumes.delete.mutationOptions());
  const snaps = useQuery({
    ...trpc.volume.snapshots.list.queryOptions({ volumeId: volume?.id ?? '', limit: 200 }),
    enabled: volume !== null,
  });
  const [cascade, setCascade] = useState(false);
  const openFor = volume?.id;
  useEffect(() => {
    if (openFor) setCascade(false);
  }, [openFor]);
  const n = snaps.data?.items.length ?? 0;
  const confirm = async () => {
    if (!volume) return;
    try {
      await remove.mutateAsync({ volumeId: volume.id, cascade: cascade || undefined });
      toast.success(`Volume ${volumeLabel(volume)} is being deleted`);
      await invalidate(trpc.volume.pathKey());
      onDeleted?.(volume);
      onClose();
    } catch {
      // the toast shows the server's message
    }
  };
  return (
    <ConfirmDialog
      open={volume !== null}
      title="Delete volume"
      busy={remove.isPending}
      onClose={onClose}
      onConfirm={() => void confirm()}
      message={
        volume && (
          <div className="space-y-3">
            <p>
              Delete volume <strong>{volumeLabel(volume)}</strong> ({volume.size} GiB) and its data? This cannot be
              undone.
            </p>
            {n > 0 && (
              <Checkbox
                id="delete-volume-cascade"
                label={`Also delete its ${n} snapshot${n === 1 ? '' : 's'} (otherwise the volume cannot be deleted)`}
                checked={cascade}
                onChange={(e) => setCascade(e.target.checked)}
              />
            )}
          </div>
        )
      }
    />
  );
}
