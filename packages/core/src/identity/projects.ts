import { z } from 'zod';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent, usersOnProject } from './events.ts';
import { db, DEFAULT_DOMAIN_ID, mapDbErrors, nameWhere, newId, page, pageArgs, toProject } from './store.ts';
import { type AuthContext, NamedListOptions, type Page, type Project } from './types.ts';

const name = z.string().trim().min(1).max(64);
export const CreateProjectInput = z.object({
  name,
  domainId: z.string().min(1).optional(),
  parentId: z.string().min(1).nullish(),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
  tags: z.array(z.string().min(1).max(255)).max(80).optional(),
});
export const UpdateProjectInput = z.object({
  projectId: z.string().min(1),
  name: name.optional(),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
  tags: z.array(z.string().min(1).max(255)).max(80).optional(),
});
export const ListProjectsInput = NamedListOptions.extend({
  domainId: z.string().optional(),
  parentId: z.string().optional(),
  enabled: z.boolean().optional(),
});

export async function listProjects(
  ctx: AuthContext,
  input: z.input<typeof ListProjectsInput> = {},
): Promise<Page<Project>> {
  const o = ListProjectsInput.parse(input);
  enforce(ctx, 'identity:list_projects', { domain_id: o.domainId });
  const p = pageArgs(o);
  const rows = await db().project.findMany({
    ...p,
    where: {
      ...p.where,
      ...nameWhere(o),
      ...(o.domainId !== undefined ? { domainId: o.domainId } : {}),
      ...(o.parentId !== undefined ? { parentId: o.parentId } : {}),
      ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
    },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toProject), next: out.next };
}

export async function getProject(ctx: AuthContext, input: { projectId: string }): Promise<Project> {
  // Policy before existence, so a non-admin cannot probe for other projects' ids.
  enforce(ctx, 'identity:get_project', { project_id: input.projectId });
  const row = await db().project.findUnique({ where: { id: input.projectId } });
  if (!row) throw notFound(`Could not find project: ${input.projectId}.`);
  return toProject(row);
}

export async function createProject(ctx: AuthContext, input: z.input<typeof CreateProjectInput>): Promise<Project> {
  const o = CreateProjectInput.parse(input);
  let domainId = o.domainId ?? DEFAULT_DOMAIN_ID;
  if (o.parentId) {
    const parent = await db().project.findUnique({ where: { id: o.parentId } });
    if (!parent) throw badRequest(`Could not find parent project: ${o.parentId}.`);
    if (o.domainId && o.domainId !== parent.domainId)
      throw badRequest('A project must be in the same domain as its parent.');
    domainId = parent.domainId;
  }
  enforce(ctx, 'identity:create_project', { domain_id: domainId });
  if (!(await db().domain.findUnique({ where: { id: domainId } })))
    throw badRequest(`Could not find domain: ${domainId}.`);
  const row = await mapDbErrors('project', () =>
    db().$transaction(async (tx) => {
      const r = await tx.project.create({
        data: {
          id: newId(),
          name: o.name,
          domainId,
          parentId: o.parentId ?? null,
          description: o.description ?? '',
          enabled: o.enabled ?? true,
          tags: o.tags ?? [],
        },
      });
      await emitIdentityEvent(tx, 'project', 'created', r.id, { name: r.name, domainId: r.domainId });
      return r;
    }),
  );
  return toProject(row);
}

export async function updateProject(ctx: AuthContext, input: z.input<typeof UpdateProjectInput>): Promise<Project> {
  const o = UpdateProjectInput.parse(input);
  enforce(ctx, 'identity:update_project', { project_id: o.projectId });
  const before = await db().project.findUnique({ where: { id: o.projectId } });
  if (!before) throw notFound(`Could not find project: ${o.projectId}.`);
  const row = await mapDbErrors('project', () =>
    db().$transaction(async (tx) => {
      const r = await tx.project.update({
        where: { id: o.projectId },
        data: {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
          ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
          ...(o.tags !== undefined ? { tags: o.tags } : {}),
        },
      });
      // Its members' project lists show its name and leave out disabled projects.
      const members = r.name !== before.name || r.enabled !== before.enabled ? await usersOnProject(tx, r.id) : [];
      await emitIdentityEvent(tx, 'project', 'updated', r.id, { name: r.name, enabled: r.enabled }, members);
      return r;
    }),
  );
  if (before.enabled && !row.enabled) await revokeUserTokens([{ projectId: row.id }]);
  return toProject(row);
}

export async function deleteProject(ctx: AuthContext, input: { projectId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_project', { project_id: input.projectId });
  const row = await db().project.findUnique({ where: { id: input.projectId } });
  if (!row) throw notFound(`Could not find project: ${input.projectId}.`);
  if ((await db().project.count({ where: { parentId: row.id } })) > 0)
    throw conflict('Cannot delete a project that has child projects.');
  await db().$transaction(async (tx) => {
    const members = await usersOnProject(tx, row.id);
    await emitIdentityEvent(tx, 'project', 'deleted', row.id, { name: row.name }, members);
    await tx.roleAssignment.deleteMany({ where: { targetType: 'project', targetId: row.id } });
    await tx.user.updateMany({ where: { defaultProjectId: row.id }, data: { defaultProjectId: null } });
    await tx.project.delete({ where: { id: row.id } });
  });
  await revokeUserTokens([{ projectId: row.id }]);
}
