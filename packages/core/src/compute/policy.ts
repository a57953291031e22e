import { registerPolicyDefaults, type PolicyDefault } from '../policy/index.ts';

/*
 * Nova's policy names with Nova's defaults: project members act on their project's
 * servers, readers read them, admins do everything (and list all projects).
 */
const ADMIN = 'rule:admin_required';
const READER = 'rule:admin_or_project_reader';
const MEMBER = 'rule:admin_or_project_member';
const OWNER = 'rule:admin_required or user_id:%(user_id)s';
const ANY = '@';

const p = (name: string, rule: string, description: string): PolicyDefault => ({
  name: `os_compute_api:${name}`,
  rule,
  description,
});

export const COMPUTE_RULES: PolicyDefault[] = [
  p('servers:index', READER, 'List servers.'),
  p('servers:detail', READER, 'List servers with details.'),
  p('servers:index:get_all_tenants', ADMIN, 'List the servers of all projects.'),
  p('servers:detail:get_all_tenants', ADMIN, 'List the servers of all projects with details.'),
  p('servers:allow_all_filters', ADMIN, 'Filter servers by host and other admin filters.'),
  p('servers:show', READER, 'Show a server.'),
  p('servers:show:host_status', ADMIN, 'Show the host status of a server.'),
  p('servers:create', MEMBER, 'Create a server.'),
  p('servers:create:forced_host', ADMIN, 'Create a server on a given host.'),
  p('servers:update', MEMBER, 'Rename a server.'),
  p('servers:delete', MEMBER, 'Delete a server.'),
  p('servers:start', MEMBER, 'Start a server.'),
  p('servers:stop', MEMBER, 'Stop a server.'),
  p('servers:reboot', MEMBER, 'Reboot a server.'),
  p('os-pause-server:pause', MEMBER, 'Pause a server.'),
  p('os-pause-server:unpause', MEMBER, 'Unpause a server.'),
  p('os-suspend-server:suspend', MEMBER, 'Suspend a server.'),
  p('os-suspend-server:resume', MEMBER, 'Resume a server.'),
  p('os-lock-server:lock', MEMBER, 'Lock a server.'),
  p('os-lock-server:unlock', MEMBER, 'Unlock a server.'),
  p('os-lock-server:unlock:unlock_override', ADMIN, 'Unlock a server locked by someone else.'),
  p('server-metadata:index', READER, 'List server metadata.'),
  p('server-metadata:show', READER, 'Show a server metadata item.'),
  p('server-metadata:create', MEMBER, 'Create server metadata.'),
  p('server-metadata:update', MEMBER, 'Update server metadata.'),
  p('server-metadata:update_all', MEMBER, 'Replace server metadata.'),
  p('server-metadata:delete', MEMBER, 'Delete a server metadata item.'),
  p('os-console-output', MEMBER, 'Show the console output of a server.'),
  p('os-remote-consoles', MEMBER, 'Open a remote console.'),
  p('os-instance-actions:list', READER, 'List the actions of a server.'),
  p('os-instance-actions:show', READER, 'Show an action of a server.'),
  p('os-instance-actions:events', READER, 'Show the events of an action.'),
  p('os-instance-actions:events:details', ADMIN, 'Show the host and traceback of action events.'),
  p('os-extended-server-attributes', ADMIN, 'Show OS-EXT-SRV-ATTR attributes.'),
  p('flavors:index', ANY, 'List flavors.'),
  p('os-flavor-manage:create', ADMIN, 'Create a flavor.'),
  p('os-flavor-manage:update', ADMIN, 'Update a flavor.'),
  p('os-flavor-manage:delete', ADMIN, 'Delete a flavor.'),
  p('os-flavor-access', ADMIN, 'List the projects that may use a private flavor.'),
  p('os-flavor-access:add_tenant_access', ADMIN, 'Give a project access to a flavor.'),
  p('os-flavor-access:remove_tenant_access', ADMIN, 'Take away access to a flavor.'),
  p('os-flavor-extra-specs:index', ANY, 'List flavor extra specs.'),
  p('os-flavor-extra-specs:show', ANY, 'Show a flavor extra spec.'),
  p('os-flavor-extra-specs:create', ADMIN, 'Create flavor extra specs.'),
  p('os-flavor-extra-specs:update', ADMIN, 'Update a flavor extra spec.'),
  p('os-flavor-extra-specs:delete', ADMIN, 'Delete a flavor extra spec.'),
  p('os-keypairs:index', OWNER, 'List key pairs.'),
  p('os-keypairs:show', OWNER, 'Show a key pair.'),
  p('os-keypairs:create', OWNER, 'Create a key pair.'),
  p('os-keypairs:delete', OWNER, 'Delete a key pair.'),
  p('limits', ANY, 'Show rate and absolute limits.'),
  p('limits:other_project', ADMIN, 'Show the limits of another project.'),
  p('os-quota-sets:show', READER, 'Show a project quota.'),
  p('os-quota-sets:update', ADMIN, 'Update a project quota.'),
  p('os-quota-sets:delete', ADMIN, 'Revert a project quota to the defaults.'),
  p('os-quota-sets:defaults', ANY, 'Show default quotas.'),
  p('os-availability-zone:list', ANY, 'List availability zones.'),
  p('os-availability-zone:detail', ADMIN, 'List availability zones with hosts.'),
  p('os-hypervisors:list', ADMIN, 'List hypervisors.'),
  p('os-hypervisors:list-detail', ADMIN, 'List hypervisors with details.'),
  p('os-hypervisors:show', ADMIN, 'Show a hypervisor.'),
  p('os-hypervisors:statistics', ADMIN, 'Show hypervisor statistics.'),
  p('os-services:list', ADMIN, 'List compute services.'),
  p('os-services:update', ADMIN, 'Enable or disable a compute service.'),
  p('os-server-groups:index', READER, 'List server groups.'),
  p('os-server-groups:index:all_projects', ADMIN, 'List the server groups of all projects.'),
  p('os-server-groups:show', READER, 'Show a server group.'),
  p('os-server-groups:create', MEMBER, 'Create a server group.'),
  p('os-server-groups:delete', MEMBER, 'Delete a server group.'),
];

registerPolicyDefaults(COMPUTE_RULES);
