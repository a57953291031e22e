import {
  attachVolumeToServer,
  createVolume,
  deleteVolume,
  detachVolumeFromServer,
  extendVolume,
  getVolume,
  isStratusError,
  listServerVolumeAttachments,
  listVolumes,
  retypeVolume,
  setVolumeBootable,
  setVolumeMetadata,
  updateVolume,
  type VolumeView,
} from '@stratus/core';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const VolumeId = z.object({ volumeId: z.string().min(1) });
const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Dates travel as ISO strings; the backend name and host stay an operator's business. */
export const shapeVolume = (v: VolumeView) => ({
  id: v.id,
  name: v.name,
  description: v.description,
  projectId: v.projectId,
  size: v.size,
  status: v.status,
  attachStatus: v.attachStatus,
  volumeTypeId: v.volumeTypeId,
  volumeTypeName: v.volumeTypeName,
  availabilityZone: v.availabilityZone,
  bootable: v.bootable,
  multiattach: v.multiattach,
  metadata: v.metadata,
  imageMetadata: v.imageMetadata,
  sourceVolId: v.sourceVolId,
  snapshotId: v.snapshotId,
  imageId: v.imageId,
  backupId: v.backupId,
  errorMessage: v.errorMessage,
  attachments: v.attachments.map((a) => ({
    id: a.id,
    serverId: a.serverId,
    device: a.device,
    status: a.status,
    attachedAt: iso(a.attachedAt),
  })),
  createdAt: v.createdAt.toISOString(),
  updatedAt: v.updatedAt.toISOString(),
});

export const ListVolumesInput = z.object({
  name: z.string().max(255).optional(),
  status: z.string().max(32).optional(),
  marker: z.string().optional(),
  limit: z.number().int().min(1).max(200).default(20),
});

/** The create form: one source at most (core refuses more than one with Cinder's message). */
export const CreateVolumeInput = z.object({
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  size: z.number().int().min(1).max(16384).optional(),
  volumeType: z.string().min(1).optional(),
  availabilityZone: z.string().min(1).optional(),
  imageRef: z.string().min(1).optional(),
  snapshotId: z.string().min(1).optional(),
  sourceVolId: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

export const volumesRouter = router({
  list: protectedProcedure.input(ListVolumesInput).query(async ({ ctx, input }) => {
    // One extra row tells whether there is a next page.
    const rows = await listVolumes(ctx.auth, {
      name: input.name,
      status: input.status,
      marker: input.marker,
      limit: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    return {
      items: page.map(shapeVolume),
      next: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }),
  get: protectedProcedure
    .input(VolumeId)
    .query(async ({ ctx, input }) => shapeVolume(await getVolume(ctx.auth, input.volumeId))),
  create: protectedProcedure
    .input(CreateVolumeInput)
    .mutation(async ({ ctx, input }) => shapeVolume(await createVolume(ctx.auth, input))),
  /** Name, description and the bootable flag (each checked by its own policy in core). */
  update: protectedProcedure
    .input(
      VolumeId.extend({
        name: z.string().max(255).nullable().optional(),
        description: z.string().max(255).nullable().optional(),
        bootable: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.name !== undefined || input.description !== undefined)
        await updateVolume(ctx.auth, input.volumeId, { name: input.name, description: input.description });
      if (input.bootable !== undefined) await setVolumeBootable(ctx.auth, input.volumeId, input.bootable);
      return shapeVolume(await getVolume(ctx.auth, input.volumeId));
    }),
  /** Replaces the whole metadata map. */
  setMetadata: protectedProcedure
    .input(VolumeId.extend({ metadata: z.record(z.string(), z.string()) }))
    .mutation(({ ctx, input }) => setVolumeMetadata(ctx.auth, input.volumeId, input.metadata, { replace: true })),
  /** Grows the volume; an attached one grows live (Cinder ≥ 3.42). Smaller sizes are core's 400. */
  extend: protectedProcedure
    .input(VolumeId.extend({ newSize: z.number().int() }))
    .mutation(({ ctx, input }) => extendVolume(ctx.auth, input.volumeId, input.newSize, { allowAttached: true })),
  delete: protectedProcedure
    .input(VolumeId.extend({ cascade: z.boolean().optional() }))
    .mutation(({ ctx, input }) => deleteVolume(ctx.auth, input.volumeId, { cascade: input.cascade })),
  /** Nova's os-volume_attachments: the device name is chosen at once and returned. */
  attach: protectedProcedure
    .input(VolumeId.extend({ serverId: z.string().min(1), device: z.string().max(32).optional() }))
    .mutation(async ({ ctx, input }) => {
      const a = await attachVolumeToServer(ctx.auth, input.serverId, {
        volumeId: input.volumeId,
        device: input.device || null,
      });
      return { serverId: a.serverId, volumeId: a.volumeId, device: a.device, status: a.status };
    }),
  detach: protectedProcedure
    .input(VolumeId.extend({ serverId: z.string().min(1) }))
    .mutation(({ ctx, input }) => detachVolumeFromServer(ctx.auth, input.serverId, input.volumeId)),
  /** Changes the type without moving data (core refuses, with Cinder's message, a type needing another backend). */
  retype: protectedProcedure
    .input(VolumeId.extend({ volumeType: z.string().min(1).max(255) }))
    .mutation(async ({ ctx, input }) => {
      await retypeVolume(ctx.auth, input.volumeId, input.volumeType);
      return shapeVolume(await getVolume(ctx.auth, input.volumeId));
    }),
  /**
   * An instance's volumes for its page: Nova's attachments (device, delete on termination)
   * each with its volume. A server holds a handful of disks, so one read per volume is bounded.
   */
  forServer: protectedProcedure.input(z.object({ serverId: z.string().min(1) })).query(async ({ ctx, input }) => {
    const attachments = await listServerVolumeAttachments(ctx.auth, input.serverId);
    return Promise.all(
      attachments.map(async (a) => ({
        volumeId: a.volumeId,
        device: a.device,
        status: a.status,
        deleteOnTermination: a.deleteOnTermination,
        volume: await getVolume(ctx.auth, a.volumeId).then(shapeVolume, (err: unknown) => {
          // A volume the caller may not read (another project's, as an admin's view) shows by id.
          if (isStratusError(err) && (err.code === 'NotFound' || err.code === 'Forbidden')) return null;
          throw err;
        }),
      })),
    );
  }),
});
