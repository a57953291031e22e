import type { BackupView, SnapshotView, TransferView, VolumeTypeView, VolumeView } from '@stratus/core';
import { atLeast, type Microversion } from './microversion.ts';

/*
 * Cinder v3 response bodies for each resource, as the microversion asks. Timestamps
 * look like Cinder's (ISO 8601 with microseconds, no zone).
 */
export interface View {
  v: Microversion;
  /** …/volume/v3/{project_id} as the client reached it. */
  base: string;
  root: string;
  admin: boolean;
  canSeeTenant: boolean;
}

export const ts = (d: Date | null | undefined): string | null =>
  d
    ? d
        .toISOString()
        .replace('Z', '')
        .replace(/\.(\d{3})$/, '.$1000')
    : null;

const links = (vw: View, kind: string, id: string) => [
  { rel: 'self', href: `${vw.base}/${kind}/${id}` },
  { rel: 'bookmark', href: `${vw.root}/${kind}/${id}` },
];

export function volumeSummaryJson(v: VolumeView, vw: View) {
  return { id: v.id, name: v.name, links: links(vw, 'volumes', v.id) };
}

export function volumeJson(v: VolumeView, vw: View): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: v.id,
    name: v.name,
    description: v.description,
    status: v.status,
    size: v.size,
    availability_zone: v.availabilityZone,
    created_at: ts(v.createdAt),
    updated_at: ts(v.updatedAt),
    attachments: v.attachments.map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.serverId,
      host_name: a.host,
      device: a.device,
      attached_at: ts(a.attachedAt),
    })),
    links: links(vw, 'volumes', v.id),
    metadata: v.metadata,
    bootable: v.bootable ? 'true' : 'false',
    encrypted: false,
    multiattach: v.multiattach,
    replication_status: null,
    consistencygroup_id: null,
    snapshot_id: v.snapshotId,
    source_volid: v.sourceVolId,
    volume_type: v.volumeTypeName,
    user_id: v.userId,
    migration_status: null,
    'os-vol-mig-status-attr:migstat': null,
    'os-vol-mig-status-attr:name_id': null,
  };
  if (vw.canSeeTenant) out['os-vol-tenant-attr:tenant_id'] = v.projectId;
  if (vw.admin) out['os-vol-host-attr:host'] = v.backend ? `${v.backend}#${v.backend.split('@')[1] ?? 'file'}` : null;
  if (Object.keys(v.imageMetadata).length) out.volume_image_metadata = v.imageMetadata;
  if (atLeast(vw.v, 13)) out.group_id = null;
  if (atLeast(vw.v, 21) && vw.admin) out.provider_id = null;
  if (atLeast(vw.v, 48)) {
    out.shared_targets = false;
    out.service_uuid = null;
  }
  if (atLeast(vw.v, 61) && vw.admin) out.cluster_name = null;
  if (atLeast(vw.v, 63)) out.volume_type_id = v.volumeTypeId;
  if (atLeast(vw.v, 64)) out.encryption_key_id = null;
  if (atLeast(vw.v, 65)) out.consumes_quota = true;
  return out;
}

export function snapshotJson(s: SnapshotView, vw: View): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    description: s.description,
    status: s.status,
    size: s.size,
    volume_id: s.volumeId,
    created_at: ts(s.createdAt),
    updated_at: ts(s.updatedAt),
    metadata: s.metadata,
    'os-extended-snapshot-attributes:progress': `${s.progress}%`,
    'os-extended-snapshot-attributes:project_id': s.projectId,
  };
  if (atLeast(vw.v, 14)) out.group_snapshot_id = null;
  if (atLeast(vw.v, 41)) out.user_id = s.userId;
  if (atLeast(vw.v, 65)) out.consumes_quota = true;
  return out;
}

export function backupJson(b: BackupView, vw: View): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: b.id,
    name: b.name,
    description: b.description,
    status: b.status,
    size: b.size,
    volume_id: b.volumeId,
    snapshot_id: b.snapshotId,
    container: b.container,
    availability_zone: b.availabilityZone,
    created_at: ts(b.createdAt),
    updated_at: ts(b.updatedAt),
    data_timestamp: ts(b.dataTimestamp),
    fail_reason: b.failReason,
    object_count: b.objectCount,
    has_dependent_backups: b.hasDependentBackups,
    is_incremental: b.isIncremental,
    /** Stratus: percent of the data moved by the running backup or restore. */
    progress: b.progress,
    /** Stratus: where `container` is: the owner's object-store account or the filesystem target. */
    'stratus:store': b.driver === 'object' ? 'object' : 'filesystem',
    links: links(vw, 'backups', b.id),
  };
  if (atLeast(vw.v, 18) && vw.admin) out['os-backup-project-attr:project_id'] = b.projectId;
  if (atLeast(vw.v, 43)) out.metadata = b.metadata;
  if (atLeast(vw.v, 56)) out.user_id = b.userId;
  if (atLeast(vw.v, 64)) out.encryption_key_id = null;
  return out;
}

export function typeJson(t: VolumeTypeView, vw: View): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: t.isPublic,
    'os-volume-type-access:is_public': t.isPublic,
    qos_specs_id: null,
  };
  // Cinder shows extra specs to those who may read them (admins by default; readers here).
  out.extra_specs = t.extraSpecs;
  void vw;
  return out;
}

export function transferJson(t: TransferView, vw: View, detail: boolean, kind: string): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    volume_id: t.volumeId,
    ...(detail ? { created_at: ts(t.createdAt) } : {}),
    ...(atLeast(vw.v, 57) && detail
      ? { source_project_id: t.projectId, destination_project_id: null, accepted: false }
      : {}),
    links: links(vw, kind, t.id),
  };
}
