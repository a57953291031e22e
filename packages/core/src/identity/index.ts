/*
 * Identity (Keystone): domains, projects, users, groups, roles and assignments, the
 * catalog, application credentials, tokens (encrypted, non-persistent, revocable) and
 * policy. Every function taking an AuthContext enforces its policy rule itself.
 */
export * from './types.ts';
export { newId, DEFAULT_DOMAIN_ID, ensureIdentityDefaults } from './store.ts';
export { hashPassword, verifyPassword, verifyDummyPassword, ARGON2_OPTIONS } from './password.ts';
export type { LockoutState, LockoutDecision } from './lockout.ts';
export { rotateKeys, loadKeyRepository, ensureKeyRepository, type KeyRepository } from './keys.ts';
export { decideLockout, isLocked } from './lockout.ts';
export {
  authenticate,
  renewSessionToken,
  validateToken,
  validateSubjectToken,
  socketScopeForToken,
  revokeToken,
  revokeUserTokens,
  getCatalog,
  listUserProjects,
  listUserDomains,
  hasSystemAccess,
  clearTokenCache,
} from './auth.ts';
export { listProjects, getProject, createProject, updateProject, deleteProject } from './projects.ts';
export {
  listUsers,
  getUser,
  createUser,
  updateUser,
  deleteUser,
  changePassword,
  listProjectsForUser,
  listGroupsForUser,
} from './users.ts';
export {
  listGroups,
  getGroup,
  createGroup,
  updateGroup,
  deleteGroup,
  addUserToGroup,
  removeUserFromGroup,
  checkUserInGroup,
  listGroupUsers,
} from './groups.ts';
export { listRoles, getRole, createRole, updateRole, deleteRole } from './roles.ts';
export { listDomains, getDomain, createDomain, updateDomain, deleteDomain } from './domains.ts';
export { assignRole, unassignRole, checkRoleAssignment, listRoleAssignments } from './assignments.ts';
export {
  listRegions,
  getRegion,
  createRegion,
  updateRegion,
  deleteRegion,
  listServices,
  getService,
  createService,
  updateService,
  deleteService,
  listEndpoints,
  getEndpoint,
  createEndpoint,
  updateEndpoint,
  deleteEndpoint,
} from './catalog.ts';
export {
  listApplicationCredentials,
  getApplicationCredential,
  createApplicationCredential,
  deleteApplicationCredential,
} from './appcreds.ts';
export {
  createEc2Credential,
  listEc2Credentials,
  listAllEc2Credentials,
  getEc2Credential,
  deleteEc2Credential,
  parseEc2Blob,
  ec2CredentialId,
  findEc2Signer,
  ec2AuthContext,
  type Ec2Credential,
  type Ec2Signer,
} from './ec2-credentials.ts';
export { bootstrapIdentity, writeCloudsYaml, type BootstrapResult } from './bootstrap.ts';
export {
  enforce,
  can,
  listPolicies,
  reloadPolicy,
  registerPolicyDefaults,
  setPolicyOverrides,
  parsePolicyFile,
  type PolicyRule,
  type PolicyDefault,
} from '../policy/index.ts';
export { reloadKeys, effectiveRoles, keystoneTime, clearCatalogCache } from './auth.ts';
export { stopRevocationListener } from './revocation.ts';
export { CATALOG_EVENT } from './events.ts';
export { catalogEntries, REGION } from './bootstrap.ts';
