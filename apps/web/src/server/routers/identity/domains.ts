import { createDomain, deleteDomain, getDomain, listDomains, updateDomain } from '@stratus/core/identity/index';
import { CreateDomainInput, ListDomainsInput, UpdateDomainInput } from '@stratus/core/identity/domains';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const DomainId = z.object({ domainId: z.string().min(1) });

export const domainsRouter = router({
  list: protectedProcedure.input(ListDomainsInput).query(({ ctx, input }) => listDomains(ctx.auth, input)),
  get: protectedProcedure.input(DomainId).query(({ ctx, input }) => getDomain(ctx.auth, input)),
  create: protectedProcedure.input(CreateDomainInput).mutation(({ ctx, input }) => createDomain(ctx.auth, input)),
  update: protectedProcedure.input(UpdateDomainInput).mutation(({ ctx, input }) => updateDomain(ctx.auth, input)),
  delete: protectedProcedure.input(DomainId).mutation(({ ctx, input }) => deleteDomain(ctx.auth, input)),
});
