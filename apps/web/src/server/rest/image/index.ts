import * as img from '@stratus/core';
import { type AuthContext, badRequest, forbidden, loadConfig } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  createRouter,
  header,
  keystoneError,
  parseInput,
  queryBool,
  readJson,
  readJsonValue,
  requestBase,
  requireAuth,
  type RouteContext,
  send,
} from '../common.ts';
import { imageJson, imageSchema, imagesSchema, memberJson, memberSchema, membersSchema } from './shapes.ts';

/*
 * Glance v2 under /image: a thin adapter over core/image. Errors use the
 * {"error":{code,title,message}} shape: both openstacksdk and glanceclient read
 * `message` from the values of the top-level object (a flat {code,title,message}
 * breaks glanceclient). Image data is streamed both ways: the upload route hands the
 * request itself to core and never reads it into memory.
 */
const PREFIX = '/image';
const render = keystoneError;
const router = createRouter({ prefix: PREFIX, render });
const route = router.add;

const p = (c: RouteContext, name: string) => c.params[name] ?? '';
const q = (c: RouteContext, name: string) => c.url.searchParams.get(name) ?? undefined;

// ---------------------------------------------------------------- discovery

const VERSIONS = [
  '2.16',
  '2.15',
  '2.14',
  '2.13',
  '2.12',
  '2.11',
  '2.10',
  '2.9',
  '2.8',
  '2.7',
  '2.6',
  '2.5',
  '2.4',
  '2.3',
  '2.2',
  '2.1',
  '2.0',
];
const versionsDoc = (c: RouteContext) => {
  const href = `${requestBase(c.req, loadConfig().publicUrl)}${PREFIX}/v2/`;
  return {
    versions: VERSIONS.map((v, i) => ({
      id: `v${v}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }],
    })),
  };
};
route('GET', '/', async (c) => send(c.res, 300, versionsDoc(c)));
route('GET', '/versions', async (c) => send(c.res, 200, versionsDoc(c)));

// ---------------------------------------------------------------- images

/** Attributes of a create body that are not free-form properties. */
const CREATE_ATTRS = new Set([
  'id',
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'tags',
  'owner',
]);

function createInput(body: Record<string, unknown>): z.input<typeof img.CreateImageInput> {
  const properties: Record<string, string> = {};
  const core: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (img.READ_ONLY.has(k)) throw forbidden(`Attribute '${k}' is read-only.`);
    if (CREATE_ATTRS.has(k)) core[k] = v;
    else if (typeof v === 'string') properties[k] = v;
    else throw badRequest(`Invalid value for '${k}': additional properties must be strings.`);
  }
  const o = parseInput(
    z.object({
      id: z.string().optional(),
      name: z.string().nullable().optional(),
      visibility: img.Visibility.optional(),
      protected: z.boolean().optional(),
      os_hidden: z.boolean().optional(),
      disk_format: img.DiskFormat.nullable().optional(),
      container_format: img.ContainerFormat.nullable().optional(),
      min_disk: z.number().int().min(0).optional(),
      min_ram: z.number().int().min(0).optional(),
      tags: z.array(z.string()).optional(),
      owner: z.string().nullable().optional(),
    }),
    core,
  );
  return {
    ...(o.id !== undefined ? { id: o.id } : {}),
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.visibility !== undefined ? { visibility: o.visibility } : {}),
    ...(o.protected !== undefined ? { protected: o.protected } : {}),
    ...(o.os_hidden !== undefined ? { osHidden: o.os_hidden } : {}),
    ...(o.disk_format !== undefined ? { diskFormat: o.disk_format } : {}),
    ...(o.container_format !== undefined ? { containerFormat: o.container_format } : {}),
    ...(o.min_disk !== undefined ? { minDisk: o.min_disk } : {}),
    ...(o.min_ram !== undefined ? { minRam: o.min_ram } : {}),
    ...(o.tags !== undefined ? { tags: o.tags } : {}),
    ...(o.owner !== undefined ? { owner: o.owner } : {}),
    properties,
  };
}

route('POST', '/v2/images', async (c) => {
  const ctx = await requireAuth(c.req);
  const image = await img.createImage(ctx, createInput(await readJson(c.req)));
  send(c.res, 201, imageJson(image), {
    location: `${requestBase(c.req, loadConfig().publicUrl)}${PREFIX}/v2/images/${image.id}`,
  });
});

const intParam = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${name} must be a non-negative integer.`);
  return n;
};

/** Glance's sorting: sort=k1:dir,k2 or sort_key=k1&sort_key=k2&sort_dir=asc. */
function sortParams(c: RouteContext): Array<{ key: string; dir: string }> | undefined {
  const sort = q(c, 'sort');
  if (sort !== undefined) {
    return sort
      .split(',')
      .filter(Boolean)
      .map((part) => {
        const [key = '', dir = 'desc'] = part.split(':');
        return { key: key.trim(), dir: dir.trim() };
      });
  }
  const keys = c.url.searchParams.getAll('sort_key');
  const dirs = c.url.searchParams.getAll('sort_dir');
  if (keys.length === 0 && dirs.length === 0) return undefined;
  const ks = keys.length ? keys : ['created_at'];
  return ks.map((key, i) => ({ key, dir: dirs[i] ?? dirs[0] ?? 'desc' }));
}

function listInput(c: RouteContext): z.input<typeof img.ListImagesInput> {
  const limit = intParam(q(c, 'limit'), 'limit');
  const bool = (name: string) => queryBool(c.url.searchParams.get(name));
  const idFilter = q(c, 'id');
  const sort = sortParams(c);
  if (sort) {
    for (const s of sort) {
      if (!img.SortKey.safeParse(s.key).success) throw badRequest(`Unsupported sort_key ${s.key}.`);
      if (s.dir !== 'asc' && s.dir !== 'desc') throw badRequest(`Unsupported sort_dir ${s.dir}.`);
    }
  }
  const input = {
    name: q(c, 'name'),
    visibility: q(c, 'visibility'),
    memberStatus: q(c, 'member_status'),
    status: q(c, 'status'),
    owner: q(c, 'owner'),
    tags: c.url.searchParams.getAll('tag'),
    osHidden: bool('os_hidden'),
    diskFormat: q(c, 'disk_format'),
    containerFormat: q(c, 'container_format'),
    protected: bool('protected'),
    sizeMin: intParam(q(c, 'size_min'), 'size_min'),
    sizeMax: intParam(q(c, 'size_max'), 'size_max'),
    ids: idFilter === undefined ? undefined : idFilter.startsWith('in:') ? idFilter.slice(3).split(',') : [idFilter],
    sort,
    marker: q(c, 'marker'),
    limit: limit === undefined ? undefined : Math.min(Math.max(limit, 1), 1000),
  };
  return parseInput(img.ListImagesInput, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
}

route('GET', '/v2/images', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await img.listImages(ctx, listInput(c));
  const body: Record<string, unknown> = {
    images: page.items.map(imageJson),
    first: '/v2/images',
    schema: '/v2/schemas/images',
  };
  if (page.next) {
    const params = new URLSearchParams(c.url.searchParams);
    params.set('marker', page.next);
    body.next = `/v2/images?${params.toString()}`;
  }
  send(c.res, 200, body);
});

route('GET', '/v2/images/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, imageJson(await img.getImage(ctx, { imageId: p(c, 'id') })));
});

const PATCH_21 = 'application/openstack-images-v2.1-json-patch';
const PATCH_20 = 'application/openstack-images-v2.0-json-patch';
const Patch20Op = z.record(z.string(), z.unknown());

/** The v2.0 dialect ({"replace": "/name", "value": …}) as v2.1 operations. */
function fromV20(ops: unknown): unknown {
  const list = parseInput(z.array(Patch20Op), ops);
  return list.map((o) => {
    const op = ['add', 'replace', 'remove'].find((k) => k in o);
    if (!op) throw badRequest('Each patch operation needs add, replace or remove.');
    return { op, path: o[op], ...('value' in o ? { value: o.value } : {}) };
  });
}

route('PATCH', '/v2/images/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const type = (header(c.req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== PATCH_21 && type !== PATCH_20) {
    c.req.resume();
    send(c.res, 415, render(415, `Unsupported Content-Type ${type || '(none)'}: use ${PATCH_21}.`), {
      'accept-patch': `${PATCH_21}, ${PATCH_20}`,
    });
    return;
  }
  const raw = await readJsonValue(c.req);
  const ops = parseInput(img.Patch, type === PATCH_20 ? fromV20(raw) : raw);
  send(c.res, 200, imageJson(await img.updateImage(ctx, { imageId: p(c, 'id'), patch: ops })));
});

