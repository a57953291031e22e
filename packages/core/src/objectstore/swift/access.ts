import type { AuthContext } from '../../identity/types.ts';
import { badRequest, forbidden, StratusError, unauthorized } from '../../platform/errors.ts';
import { can } from '../../policy/index.ts';
import { granteeAllowed, parseAcl, referrerAllowed } from './acl.ts';
import './policy.ts';

/*
 * Who may do what in an account. Three kinds of caller: a Keystone token, nobody
 * (anonymous: only container ACLs or a temp URL can let it in) and a verified temp URL
 * (exactly one method on one object or object-name prefix). A refused anonymous caller
 * gets 401 (so that clients authenticate), a refused token 403.
 */
export type TempUrlMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface TempUrlGrant {
  account: string;
  container: string;
  /** The object the signature covers, or the object-name prefix of a prefix-based temp URL. */
  object?: string;
  prefix?: string;
  method: TempUrlMethod;
}

export type ObjectCaller =
  | { kind: 'token'; ctx: AuthContext; referer?: string }
  | { kind: 'anonymous'; referer?: string }
  | { kind: 'tempurl'; grant: TempUrlGrant };

export type AccessOp =
  | 'account.read'
  | 'account.write'
  | 'container.read'
  | 'container.list'
  | 'container.write'
  | 'object.read'
  | 'object.write'
  | 'object.delete';

export interface ContainerAcl {
  readAcl: string | null;
  writeAcl: string | null;
}

const ACCOUNT_RE = /^AUTH_[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** The project an account belongs to: AUTH_<project id>. */
export function projectOfAccount(account: string): string {
  if (!ACCOUNT_RE.test(account)) throw new StratusError('NotFound', 'The resource could not be found.');
  return account.slice(5);
}

export function accountOfProject(projectId: string): string {
  return `AUTH_${projectId}`;
}

export function validContainerName(name: string): void {
  if (!name) throw badRequest('Container name required');
  if (Buffer.byteLength(name) > 256)
    throw badRequest(`Container name length of ${Buffer.byteLength(name)} longer than 256`);
  if (name.includes('/')) throw badRequest('Container name may not contain "/"');
  if (name === '.' || name === '..') throw badRequest('Invalid container name');
}

export function validObjectName(name: string): void {
  if (!name) throw badRequest('Object name required');
  if (Buffer.byteLength(name) > 1024)
    throw badRequest(`Object name length of ${Buffer.byteLength(name)} longer than 1024`);
}

const READ_OPS = new Set<AccessOp>(['account.read', 'container.read', 'container.list', 'object.read']);

function denied(caller: ObjectCaller): StratusError {
  return caller.kind === 'token'
    ? forbidden('Access was denied to this resource.')
    : unauthorized('Authentication required.');
}

/** True when the caller acts as the account's owner (its project's member/reader, or an admin). */
export function isOwner(caller: ObjectCaller, account: string, write: boolean): boolean {
  if (caller.kind !== 'token') return false;
  return can(caller.ctx, write ? 'object_store:write' : 'object_store:read', { project_id: projectOfAccount(account) });
}

/**
 * Throws unless the caller may do `op` in `account` (`container` carries the ACLs for
 * container and object operations; `object` the object's name, for temp URLs).
 * Returns whether the caller is an owner (owners see ACLs and temp-URL keys).
 */
export function authorize(
  caller: ObjectCaller,
  account: string,
  op: AccessOp,
  target: { container?: string; acl?: ContainerAcl; object?: string } = {},
): { owner: boolean } {
  projectOfAccount(account);
  const write = !READ_OPS.has(op);
  if (caller.kind === 'tempurl') {
    const g = caller.grant;
    const objectOk =
      target.object !== undefined &&
      (g.object !== undefined
        ? g.object === target.object
        : g.prefix !== undefined && target.object.startsWith(g.prefix));
    const methodOk =
      (op === 'object.read' && (g.method === 'GET' || g.method === 'HEAD')) ||
      (op === 'object.write' && (g.method === 'PUT' || g.method === 'POST')) ||
      (op === 'object.delete' && g.method === 'DELETE');
    if (g.account === account && g.container === target.container && objectOk && methodOk) return { owner: false };
    throw unauthorized('Temp URL invalid.');
  }
  if (isOwner(caller, account, write)) return { owner: true };
  const acl = target.acl;
  if (acl && (op === 'object.read' || op === 'container.list' || op === 'container.read')) {
    const parsed = parseAcl(acl.readAcl);
    const byReferrer = referrerAllowed(parsed, caller.referer);
    if (byReferrer && (op !== 'container.list' || parsed.listings)) return { owner: false };
    if (caller.kind === 'token' && can(caller.ctx, 'object_store:use_acl') && granteeAllowed(parsed, caller.ctx))
      return { owner: false };
  }
  if (acl && (op === 'object.write' || op === 'object.delete') && caller.kind === 'token') {
    const parsed = parseAcl(acl.writeAcl);
    if (can(caller.ctx, 'object_store:use_acl') && granteeAllowed(parsed, caller.ctx)) return { owner: false };
  }
  throw denied(caller);
}

/** Cloud admins only (Swift's reseller admin): account quotas. */
export function canSetAccountQuota(caller: ObjectCaller): boolean {
  return caller.kind === 'token' && can(caller.ctx, 'object_store:set_account_quota');
}
