import { createHash } from 'node:crypto';
import type {
  AddressMap,
  AttachedVolumeRef,
  Flavor,
  InstanceActionView,
  KeyPair,
  Server,
  ServerGroup,
} from '@stratus/core';
import { atLeast, type Microversion } from './microversion.ts';

/*
 * Nova's response bodies, per microversion (up to MAX_VERSION in microversion.ts).
 */

/** Nova's timestamps: 2026-11-22T11:30:58Z for created/updated. */
export const isoZ = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
/** ... and 2026-11-22T11:30:58.000000 for launched_at / terminated_at / actions. */
export const isoMicro = (d: Date | null): string | null =>
  d ? `${d.toISOString().slice(0, 19)}.${d.toISOString().slice(20, 23)}000` : null;

export interface Links {
  base: string; // e.g. http://h/compute/v2.1
  root: string; // e.g. http://h/compute
}

export function links(l: Links, collection: string, id: string) {
  return [
    { rel: 'self', href: `${l.base}/${collection}/${id}` },
    { rel: 'bookmark', href: `${l.root}/${collection}/${id}` },
  ];
}

export function flavorJson(f: Flavor, l: Links, v: Microversion, detail: boolean) {
  const out: Record<string, unknown> = { id: f.id, name: f.name };
  if (atLeast(v, 55)) out.description = f.description;
  out.links = links(l, 'flavors', f.id);
  if (!detail) return out;
  Object.assign(out, {
    ram: f.ramMb,
    disk: f.diskGb,
    vcpus: f.vcpus,
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeralGb,
    'OS-FLV-DISABLED:disabled': f.disabled,
    swap: f.swapMb === 0 ? '' : f.swapMb,
    rxtx_factor: f.rxtxFactor,
    'os-flavor-access:is_public': f.isPublic,
  });
  if (atLeast(v, 61)) out.extra_specs = f.extraSpecs;
  return out;
}

export function keypairJson(k: KeyPair, v: Microversion, kind: 'list' | 'show' | 'create') {
  const out: Record<string, unknown> = { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint };
  if (atLeast(v, 2)) out.type = k.type;
  if (kind === 'list') return { keypair: out };
  out.user_id = k.userId;
  if (kind === 'create') {
    if (k.privateKey) out.private_key = k.privateKey;
    return out;
  }
  return {
    ...out,
    created_at: isoMicro(k.createdAt),
    deleted: false,
    deleted_at: null,
    updated_at: null,
    id: Number.parseInt(k.id.replace(/-/g, '').slice(0, 7), 16),
  };
}

export function hostId(projectId: string, host: string | null): string {
  return host
    ? createHash('sha224')
        .update(projectId + host)
        .digest('hex')
    : '';
}

export interface ServerView {
  version: Microversion;
  links: Links;
  /** OS-EXT-SRV-ATTR:* and host_status. */
  admin: boolean;
  instanceName: (id: string) => string;
}

export function serverSummaryJson(s: Server, view: ServerView) {
  return { id: s.id, name: s.name, links: links(view.links, 'servers', s.id) };
}

/** A server's Nova body; `addresses` and `volumesAttached` come with the server from core (showServer & co). */
export function serverJson(
  s: Server & { addresses?: AddressMap; volumesAttached?: AttachedVolumeRef[] },
  view: ServerView,
) {
  const v = view.version;
  const l = view.links;
  const flavor = atLeast(v, 47)
    ? {
        vcpus: s.flavor.vcpus,
        ram: s.flavor.ramMb,
        disk: s.flavor.diskGb,
        ephemeral: s.flavor.ephemeralGb,
        swap: s.flavor.swapMb,
        original_name: s.flavor.name,
        extra_specs: s.flavor.extraSpecs,
      }
    : { id: s.flavor.id, links: [{ rel: 'bookmark', href: `${l.root}/flavors/${s.flavor.id}` }] };
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    hostId: hostId(s.projectId, s.host),
    // A server booted from a volume has no image: Nova shows "".
    image: s.imageId ? { id: s.imageId, links: [{ rel: 'bookmark', href: `${l.root}/images/${s.imageId}` }] } : '',
    flavor,
    created: isoZ(s.createdAt),
    updated: isoZ(s.updatedAt),
    addresses: s.addresses ?? {},
    accessIPv4: s.accessIpV4 ?? '',
    accessIPv6: s.accessIpV6 ?? '',
    links: links(l, 'servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': s.host ? (s.availabilityZone ?? 'nova') : '',
    config_drive: '',
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': isoMicro(s.launchedAt),
    'OS-SRV-USG:terminated_at': isoMicro(s.terminatedAt),
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    // Nova's BDMs with a volume: the id, and from 2.3 whether the server's delete deletes it.
    'os-extended-volumes:volumes_attached': (s.volumesAttached ?? []).map((a) =>
      atLeast(v, 3) ? { id: a.id, delete_on_termination: a.deleteOnTermination } : { id: a.id },
    ),
  };
  if (s.status === 'BUILD' || s.status === 'ACTIVE') out.progress = s.status === 'ACTIVE' ? 100 : 0;
  if (view.admin) {
    out['OS-EXT-SRV-ATTR:host'] = s.host;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.node;
    out['OS-EXT-SRV-ATTR:instance_name'] = view.instanceName(s.id);
    if (atLeast(v, 3)) {
      out['OS-EXT-SRV-ATTR:reservation_id'] = s.reservationId;
      out['OS-EXT-SRV-ATTR:launch_index'] = s.launchIndex;
      out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
      out['OS-EXT-SRV-ATTR:kernel_id'] = '';
      out['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      out['OS-EXT-SRV-ATTR:user_data'] = s.userData;
    }
    if (atLeast(v, 16)) out.host_status = s.host ? 'UP' : '';
  }
  if (atLeast(v, 9)) out.locked = s.locked;
  if (atLeast(v, 19)) out.description = null;
  if (atLeast(v, 26)) out.tags = [];
  if ((s.status === 'ERROR' || s.status === 'DELETED') && s.fault) {
    const f: Record<string, unknown> = {
      code: s.fault.code,
      created: s.fault.created.replace(/\.\d+Z$/, 'Z'),
      message: s.fault.message,
    };
    if (view.admin || s.fault.code !== 500) f.details = s.fault.details;
    out.fault = f;
  }
  return out;
}

export function actionJson(a: InstanceActionView, v: Microversion) {
  const out: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.instanceUuid,
    message: a.message,
    project_id: a.projectId,
    request_id: a.requestId,
    start_time: isoMicro(a.startTime),
    user_id: a.userId,
  };
  if (atLeast(v, 58)) out.updated_at = isoMicro(a.updatedAt);
  if (a.events) {
    out.events = a.events.map((e) => {
      const ev: Record<string, unknown> = {
        event: e.event,
        start_time: isoMicro(e.startTime),
        finish_time: isoMicro(e.finishTime),
        result: e.result,
      };
      if (e.traceback !== undefined) ev.traceback = e.traceback;
      if (atLeast(v, 51) && e.host !== undefined) ev.host = e.host ?? '';
      if (atLeast(v, 62) && e.host !== undefined) ev.hostId = '';
      return ev;
    });
  }
  return out;
}

export function serverGroupJson(g: ServerGroup, v: Microversion) {
  const out: Record<string, unknown> = { id: g.id, name: g.name, members: g.members, metadata: {} };
  if (atLeast(v, 64)) {
    out.policy = g.policy;
    out.rules = g.rules;
  } else out.policies = [g.policy];
  if (atLeast(v, 13)) {
    out.project_id = g.projectId;
    out.user_id = g.userId;
  }
  return out;
}
