import { registerPolicyDefaults, type PolicyDefault } from '../../policy/index.ts';

/*
 * Object storage policy. Swift itself has no oslo policy (its keystoneauth middleware
 * grants "operator roles" the whole account); these rules say the same in our terms:
 * members of the account's project change it, readers read it, admins do everything,
 * and only the cloud admin sets an account quota (Swift's reseller admin). Container
 * ACLs grant more on top (access.ts). Target key: project_id (the account's project).
 */
const p = (name: string, rule: string, description: string): PolicyDefault => ({
  name: `object_store:${name}`,
  rule,
  description,
});

export const OBJECT_STORE_RULES: PolicyDefault[] = [
  p(
    'read',
    'rule:admin_required or (role:reader and project_id:%(project_id)s)',
    'List and read the containers and objects of a project’s account.',
  ),
  p(
    'write',
    'rule:admin_required or (role:member and project_id:%(project_id)s)',
    'Create, change and delete containers and objects, metadata and ACLs of a project’s account.',
  ),
  p('use_acl', 'role:reader', 'Use the access a container ACL grants to the caller’s project or user.'),
  p('set_account_quota', 'rule:cloud_admin', 'Set X-Account-Meta-Quota-Bytes on an account.'),
];

registerPolicyDefaults(OBJECT_STORE_RULES);
