import * as id from '@stratus/core';
import { badRequest } from '@stratus/core';
import { z } from 'zod';
import { type AuthedHandler, parseInput, readJson, type RouteContext } from '../common.ts';

/*
 * Keystone's EC2 credentials, for the S3 API: OS-EC2 (/v3/users/{id}/credentials/OS-EC2,
 * what `openstack ec2 credentials create/list/show/delete` call) and /v3/credentials
 * restricted to type "ec2" (blob = JSON {"access","secret"}). Both are views of the same
 * rows (packages/core/src/identity/ec2-credentials.ts, which enforces policy).
 */
type AddRoute = (method: string, pattern: string, handler: AuthedHandler<RouteContext>) => void;

const Ec2Body = z.object({
  tenant_id: z.string().min(1).max(64).optional(),
  project_id: z.string().min(1).max(64).optional(),
});
const CredentialBody = z.object({
  credential: z.object({
    type: z.string(),
    user_id: z.string().min(1).max(64).optional(),
    project_id: z.string().min(1).max(64).nullish(),
    blob: z.string().max(65536),
  }),
});

function ec2Json(base: string, c: id.Ec2Credential) {
  return {
    user_id: c.userId,
    tenant_id: c.projectId,
    access: c.access,
    secret: c.secret,
    trust_id: c.trustId,
    links: { self: `${base}/users/${c.userId}/credentials/OS-EC2/${c.access}` },
  };
}

function credentialJson(base: string, c: id.Ec2Credential) {
  return {
    id: c.id,
    type: 'ec2',
    user_id: c.userId,
    project_id: c.projectId,
    blob: JSON.stringify({ access: c.access, secret: c.secret, trust_id: c.trustId }),
    links: { self: `${base}/credentials/${c.id}` },
  };
}

export function registerEc2Routes(route: AddRoute, v3: (c: RouteContext) => string): void {
  const p = (c: RouteContext, name: string) => c.params[name] ?? '';

  route('GET', '/v3/users/:id/credentials/OS-EC2', async (c, ctx) => {
    const items = await id.listEc2Credentials(ctx, { userId: p(c, 'id') });
    return [
      200,
      {
        credentials: items.map((x) => ec2Json(v3(c), x)),
        links: { self: `${v3(c)}/users/${p(c, 'id')}/credentials/OS-EC2`, previous: null, next: null },
      },
    ];
  });
  route('POST', '/v3/users/:id/credentials/OS-EC2', async (c, ctx) => {
    const b = parseInput(Ec2Body, await readJson(c.req));
    const projectId = b.tenant_id ?? b.project_id ?? ctx.projectId;
    if (!projectId) throw badRequest('Expecting to find tenant_id in the request body.');
    const cred = await id.createEc2Credential(ctx, { userId: p(c, 'id'), projectId });
    return [201, { credential: ec2Json(v3(c), cred) }];
  });
  route('GET', '/v3/users/:id/credentials/OS-EC2/:access', async (c, ctx) => {
    const cred = await id.getEc2Credential(ctx, { userId: p(c, 'id'), access: p(c, 'access') });
    return [200, { credential: ec2Json(v3(c), cred) }];
  });
  route('DELETE', '/v3/users/:id/credentials/OS-EC2/:access', async (c, ctx) => {
    await id.deleteEc2Credential(ctx, { userId: p(c, 'id'), access: p(c, 'access') });
    return [204];
  });

  route('GET', '/v3/credentials', async (c, ctx) => {
    const type = c.url.searchParams.get('type');
    const userId = c.url.searchParams.get('user_id') ?? undefined;
    const items = type !== null && type !== 'ec2' ? [] : await id.listAllEc2Credentials(ctx, { userId });
    return [
      200,
      {
        credentials: items.map((x) => credentialJson(v3(c), x)),
        links: { self: `${v3(c)}/credentials`, previous: null, next: null },
      },
    ];
  });
  route('POST', '/v3/credentials', async (c, ctx) => {
    const b = parseInput(CredentialBody, await readJson(c.req)).credential;
    if (b.type !== 'ec2') throw badRequest(`Credential type "${b.type}" is not supported; only "ec2" is.`);
    const projectId = b.project_id ?? ctx.projectId;
    if (!projectId) throw badRequest('Expecting to find project_id in an ec2 credential.');
    const blob = id.parseEc2Blob(b.blob);
    const cred = await id.createEc2Credential(ctx, {
      userId: b.user_id ?? ctx.userId,
      projectId,
      ...(blob.access !== undefined ? { access: blob.access } : {}),
      ...(blob.secret !== undefined ? { secret: blob.secret } : {}),
    });
    return [201, { credential: credentialJson(v3(c), cred) }];
  });
  route('GET', '/v3/credentials/:cid', async (c, ctx) => {
    const cred = await id.getEc2Credential(ctx, { id: p(c, 'cid') });
    return [200, { credential: credentialJson(v3(c), cred) }];
  });
  route('DELETE', '/v3/credentials/:cid', async (c, ctx) => {
    await id.deleteEc2Credential(ctx, { id: p(c, 'cid') });
    return [204];
  });
}
