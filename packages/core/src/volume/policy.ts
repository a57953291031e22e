import { type PolicyDefault, registerPolicyDefaults } from '../policy/index.ts';

/*
 * Cinder's policy names with Cinder's defaults: project members act on their project's
 * volumes, readers read them, admins do everything (and list all projects). Volume
 * types, quotas and status resets belong to admins.
 */
const ADMIN = 'rule:admin_required';
const READER = 'rule:admin_or_project_reader';
const MEMBER = 'rule:admin_or_project_member';
const ANY = '@';

const p = (name: string, rule: string, description: string): PolicyDefault => ({ name, rule, description });

export const VOLUME_RULES: PolicyDefault[] = [
  p('volume:create', MEMBER, 'Create a volume.'),
  p('volume:create_from_image', MEMBER, 'Create a volume from an image.'),
  p('volume:get', READER, 'Show a volume.'),
  p('volume:get_all', READER, 'List volumes.'),
  p('volume:get_all_tenants', ADMIN, 'List the volumes of all projects (all_tenants=1).'),
  p('volume:update', MEMBER, 'Update a volume.'),
  p('volume:delete', MEMBER, 'Delete a volume.'),
  p('volume:force_delete', ADMIN, 'Force-delete a volume in any state.'),
  p('volume:extend', MEMBER, 'Extend a volume.'),
  p('volume:extend_attached_volume', MEMBER, 'Extend an attached volume.'),
  p('volume:retype', MEMBER, 'Change the type of a volume.'),
  p('volume:update_readonly_flag', MEMBER, 'Set the read-only flag of a volume.'),
  p('volume_extension:volume_actions:update_bootable', MEMBER, 'Set the bootable flag of a volume.'),
  p('volume:get_volume_metadata', READER, 'Show volume metadata.'),
  p('volume:create_volume_metadata', MEMBER, 'Create volume metadata.'),
  p('volume:update_volume_metadata', MEMBER, 'Update volume metadata.'),
  p('volume:delete_volume_metadata', MEMBER, 'Delete volume metadata.'),
  p('volume:multiattach', MEMBER, 'Attach a multiattach volume to several servers.'),
  p('volume_extension:volume_tenant_attribute', READER, 'Show os-vol-tenant-attr:tenant_id.'),
  p('volume_extension:volume_host_attribute', ADMIN, 'Show os-vol-host-attr:host.'),
  p('volume_extension:volume_admin_actions:reset_status', ADMIN, 'Reset the status of a volume.'),
  p('volume_extension:volume_admin_actions:force_delete', ADMIN, 'Force-delete a volume.'),
  p('volume_extension:types_manage', ADMIN, 'Create, update and delete volume types.'),
  p('volume_extension:types_extra_specs:index', READER, 'List volume type extra specs.'),
  p('volume_extension:types_extra_specs:create', ADMIN, 'Create volume type extra specs.'),
  p('volume_extension:types_extra_specs:update', ADMIN, 'Update volume type extra specs.'),
  p('volume_extension:types_extra_specs:delete', ADMIN, 'Delete volume type extra specs.'),
  p('volume_extension:type_get', ANY, 'Show a volume type.'),
  p('volume_extension:type_get_all', ANY, 'List volume types.'),
  p('volume:create_snapshot', MEMBER, 'Create a snapshot.'),
  p('volume:get_snapshot', READER, 'Show a snapshot.'),
  p('volume:get_all_snapshots', READER, 'List snapshots.'),
  p('volume:update_snapshot', MEMBER, 'Update a snapshot.'),
  p('volume:delete_snapshot', MEMBER, 'Delete a snapshot.'),
  p('volume:get_snapshot_metadata', READER, 'Show snapshot metadata.'),
  p('volume:update_snapshot_metadata', MEMBER, 'Update snapshot metadata.'),
  p('backup:create', MEMBER, 'Create a backup.'),
  p('backup:get', READER, 'Show a backup.'),
  p('backup:get_all', READER, 'List backups.'),
  p('backup:update', MEMBER, 'Update a backup.'),
  p('backup:delete', MEMBER, 'Delete a backup.'),
  p('backup:restore', MEMBER, 'Restore a backup.'),
  p('volume:create_transfer', MEMBER, 'Create a volume transfer.'),
  p('volume:accept_transfer', MEMBER, 'Accept a volume transfer.'),
  p('volume:delete_transfer', MEMBER, 'Delete a volume transfer.'),
  p('volume:get_transfer', READER, 'Show a volume transfer.'),
  p('volume:get_all_transfers', READER, 'List volume transfers.'),
  p('volume_extension:quotas:show', READER, 'Show a project quota.'),
  p('volume_extension:quotas:update', ADMIN, 'Update a project quota.'),
  p('volume_extension:quotas:delete', ADMIN, 'Revert a project quota to the defaults.'),
  p('volume_extension:quota_classes', ADMIN, 'Show the default quotas.'),
  p('volume_extension:availability_zone_list', ANY, 'List availability zones.'),
  p('volume_extension:services:index', ADMIN, 'List volume services and backends.'),
  p('volume_extension:capabilities', ADMIN, 'Show backend capabilities and pools.'),
  p('os_compute_api:os-volumes-attachments:index', READER, 'List the volumes attached to a server.'),
  p('os_compute_api:os-volumes-attachments:show', READER, 'Show a volume attachment of a server.'),
  p('os_compute_api:os-volumes-attachments:create', MEMBER, 'Attach a volume to a server.'),
  p('os_compute_api:os-volumes-attachments:update', ADMIN, 'Swap the volume of an attachment.'),
  p('os_compute_api:os-volumes-attachments:delete', MEMBER, 'Detach a volume from a server.'),
];

registerPolicyDefaults(VOLUME_RULES);