route('DELETE', '/v2/images/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.deleteImage(ctx, { imageId: p(c, 'id') });
  send(c.res, 204);
});

route('POST', '/v2/images/:id/actions/deactivate', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.deactivateImage(ctx, { imageId: p(c, 'id') });
  send(c.res, 204);
});
route('POST', '/v2/images/:id/actions/reactivate', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.reactivateImage(ctx, { imageId: p(c, 'id') });
  send(c.res, 204);
});

route('PUT', '/v2/images/:id/tags/:tag', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.addImageTag(ctx, { imageId: p(c, 'id'), tag: p(c, 'tag') });
  send(c.res, 204);
});
route('DELETE', '/v2/images/:id/tags/:tag', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.removeImageTag(ctx, { imageId: p(c, 'id'), tag: p(c, 'tag') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- data

route('PUT', '/v2/images/:id/file', async (c) => {
  try {
    const ctx: AuthContext = await requireAuth(c.req);
    const type = (header(c.req, 'content-type') ?? 'application/octet-stream').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') {
      c.res.setHeader('connection', 'close');
      send(c.res, 415, render(415, `Unsupported Content-Type ${type ?? ''}: image data is application/octet-stream.`));
      return;
    }
    const declared = header(c.req, 'content-length');
    const contentLength = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    await img.uploadImageData(ctx, {
      imageId: p(c, 'id'),
      data: c.req,
      ...(contentLength !== undefined ? { contentLength } : {}),
    });
    send(c.res, 204);
  } catch (err) {
    // The body may be partly unread: do not keep the connection for another request.
    if (!c.res.headersSent) c.res.setHeader('connection', 'close');
    throw err;
  }
});

/** Range: bytes=a-b | a- | -n (one range). undefined: whole file; null: unsatisfiable. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

route('GET', '/v2/images/:id/file', async (c) => {
  const ctx = await requireAuth(c.req);
  const d = await img.downloadImageData(ctx, { imageId: p(c, 'id') });
  if (d.size === null) {
    send(c.res, 204);
    return;
  }
  const size = d.size;
  const range = parseRange(header(c.req, 'range'), size);
  if (range === null) {
    send(c.res, 416, render(416, `Requested range not satisfiable (size ${size}).`), {
      'content-range': `bytes */${size}`,
    });
    return;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    'content-length': String(range ? range.end - range.start + 1 : size),
  };
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  else if (d.image.checksum) headers['content-md5'] = d.image.checksum;
  const stream = await d.open(range);
  c.res.writeHead(range ? 206 : 200, headers);
  if (c.req.method === 'HEAD') {
    stream.destroy();
    c.res.end();
    return;
  }
  // Headers are out: a failure from here on can only cut the connection.
  await img.sendImageData(stream, c.res).catch(() => c.res.destroy());
});

// ---------------------------------------------------------------- members

route('GET', '/v2/images/:id/members', async (c) => {
  const ctx = await requireAuth(c.req);
  const members = await img.listImageMembers(ctx, { imageId: p(c, 'id') });
  send(c.res, 200, { members: members.map(memberJson), schema: '/v2/schemas/members' });
});
route('POST', '/v2/images/:id/members', async (c) => {
  const ctx = await requireAuth(c.req);
  const body = parseInput(z.object({ member: z.string().min(1) }), await readJson(c.req));
  send(c.res, 200, memberJson(await img.addImageMember(ctx, { imageId: p(c, 'id'), memberId: body.member })));
});
route('GET', '/v2/images/:id/members/:member', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, memberJson(await img.getImageMember(ctx, { imageId: p(c, 'id'), memberId: p(c, 'member') })));
});
route('PUT', '/v2/images/:id/members/:member', async (c) => {
  const ctx = await requireAuth(c.req);
  const body = parseInput(z.object({ status: z.string() }), await readJson(c.req));
  send(
    c.res,
    200,
    memberJson(
      await img.updateImageMember(ctx, { imageId: p(c, 'id'), memberId: p(c, 'member'), status: body.status }),
    ),
  );
});
route('DELETE', '/v2/images/:id/members/:member', async (c) => {
  const ctx = await requireAuth(c.req);
  await img.deleteImageMember(ctx, { imageId: p(c, 'id'), memberId: p(c, 'member') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- schemas

route('GET', '/v2/schemas/image', async (c) => send(c.res, 200, imageSchema));
route('GET', '/v2/schemas/images', async (c) => send(c.res, 200, imagesSchema));
route('GET', '/v2/schemas/member', async (c) => send(c.res, 200, memberSchema));
route('GET', '/v2/schemas/members', async (c) => send(c.res, 200, membersSchema));

export const imageMount: RestMount = { prefix: PREFIX, handler: router.handler };
