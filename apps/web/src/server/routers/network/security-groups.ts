import {
  createSecurityGroup,
  createSecurityGroupRule,
  deleteSecurityGroup,
  deleteSecurityGroupRule,
  getSecurityGroup,
  listSecurityGroups,
  RuleInput,
  SecurityGroupInput,
  updateSecurityGroup,
} from '@stratus/core/network/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { Id, Page, paged, ruleShape, securityGroupShape } from './shapes';

export const securityGroupsRouter = router({
  list: protectedProcedure
    .input(Page.extend({ name: z.string().max(255).optional() }))
    .query(async ({ ctx, input }) => {
      const rows = await listSecurityGroups(ctx.auth, {
        projectId: ctx.auth.projectId ?? undefined,
        names: input.name ? [input.name] : undefined,
        marker: input.marker,
        limit: input.limit + 1,
      });
      const page = paged(rows, input.limit);
      return { items: page.items.map(securityGroupShape), next: page.next };
    }),
  /** Every group of the project (names only), for the "remote group" choice of a rule. */
  names: protectedProcedure.query(async ({ ctx }) =>
    (await listSecurityGroups(ctx.auth, { projectId: ctx.auth.projectId ?? undefined })).map((g) => ({
      id: g.id,
      name: g.name,
    })),
  ),
  get: protectedProcedure
    .input(Id)
    .query(async ({ ctx, input }) => securityGroupShape(await getSecurityGroup(ctx.auth, input.id))),
  create: protectedProcedure
    .input(SecurityGroupInput.pick({ name: true, description: true }))
    .mutation(async ({ ctx, input }) => securityGroupShape(await createSecurityGroup(ctx.auth, input))),
  update: protectedProcedure
    .input(Id.extend({ name: z.string().max(255).optional(), description: z.string().max(255).optional() }))
    .mutation(async ({ ctx, input }) =>
      securityGroupShape(
        await updateSecurityGroup(ctx.auth, input.id, { name: input.name, description: input.description }),
      ),
    ),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteSecurityGroup(ctx.auth, input.id)),
  /** One rule; a preset in the editor may send several (e.g. DNS over UDP and TCP). */
  addRule: protectedProcedure
    .input(RuleInput.omit({ project_id: true, tenant_id: true }))
    .mutation(async ({ ctx, input }) => ruleShape(await createSecurityGroupRule(ctx.auth, input))),
  deleteRule: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteSecurityGroupRule(ctx.auth, input.id)),
});
