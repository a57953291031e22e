import {
  CreateImageInput,
  createImage,
  deleteImage,
  getImage,
  type Image,
  ListImagesInput,
  listImages,
  PatchOp,
  updateImage,
} from '@stratus/core/image/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const ImageId = z.object({ imageId: z.string().min(1) });

const shape = (i: Image) => ({ ...i, createdAt: i.createdAt.toISOString(), updatedAt: i.updatedAt.toISOString() });

const imagesRouter = router({
  list: protectedProcedure.input(ListImagesInput).query(async ({ ctx, input }) => {
    const page = await listImages(ctx.auth, input);
    return { items: page.items.map(shape), next: page.next };
  }),
  get: protectedProcedure.input(ImageId).query(async ({ ctx, input }) => shape(await getImage(ctx.auth, input))),
  /** The record only (status queued); the browser then PUTs the bytes to /image/v2/images/{id}/file. */
  create: protectedProcedure
    .input(CreateImageInput)
    .mutation(async ({ ctx, input }) => shape(await createImage(ctx.auth, input))),
  /** Glance's JSON-patch: add/replace/remove on attributes and properties. */
  update: protectedProcedure
    .input(ImageId.extend({ patch: z.array(PatchOp).min(1).max(500) }))
    .mutation(async ({ ctx, input }) => shape(await updateImage(ctx.auth, input))),
  delete: protectedProcedure.input(ImageId).mutation(({ ctx, input }) => deleteImage(ctx.auth, input)),
});

export const imageRouter = router({ images: imagesRouter });
