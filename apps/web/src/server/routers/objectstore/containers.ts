import { loadConfig } from '@stratus/core/platform/config';
import {
  deleteContainer,
  headAccount,
  headContainer,
  isOwner,
  isPublicRead,
  listAccount,
  postContainer,
  putContainer,
  setContainerPublic,
} from '@stratus/core/objectstore/swift/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { metaFromHeader, metaToHeader, scopeOf } from './backend';
import { ContainerName, Limit, MetaName, MetaValue } from './schemas';

/** The account's Swift URL as clients outside see it (the catalog's object-store endpoint). */
export function publicEndpoint(account: string): string {
  return `${loadConfig().publicUrl.replace(/\/+$/, '')}/object-store/v1/${account}`;
}

const decodeMeta = (m: Record<string, string>) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, metaFromHeader(v)]));

export const accountRouter = router({
  /** Totals, the REST path the browser uploads to, and whether the caller may change things. */
  get: protectedProcedure.query(async ({ ctx }) => {
    const { caller, account } = await scopeOf(ctx.auth);
    const info = await headAccount(caller, account);
    return {
      account,
      /** Same-origin path of the Swift API for this account (uploads go there with the token). */
      path: `/object-store/v1/${account}`,
      publicEndpoint: publicEndpoint(account),
      containerCount: info.containerCount,
      objectCount: info.objectCount,
      bytesUsed: info.bytesUsed,
      canWrite: isOwner(caller, account, true),
    };
  }),
});

export const containersRouter = router({
  list: protectedProcedure
    .input(z.object({ prefix: z.string().max(256).default(''), marker: z.string().max(256).optional(), limit: Limit }))
    .query(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const { entries } = await listAccount(caller, account, {
        prefix: input.prefix,
        ...(input.marker ? { marker: input.marker } : {}),
        limit: input.limit,
      });
      const items = entries.flatMap((e) =>
        e.kind === 'item'
          ? [
              {
                name: e.item.name,
                count: e.item.count,
                bytes: e.item.bytes,
                lastModified: e.item.lastModified.toISOString(),
              },
            ]
          : [],
      );
      const last = items[items.length - 1];
      return { items, next: items.length === input.limit && last ? last.name : null };
    }),

  get: protectedProcedure.input(z.object({ container: ContainerName })).query(async ({ ctx, input }) => {
    const { caller, account } = await scopeOf(ctx.auth);
    const c = await headContainer(caller, account, input.container);
    const pub = isPublicRead(c.readAcl);
    const { 'temp-url-key': _k1, 'temp-url-key-2': _k2, ...meta } = c.meta;
    return {
      name: c.name,
      objectCount: c.objectCount,
      bytesUsed: c.bytesUsed,
      lastModified: c.lastModified.toISOString(),
      meta: decodeMeta(meta),
      readAcl: c.readAcl,
      writeAcl: c.writeAcl,
      public: pub,
      publicUrl: pub ? `${publicEndpoint(account)}/${encodeURIComponent(c.name)}` : null,
    };
  }),

  create: protectedProcedure
    .input(z.object({ name: ContainerName, public: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const r = await putContainer(caller, account, input.name, {
        meta: { set: {}, remove: [] },
        ...(input.public ? { readAcl: '.r:*,.rlistings' } : {}),
      });
      return { created: r.created };
    }),

  /** Only an empty container (Conflict otherwise); the dashboard offers objects.deleteUnder first. */
  delete: protectedProcedure.input(z.object({ container: ContainerName })).mutation(async ({ ctx, input }) => {
    const { caller, account } = await scopeOf(ctx.auth);
    await deleteContainer(caller, account, input.container);
  }),

  setPublic: protectedProcedure
    .input(z.object({ container: ContainerName, public: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const c = await headContainer(caller, account, input.container);
      const readAcl = await setContainerPublic(caller, account, input.container, c.readAcl, input.public);
      return { readAcl, public: isPublicRead(readAcl) };
    }),

  /** X-Container-Meta-*: `set` (a value of '' removes, as in Swift) and `remove`. */
  updateMeta: protectedProcedure
    .input(
      z.object({
        container: ContainerName,
        set: z.record(MetaName, MetaValue),
        remove: z.array(MetaName).max(90).default([]),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      await postContainer(caller, account, input.container, {
        meta: {
          set: Object.fromEntries(Object.entries(input.set).map(([k, v]) => [k, metaToHeader(v)])),
          remove: input.remove,
        },
      });
    }),
});
