import { notFound } from '../platform/errors.ts';
import { cfg, db } from './common.ts';
import { toServer } from './servers.ts';

/*
 * The metadata service's answers (OpenStack and EC2 layouts) for one server. The host
 * side HTTP handler (apps/worker) finds the server from the guest's address and network,
 * as forwarded by the namespace's metadata proxy.
 */
export type MetadataLookup = { serverId: string } | { fixedIp: string; networkId: string };

/** Finds the server a fixed IP on a network belongs to; registered by the network service. */
export type PortResolver = (fixedIp: string, networkId: string) => Promise<string | undefined>;
let portResolver: PortResolver = async () => undefined;
export function registerPortResolver(r: PortResolver): void {
  portResolver = r;
}

export interface MetadataDocuments {
  serverId: string;
  /** path (below the metadata root, no leading slash) → body; directories list their entries. */
  files: Map<string, string>;
}

export async function metadataFor(lookup: MetadataLookup): Promise<MetadataDocuments> {
  const serverId = 'serverId' in lookup ? lookup.serverId : await portResolver(lookup.fixedIp, lookup.networkId);
  const row = serverId ? await db().server.findUnique({ where: { id: serverId } }) : null;
  if (!row || row.deleted) throw notFound('No server matches this request.');
  const s = toServer(row);
  const localIp = 'fixedIp' in lookup ? lookup.fixedIp : '';
  const keys = s.keyName && s.keyData ? { [s.keyName]: s.keyData } : {};
  const meta = {
    uuid: s.id,
    name: s.name,
    hostname: s.hostname,
    launch_index: s.launchIndex,
    availability_zone: s.availabilityZone ?? cfg().defaultAvailabilityZone,
    project_id: s.projectId,
    public_keys: keys,
    keys: s.keyName && s.keyData ? [{ name: s.keyName, type: 'ssh', data: s.keyData }] : [],
    meta: s.metadata,
    devices: [],
  };
  const files = new Map<string, string>();
  const userData = s.userData ? Buffer.from(s.userData, 'base64').toString('utf8') : undefined;
  for (const v of ['latest', '2013-10-17', '2012-08-10']) {
    files.set(`openstack/${v}/meta_data.json`, JSON.stringify(meta));
    files.set(`openstack/${v}/network_data.json`, JSON.stringify({ links: [], networks: [], services: [] }));
    if (userData !== undefined) files.set(`openstack/${v}/user_data`, userData);
  }
  const ec2: Record<string, string> = {
    hostname: s.hostname,
    'local-hostname': s.hostname,
    'instance-id': `i-${s.id.replace(/-/g, '').slice(0, 8)}`,
    'instance-type': s.flavor.name,
    'ami-launch-index': String(s.launchIndex),
    'local-ipv4': localIp,
    'placement/availability-zone': meta.availability_zone,
  };
  if (s.keyName && s.keyData) {
    ec2['public-keys/0/openssh-key'] = s.keyData;
  }
  for (const v of ['latest', '2009-04-04']) {
    for (const [k, body] of Object.entries(ec2)) files.set(`${v}/meta-data/${k}`, body);
    if (userData !== undefined) files.set(`${v}/user-data`, userData);
  }
  return { serverId: s.id, files };
}

/** The body for a path: a file, or a directory listing (Nova lists entries one per line). */
export function metadataPath(docs: MetadataDocuments, path: string): string | undefined {
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const file = docs.files.get(p);
  if (file !== undefined) return file;
  const prefix = p ? `${p}/` : '';
  const entries = new Set<string>();
  for (const k of docs.files.keys()) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const slash = rest.indexOf('/');
    // EC2 lists public-keys as "0=<name>"; a plain listing is enough for cloud-init's reader.
    entries.add(slash < 0 ? rest : `${rest.slice(0, slash)}/`);
  }
  if (entries.size === 0) return undefined;
  return [...entries].sort().join('\n');
}
