import * as core from '@stratus/core';
import { badRequest } from '@stratus/core';
import { z } from 'zod';
import { parseInput, readJson, type RouteContext, requireAuth, send } from '../common.ts';
import { atLeast, type Microversion } from './microversion.ts';

/*
 * Nova's os-volume_attachments: list, show, attach (POST) and detach (DELETE) volumes of
 * a server. A thin adapter over core/compute/volume-attachments.ts; the answer's shape
 * follows the microversion (tag from 2.70, delete_on_termination from 2.79,
 * attachment_id and bdm_uuid instead of id from 2.89).
 */
type Ctx = RouteContext & { v: Microversion };
type AddRoute = (method: string, pattern: string, h: (c: Ctx) => Promise<void>) => void;

function attachmentJson(a: core.ServerVolumeAttachment, v: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = { serverId: a.serverId, volumeId: a.volumeId, device: a.device };
  if (atLeast(v, 89)) {
    out.attachment_id = a.attachmentId;
    out.bdm_uuid = a.attachmentId;
  } else out.id = a.volumeId;
  if (atLeast(v, 70)) out.tag = a.tag;
  if (atLeast(v, 79)) out.delete_on_termination = a.deleteOnTermination;
  return out;
}

const AttachBody = z
  .object({
    volumeId: z.string().min(1),
    device: z.string().nullish(),
    tag: z.string().nullish(),
    delete_on_termination: z.boolean().optional(),
  })
  .loose();

/** Registers the routes on the compute router (`base` is /v2.1). */
export function registerVolumeAttachmentRoutes(route: AddRoute, base: string): void {
  const path = `${base}/servers/:id/os-volume_attachments`;
  route('GET', path, async (c) => {
    const ctx = await requireAuth(c.req);
    const list = await core.listServerVolumeAttachments(ctx, c.params.id ?? '');
    send(c.res, 200, { volumeAttachments: list.map((a) => attachmentJson(a, c.v)) });
  });
  route('GET', `${path}/:volume`, async (c) => {
    const ctx = await requireAuth(c.req);
    const a = await core.getServerVolumeAttachment(ctx, c.params.id ?? '', c.params.volume ?? '');
    send(c.res, 200, { volumeAttachment: attachmentJson(a, c.v) });
  });
  route('POST', path, async (c) => {
    const ctx = await requireAuth(c.req);
    const raw = await readJson(c.req);
    if (!('volumeAttachment' in raw))
      throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeAttachment' is a required property");
    const b = parseInput(AttachBody, raw.volumeAttachment);
    if (b.tag !== undefined && b.tag !== null && !atLeast(c.v, 49))
      throw badRequest('Invalid input for field/attribute volumeAttachment. tag needs microversion 2.49.');
    if (b.delete_on_termination !== undefined && !atLeast(c.v, 79))
      throw badRequest(
        'Invalid input for field/attribute volumeAttachment. delete_on_termination needs microversion 2.79.',
      );
    const a = await core.attachVolumeToServer(ctx, c.params.id ?? '', {
      volumeId: b.volumeId,
      device: b.device ?? null,
      tag: b.tag ?? null,
      ...(b.delete_on_termination !== undefined ? { deleteOnTermination: b.delete_on_termination } : {}),
    });
    send(c.res, 200, { volumeAttachment: attachmentJson(a, c.v) });
  });
  route('DELETE', `${path}/:volume`, async (c) => {
    const ctx = await requireAuth(c.req);
    await core.detachVolumeFromServer(ctx, c.params.id ?? '', c.params.volume ?? '');
    send(c.res, 202);
  });
}
