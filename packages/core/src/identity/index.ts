/*
 * Identity (Keystone): domains, projects, users, groups, roles and assignments, the
 * catalog, application credentials, tokens (encrypted, non-persistent, revocable) and
 * policy. Every function taking an AuthContext enforces its policy rule itself.
 */
export * from './types.ts';
export { newId, DEFAULT_DOMAIN_ID, ensureIdentityDefaults } from './store.ts';
export { hashPassword, verifyPassword, verifyDummyPassword, ARGON2_OPTIONS } from './password.ts';
export { decideLockout, type LockoutState, type LockoutDecision } from './lockout.ts';
export { rotateKeys, loadKeyRepository, type KeyRepository } from './keys.ts';
export {
  authenticate,
  validateToken,
  validateSubjectToken,
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
export { bootstrapIdentity, writeCloudsYaml, type BootstrapResult } from './bootstrap.ts';
export { enforce, can, listPolicies, reloadPolicy, registerPolicyDefaults, type PolicyRule } from '../policy/index.ts';
