import {
  createPseudoFolder,
  deleteObject,
  deleteObjectsUnder,
  listContainer,
  postObject,
  readObject,
} from '@stratus/core/objectstore/swift/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { metaFromHeader, metaToHeader, scopeOf } from './backend';
import { ContainerName, Limit, MetaName, MetaValue, ObjectName } from './schemas';

const ObjectRef = z.object({ container: ContainerName, object: ObjectName });

export const objectsRouter = router({
  /** One folder level (delimiter '/') or a flat listing; folders first as Swift orders them bytewise. */
  list: protectedProcedure
    .input(
      z.object({
        container: ContainerName,
        prefix: z.string().max(1024).default(''),
        delimiter: z.literal('/').optional(),
        marker: z.string().max(1024).optional(),
        limit: Limit,
      }),
    )
    .query(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const { entries } = await listContainer(caller, account, input.container, {
        prefix: input.prefix,
        ...(input.delimiter ? { delimiter: input.delimiter } : {}),
        ...(input.marker ? { marker: input.marker } : {}),
        limit: input.limit,
      });
      const items = entries.map((e) =>
        e.kind === 'subdir'
          ? { kind: 'folder' as const, name: e.subdir }
          : {
              kind: 'object' as const,
              name: e.item.name,
              bytes: e.item.bytes,
              etag: e.item.etag,
              contentType: e.item.contentType,
              lastModified: e.item.lastModified.toISOString(),
            },
      );
      const last = items[items.length - 1];
      return { items, next: items.length === input.limit && last ? last.name : null };
    }),

  get: protectedProcedure.input(ObjectRef).query(async ({ ctx, input }) => {
    const { caller, account } = await scopeOf(ctx.auth);
    const r = await readObject(caller, {
      path: { account, container: input.container, object: input.object },
      head: true,
    });
    r.body?.destroy();
    const v = r.view;
    return {
      name: v.path.object,
      size: v.size,
      etag: v.etag,
      contentType: v.contentType,
      lastModified: v.lastModified.toISOString(),
      meta: Object.fromEntries(Object.entries(v.userMeta).map(([k, val]) => [k, metaFromHeader(val)])),
      deleteAt: v.deleteAt ? new Date(v.deleteAt * 1000).toISOString() : null,
      contentDisposition: v.contentDisposition ?? null,
      contentEncoding: v.contentEncoding ?? null,
      largeObject: v.largeObject ?? null,
    };
  }),

  /**
   * Replaces the object's X-Object-Meta-* with `meta` (Swift's POST semantics); content
   * type, disposition, encoding and expiry are kept.
   */
  updateMeta: protectedProcedure
    .input(ObjectRef.extend({ meta: z.record(MetaName, MetaValue) }))
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const path = { account, container: input.container, object: input.object };
      const cur = await readObject(caller, { path, head: true });
      cur.body?.destroy();
      const v = cur.view;
      await postObject(caller, {
        path,
        userMeta: Object.fromEntries(
          Object.entries(input.meta)
            .filter(([, val]) => val !== '')
            .map(([k, val]) => [k, metaToHeader(val)]),
        ),
        contentType: v.contentType,
        headers: {
          ...(v.contentDisposition ? { contentDisposition: v.contentDisposition } : {}),
          ...(v.contentEncoding ? { contentEncoding: v.contentEncoding } : {}),
        },
      });
    }),

  delete: protectedProcedure.input(ObjectRef).mutation(async ({ ctx, input }) => {
    const { caller, account } = await scopeOf(ctx.auth);
    await deleteObject(caller, { account, container: input.container, object: input.object });
  }),

  /**
   * Deletes up to `max` objects under `prefix` (a folder, or '' for the whole container);
   * the dashboard calls again while `more`, showing the count.
   */
  deleteUnder: protectedProcedure
    .input(z.object({ container: ContainerName, prefix: z.string().max(1024), max: Limit }))
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      return deleteObjectsUnder(caller, account, input.container, input.prefix, input.max);
    }),

  /** A pseudo-folder: a zero-byte "<path>/" object (application/directory), as Horizon makes it. */
  createFolder: protectedProcedure
    .input(z.object({ container: ContainerName, path: z.string().min(1).max(1023) }))
    .mutation(async ({ ctx, input }) => {
      const { caller, account } = await scopeOf(ctx.auth);
      const v = await createPseudoFolder(caller, account, input.container, input.path);
      return { name: v.path.object };
    }),
});
