import { registerPolicyDefaults, type PolicyDefault } from '../policy/index.ts';

/*
 * Placement is an admin/service API: every rule defaults to placement:admin_api, which
 * operators can widen (e.g. a reader role for monitoring) in the policy file.
 */
const ADMIN_API = 'rule:placement:admin_api';

const actions: Array<[string, string]> = [
  ['resource_providers:list', 'List resource providers.'],
  ['resource_providers:create', 'Create a resource provider.'],
  ['resource_providers:show', 'Show a resource provider.'],
  ['resource_providers:update', 'Update a resource provider.'],
  ['resource_providers:delete', 'Delete a resource provider.'],
  ['resource_providers:inventories:list', "List a provider's inventories."],
  ['resource_providers:inventories:create', 'Create one inventory.'],
  ['resource_providers:inventories:show', 'Show one inventory.'],
  ['resource_providers:inventories:update', 'Replace inventories.'],
  ['resource_providers:inventories:delete', 'Delete inventories.'],
  ['resource_providers:usages', "Show a provider's usages."],
  ['resource_providers:allocations:list', "List a provider's allocations."],
  ['resource_providers:traits:list', "List a provider's traits."],
  ['resource_providers:traits:update', "Replace a provider's traits."],
  ['resource_providers:traits:delete', "Remove a provider's traits."],
  ['resource_providers:aggregates:list', "List a provider's aggregates."],
  ['resource_providers:aggregates:update', "Replace a provider's aggregates."],
  ['allocations:list', "Show a consumer's allocations."],
  ['allocations:update', "Replace a consumer's allocations."],
  ['allocations:manage', "Replace several consumers' allocations at once."],
  ['allocations:delete', "Delete a consumer's allocations."],
  ['allocation_candidates:list', 'List allocation candidates.'],
  ['usages', "Show a project's usages."],
  ['traits:list', 'List traits.'],
  ['traits:show', 'Show a trait.'],
  ['traits:update', 'Create a custom trait.'],
  ['traits:delete', 'Delete a custom trait.'],
  ['resource_classes:list', 'List resource classes.'],
  ['resource_classes:show', 'Show a resource class.'],
  ['resource_classes:update', 'Create a custom resource class.'],
  ['resource_classes:delete', 'Delete a custom resource class.'],
];

export const PLACEMENT_RULES: PolicyDefault[] = [
  { name: 'placement:admin_api', rule: 'rule:admin_required', description: 'Placement is an admin and service API.' },
  ...actions.map(([name, description]) => ({ name: `placement:${name}`, rule: ADMIN_API, description })),
];

registerPolicyDefaults(PLACEMENT_RULES);
