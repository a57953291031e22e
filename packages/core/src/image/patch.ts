import { z } from 'zod';
import { badRequest, conflict, forbidden } from '../platform/errors.ts';
import { ContainerFormat, DiskFormat, type Image, PropertyKey, Visibility } from './types.ts';

/*
 * Glance's JSON-patch dialect (application/openstack-images-v2.1-json-patch): a list of
 * {op: add|replace|remove, path: "/attr", value}. Core attributes are typed; any other
 * name is a free-form string property. Applying a patch is pure: it returns the changes
 * and the caller checks policy (publicize, owner) and persists them.
 */
export const PatchOp = z.object({
  op: z.enum(['add', 'replace', 'remove']),
  path: z.string().min(2).startsWith('/'),
  value: z.unknown().optional(),
});
export type PatchOp = z.infer<typeof PatchOp>;
export const Patch = z.array(PatchOp).max(500);

/** Attributes the API shows but nobody may set. */
export const READ_ONLY = new Set([
  'id',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'location',
  'deleted',
  'deleted_at',
  'stores',
]);
/** Property namespaces Glance reserves for itself. */
export const RESERVED_PREFIXES = ['os_glance'];

export interface ImageChanges {
  name?: string | null;
  visibility?: Visibility;
  protected?: boolean;
  osHidden?: boolean;
  minDisk?: number;
  minRam?: number;
  diskFormat?: string | null;
  containerFormat?: string | null;
  owner?: string | null;
  tags?: string[];
  /** The whole new property map, when any property changed. */
  properties?: Record<string, string>;
}

const Tag = z.string().min(1).max(255);
export const Tags = z.array(Tag).max(128);

/** Wire name → how to validate it and which field of ImageChanges it sets. */
const CORE: Record<string, { schema: z.ZodType; set: (c: ImageChanges, v: unknown) => void }> = {
  name: { schema: z.string().max(255).nullable(), set: (c, v) => (c.name = z.string().nullable().parse(v)) },
  visibility: { schema: Visibility, set: (c, v) => (c.visibility = Visibility.parse(v)) },
  protected: { schema: z.boolean(), set: (c, v) => (c.protected = z.boolean().parse(v)) },
  os_hidden: { schema: z.boolean(), set: (c, v) => (c.osHidden = z.boolean().parse(v)) },
  min_disk: { schema: z.number().int().min(0).max(2 ** 31 - 1), set: (c, v) => (c.minDisk = z.number().parse(v)) },
  min_ram: { schema: z.number().int().min(0).max(2 ** 31 - 1), set: (c, v) => (c.minRam = z.number().parse(v)) },
  disk_format: { schema: DiskFormat.nullable(), set: (c, v) => (c.diskFormat = z.string().nullable().parse(v)) },
  container_format: {
    schema: ContainerFormat.nullable(),
    set: (c, v) => (c.containerFormat = z.string().nullable().parse(v)),
  },
  owner: { schema: z.string().min(1).max(255).nullable(), set: (c, v) => (c.owner = z.string().nullable().parse(v)) },
  tags: { schema: Tags, set: (c, v) => (c.tags = [...new Set(Tags.parse(v))]) },
};
export const CORE_ATTRIBUTES = new Set(Object.keys(CORE));

/** "/a~1b" → "a/b" (RFC 6901); nested paths are not part of Glance's dialect. */
export function attributeOf(path: string): string {
  const raw = path.slice(1);
  if (raw.includes('/')) throw badRequest(`Invalid JSON pointer for this resource: '${path}'`);
  return raw.replace(/~1/g, '/').replace(/~0/g, '~');
}

function checkValue(attr: string, schema: z.ZodType, value: unknown): unknown {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(`Invalid value for '${attr}': ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

export function checkPropertyName(key: string): void {
  if (READ_ONLY.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
  if (RESERVED_PREFIXES.some((p) => key.startsWith(p))) throw forbidden(`Attribute '${key}' is reserved.`);
  if (!PropertyKey.safeParse(key).success) throw badRequest(`Invalid property name '${key}'.`);
}

/** Applies Glance JSON-patch operations to `image`; throws StratusError on an invalid patch. */
export function applyImagePatch(image: Image, ops: PatchOp[]): ImageChanges {
  const changes: ImageChanges = {};
  let props: Record<string, string> | undefined;
  for (const op of ops) {
    if (op.op !== 'remove' && op.value === undefined) throw badRequest(`Operation '${op.op}' on '${op.path}' needs a value.`);
    const attr = attributeOf(op.path);
    if (READ_ONLY.has(attr)) throw forbidden(`Attribute '${attr}' is read-only.`);
    const core = CORE[attr];
    if (core) {
      if (op.op === 'remove') throw forbidden(`Attribute '${attr}' is a core attribute and cannot be removed.`);
      if ((attr === 'disk_format' || attr === 'container_format') && image.status !== 'queued') {
        throw forbidden(`Attribute ${attr} can be only replaced for a queued image.`);
      }
      core.set(changes, checkValue(attr, core.schema, op.value));
      continue;
    }
    checkPropertyName(attr);
    props ??= { ...image.properties };
    const exists = Object.hasOwn(props, attr);
    if (op.op === 'remove') {
      if (!exists) throw conflict(`Property ${attr} does not exist.`);
      delete props[attr];
    } else {
      if (op.op === 'replace' && !exists) throw conflict(`Property ${attr} does not exist.`);
      if (typeof op.value !== 'string') throw badRequest(`Invalid value for '${attr}': additional properties must be strings.`);
      props[attr] = op.value;
    }
  }
  if (props) changes.properties = props;
  return changes;
}
