/*
 * The dashboard's navigation: one list used by the side bar, the "coming soon" pages
 * and the layout's policy check. `action` is the policy rule that must allow the
 * caller for the entry to be shown; `ready` marks panels that exist.
 * Dashboard paths must not start with an OpenStack API prefix (/identity, /compute,
 * /network, /image, /volume, …): the server routes those to the REST services.
 */
export type IconName =
  | 'overview'
  | 'server'
  | 'image'
  | 'key'
  | 'network'
  | 'router'
  | 'globe'
  | 'shield'
  | 'disk'
  | 'bucket'
  | 'host'
  | 'flavor'
  | 'gauge'
  | 'cog'
  | 'domain'
  | 'folder'
  | 'user'
  | 'users'
  | 'badge'
  | 'link'
  | 'stack'
  | 'chart';

export interface NavItem {
  href: string;
  label: string;
  icon: IconName;
  group?: string;
  ready?: boolean;
  action?: string;
  /** One sentence for the placeholder page. */
  about?: string;
}
export interface NavSection {
  id: 'project' | 'admin' | 'identity';
  label: string;
  items: NavItem[];
}

export const NAV: NavSection[] = [
  {
    id: 'project',
    label: 'Project',
    items: [
      { href: '/project', label: 'Overview', icon: 'overview', ready: true },
      {
        href: '/project/instances',
        ready: true,
        label: 'Instances',
        icon: 'server',
        group: 'Compute',
        about: 'Launch, resize and console into servers, with a live task timeline.',
      },
      {
        href: '/project/images',
        ready: true,
        label: 'Images',
        icon: 'image',
        group: 'Compute',
        about: 'Upload and share disk images with progress.',
      },
      {
        href: '/project/key-pairs',
        ready: true,
        label: 'Key Pairs',
        icon: 'key',
        group: 'Compute',
        about: 'Create or import SSH key pairs for your servers.',
      },
      {
        href: '/project/networks',
        ready: true,
        label: 'Networks',
        icon: 'network',
        group: 'Network',
        about: 'Tenant networks and subnets with IP allocation.',
      },
      {
        href: '/project/routers',
        ready: true,
        label: 'Routers',
        icon: 'router',
        group: 'Network',
        about: 'Connect your networks to each other and to the external network.',
      },
      {
        href: '/project/floating-ips',
        ready: true,
        label: 'Floating IPs',
        icon: 'globe',
        group: 'Network',
        about: 'Allocate floating IPs and associate them with ports.',
      },
      {
        href: '/project/security-groups',
        ready: true,
        label: 'Security Groups',
        icon: 'shield',
        group: 'Network',
        about: 'Firewall rules applied to your servers’ ports.',
      },
      {
        href: '/project/network-topology',
        ready: true,
        label: 'Network Topology',
        icon: 'link',
        group: 'Network',
        about: 'A live graph of your networks, routers and instances.',
      },
      {
        href: '/project/volumes',
        ready: true,
        label: 'Volumes',
        icon: 'disk',
        group: 'Volumes',
        about: 'Block storage volumes: create, extend, attach to instances, transfer; status live.',
      },
      {
        href: '/project/volume-snapshots',
        ready: true,
        label: 'Snapshots',
        icon: 'disk',
        group: 'Volumes',
        about: 'Point-in-time copies of volumes, to make new volumes from.',
      },
      {
        href: '/project/volume-backups',
        ready: true,
        label: 'Backups',
        icon: 'disk',
        group: 'Volumes',
        about: 'Full and incremental volume backups with progress; restore to a new or existing volume.',
      },
      {
        href: '/project/object-store',
        ready: true,
        label: 'Object Store',
        icon: 'bucket',
        about: 'Containers and objects, replicated three times.',
      },
    ],
  },
  {
    id: 'admin',
    label: 'Admin',
    items: [
      { href: '/admin', label: 'Overview', icon: 'gauge', ready: true, action: 'stratus:cloud_admin' },
      {
        href: '/admin/hypervisors',
        ready: true,
        label: 'Hypervisors',
        icon: 'host',
        action: 'stratus:cloud_admin',
        about: 'Compute hosts, their capacity and their usage.',
      },
      {
        href: '/admin/flavors',
        ready: true,
        label: 'Flavors',
        icon: 'flavor',
        action: 'stratus:cloud_admin',
        about: 'Server sizes: vCPUs, RAM, disk and extra specs.',
      },
      {
        href: '/admin/instances',
        ready: true,
        label: 'All Instances',
        icon: 'server',
        action: 'stratus:cloud_admin',
        about: 'Every server of every project, with host and fault.',
      },
      {
        href: '/admin/aggregates',
        ready: true,
        label: 'Host Aggregates',
        icon: 'stack',
        action: 'stratus:cloud_admin',
        about: 'Groups of hosts with metadata and availability zones for the scheduler.',
      },
      {
        href: '/admin/quotas',
        label: 'Quotas',
        icon: 'chart',
        action: 'stratus:cloud_admin',
        about: 'Default and per-project quotas.',
      },
      {
        href: '/admin/jobs',
        label: 'Failed jobs',
        icon: 'cog',
        ready: true,
        action: 'stratus:cloud_admin',
        about: 'Background jobs that failed all their attempts, with their last error.',
      },
      {
        href: '/admin/services',
        ready: true,
        label: 'Compute Services',
        icon: 'cog',
        action: 'stratus:cloud_admin',
        about: 'Compute, scheduler and conductor services of each worker: heartbeats, enable or disable a host.',
      },
    ],
  },
  {
    id: 'identity',
    label: 'Identity',
    items: [
      { href: '/iam/domains', label: 'Domains', icon: 'domain', ready: true, action: 'identity:list_domains' },
      { href: '/iam/projects', label: 'Projects', icon: 'folder', ready: true, action: 'identity:list_projects' },
      { href: '/iam/users', label: 'Users', icon: 'user', ready: true, action: 'identity:list_users' },
      { href: '/iam/groups', label: 'Groups', icon: 'users', ready: true, action: 'identity:list_groups' },
      { href: '/iam/roles', label: 'Roles', icon: 'badge', ready: true, action: 'identity:list_roles' },
      {
        href: '/iam/role-assignments',
        label: 'Role assignments',
        icon: 'link',
        ready: true,
        action: 'identity:list_role_assignments',
      },
    ],
  },
];

export function findNavItem(path: string): NavItem | undefined {
  for (const s of NAV) for (const i of s.items) if (i.href === path) return i;
  return undefined;
}
