/** A policy rule with its default and what it guards. */
export interface PolicyDefault {
  name: string;
  rule: string;
  description: string;
}

const ADMIN = 'rule:admin_required';
const ADMIN_OR_OWNER = 'rule:admin_or_owner';

function crud(
  resource: string,
  plural: string,
  rules: Partial<Record<'list' | 'get' | 'create' | 'update' | 'delete', string>> = {},
): PolicyDefault[] {
  return [
    { name: `identity:list_${plural}`, rule: rules.list ?? ADMIN, description: `List ${plural}.` },
    { name: `identity:get_${resource}`, rule: rules.get ?? ADMIN, description: `Show a ${resource}.` },
    { name: `identity:create_${resource}`, rule: rules.create ?? ADMIN, description: `Create a ${resource}.` },
    { name: `identity:update_${resource}`, rule: rules.update ?? ADMIN, description: `Update a ${resource}.` },
    { name: `identity:delete_${resource}`, rule: rules.delete ?? ADMIN, description: `Delete a ${resource}.` },
  ];
}

/*
 * Defaults in the spirit of Keystone's: admin can do everything; members and readers
 * see their own project, their own user and what they own. Credentials available to
 * rules: roles, user_id, user_domain_id, project_id, domain_id (domain scope),
 * system_scope ("all" for system-scoped tokens).
 */
export const BASE_RULES: PolicyDefault[] = [
  { name: 'admin_required', rule: 'role:admin', description: 'Holds the admin role on the token scope.' },
  { name: 'cloud_admin', rule: 'rule:admin_required', description: 'Operates the whole cloud.' },
  { name: 'owner', rule: 'user_id:%(user_id)s', description: 'The target belongs to the caller.' },
  { name: 'admin_or_owner', rule: 'rule:admin_required or rule:owner', description: 'Admin, or the owner.' },
  {
    name: 'project_reader',
    rule: 'role:reader and project_id:%(project_id)s',
    description: 'Reader (or more) on the target project.',
  },
  {
    name: 'project_member',
    rule: 'role:member and project_id:%(project_id)s',
    description: 'Member (or more) on the target project.',
  },
  {
    name: 'admin_or_project_reader',
    rule: 'rule:admin_required or rule:project_reader',
    description: 'Admin, or reader of the target project.',
  },
  {
    name: 'admin_or_project_member',
    rule: 'rule:admin_required or rule:project_member',
    description: 'Admin, or member of the target project.',
  },
  {
    name: 'stratus:cloud_admin',
    rule: 'rule:cloud_admin',
    description: 'Sees cloud-wide live events and admin pages.',
  },
];

export const IDENTITY_RULES: PolicyDefault[] = [
  ...crud('project', 'projects', { get: 'rule:admin_required or project_id:%(project_id)s' }),
  { name: 'identity:list_user_projects', rule: ADMIN_OR_OWNER, description: "List a user's projects." },
  ...crud('user', 'users', { get: ADMIN_OR_OWNER }),
  { name: 'identity:change_password', rule: 'rule:owner', description: 'Change one’s own password.' },
  ...crud('group', 'groups'),
  { name: 'identity:list_groups_for_user', rule: ADMIN_OR_OWNER, description: "List a user's groups." },
  { name: 'identity:list_users_in_group', rule: ADMIN, description: 'List members of a group.' },
  { name: 'identity:add_user_to_group', rule: ADMIN, description: 'Add a user to a group.' },
  { name: 'identity:remove_user_from_group', rule: ADMIN, description: 'Remove a user from a group.' },
  { name: 'identity:check_user_in_group', rule: ADMIN, description: 'Check group membership.' },
  ...crud('role', 'roles', { list: 'rule:admin_required or role:reader', get: 'rule:admin_required or role:reader' }),
  ...crud('domain', 'domains', {
    get: 'rule:admin_required or domain_id:%(domain_id)s or user_domain_id:%(domain_id)s',
  }),
  { name: 'identity:create_grant', rule: ADMIN, description: 'Assign a role.' },
  { name: 'identity:revoke_grant', rule: ADMIN, description: 'Remove a role assignment.' },
  { name: 'identity:check_grant', rule: ADMIN, description: 'Check a role assignment.' },
  {
    name: 'identity:list_role_assignments',
    rule: 'rule:admin_required or (role:reader and project_id:%(project_id)s)',
    description: 'List role assignments (readers: of their own project, filtered by it).',
  },
  ...crud('region', 'regions', { list: '@', get: '@' }),
  ...crud('service', 'services'),
  ...crud('endpoint', 'endpoints'),
  { name: 'identity:get_application_credential', rule: ADMIN_OR_OWNER, description: 'Show an application credential.' },
  {
    name: 'identity:list_application_credentials',
    rule: ADMIN_OR_OWNER,
    description: "List a user's application credentials.",
  },
  {
    name: 'identity:create_application_credential',
    rule: 'rule:owner',
    description: 'Create an application credential.',
  },
  {
    name: 'identity:delete_application_credential',
    rule: ADMIN_OR_OWNER,
    description: 'Delete an application credential.',
  },
  {
    name: 'identity:validate_token',
    rule: ADMIN_OR_OWNER,
    description: 'Validate a token (target user_id: the token’s user).',
  },
  {
    name: 'identity:revoke_token',
    rule: ADMIN_OR_OWNER,
    description: 'Revoke a token (target user_id: the token’s user).',
  },
  { name: 'identity:list_policies', rule: ADMIN, description: 'List the effective policy.' },
];
