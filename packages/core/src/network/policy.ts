import type { AuthContext } from '../identity/types.ts';
import { forbidden, notFound } from '../platform/errors.ts';
import { can, registerPolicyDefaults, type PolicyDefault } from '../policy/index.ts';

/*
 * Neutron's policy names with its (Zed, new-defaults) rules: project members create
 * and change their project's resources, readers read them, anyone reads shared and
 * external networks, and admins do everything. Targets carry project_id, shared and
 * external ('True'/'False', as oslo.policy compares strings).
 */
const ADMIN = 'rule:admin_required';
const MEMBER = 'rule:admin_or_project_member';
const READER = 'rule:admin_or_project_reader';
const NET_READER = `${READER} or 'True':%(shared)s or 'True':%(external)s`;
const NET_OWNER = `${ADMIN} or (role:member and project_id:%(network_project_id)s)`;

const r = (name: string, rule: string, description: string): PolicyDefault => ({ name, rule, description });

function crud(res: string, get = READER): PolicyDefault[] {
  return [
    r(`create_${res}`, MEMBER, `Create a ${res}.`),
    r(`get_${res}`, get, `Show a ${res}.`),
    r(`update_${res}`, MEMBER, `Update a ${res}.`),
    r(`delete_${res}`, MEMBER, `Delete a ${res}.`),
  ];
}

export const NETWORK_RULES: PolicyDefault[] = [
  ...crud('network', NET_READER),
  r('create_network:shared', ADMIN, 'Create a shared network.'),
  r('create_network:router:external', ADMIN, 'Create an external network.'),
  r('create_network:provider:network_type', ADMIN, 'Choose the provider network type.'),
  r('create_network:provider:segmentation_id', ADMIN, 'Choose the segmentation id.'),
  r('create_network:provider:physical_network', ADMIN, 'Choose the physical network.'),
  r('update_network:shared', ADMIN, 'Share or unshare a network.'),
  r('update_network:router:external', ADMIN, 'Make a network external.'),
  r('get_network:provider:network_type', ADMIN, 'See the provider network type.'),
  ...crud('subnet', NET_READER),
  r(
    'create_subnet',
    `${ADMIN} or (role:member and project_id:%(network_project_id)s)`,
    'Create a subnet on an own network.',
  ),
  ...crud('port'),
  r('create_port:fixed_ips:ip_address', NET_OWNER, 'Choose a fixed IP address.'),
  r('create_port:mac_address', NET_OWNER, 'Choose the MAC address.'),
  r('create_port:device_owner', NET_OWNER, 'Choose the device owner.'),
  r('create_port:binding:host_id', ADMIN, 'Bind a port to a host.'),
  r('create_port:port_security_enabled', NET_OWNER, 'Turn port security off.'),
  r('create_port:allowed_address_pairs', NET_OWNER, 'Set allowed address pairs.'),
  r(
    'create_port:on_foreign_network',
    `${ADMIN} or project_id:%(network_project_id)s or 'True':%(shared)s`,
    'Create a port on a network one can use.',
  ),
  r('get_port:binding:host_id', ADMIN, 'See the binding host of a port.'),
  r('update_port:binding:host_id', ADMIN, 'Rebind a port.'),
  ...crud('router'),
  r('add_router_interface', MEMBER, 'Attach a router to a subnet.'),
  r('remove_router_interface', MEMBER, 'Detach a router from a subnet.'),
  r('create_router:external_gateway_info:external_fixed_ips', ADMIN, 'Choose the router gateway IP.'),
  r('update_router:external_gateway_info:enable_snat', ADMIN, 'Turn SNAT off.'),
  ...crud('floatingip'),
  r('create_floatingip:floating_ip_address', ADMIN, 'Choose the floating IP address.'),
  ...crud('security_group'),
  ...crud('security_group_rule'),
  r('get_quota', READER, 'Show a project quota.'),
  r('update_quota', ADMIN, 'Change a project quota.'),
  r('delete_quota', ADMIN, 'Reset a project quota.'),
  r('network:list_all_projects', ADMIN, 'List the resources of every project.'),
];
registerPolicyDefaults(NETWORK_RULES);

export const tf = (b: boolean): string => (b ? 'True' : 'False');

/** Throws Forbidden unless allowed. */
export function authorize(ctx: AuthContext, action: string, target: Record<string, unknown>): void {
  if (!can(ctx, action, target)) throw forbidden(`(rule:${action}) is disallowed by policy`);
}

/** Reads answer 404 rather than 403 so that others' resources are not revealed. */
export function authorizeRead(ctx: AuthContext, action: string, target: Record<string, unknown>, what: string): void {
  if (!can(ctx, action, target)) throw notFound(what);
}

export function isAdmin(ctx: AuthContext): boolean {
  return can(ctx, 'admin_required');
}
