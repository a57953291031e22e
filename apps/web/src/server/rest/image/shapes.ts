import type { Image, ImageMember } from '@stratus/core';

/*
 * Glance v2 response bodies. Links (self, file, schema, first, next) are paths below
 * the versioned endpoint, as Glance returns them; clients join them with the endpoint.
 */

/** Glance's timestamps: second precision, Z. */
export const glanceTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export function imageJson(i: Image): Record<string, unknown> {
  return {
    // Properties first, so that none can shadow a core attribute.
    ...i.properties,
    id: i.id,
    name: i.name,
    status: i.status,
    visibility: i.visibility,
    protected: i.protected,
    os_hidden: i.osHidden,
    checksum: i.checksum,
    os_hash_algo: i.osHashAlgo,
    os_hash_value: i.osHashValue,
    owner: i.owner,
    size: i.size,
    virtual_size: i.virtualSize,
    min_disk: i.minDisk,
    min_ram: i.minRam,
    disk_format: i.diskFormat,
    container_format: i.containerFormat,
    tags: i.tags,
    created_at: glanceTime(i.createdAt),
    updated_at: glanceTime(i.updatedAt),
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: '/v2/schemas/image',
  };
}

export function memberJson(m: ImageMember): Record<string, unknown> {
  return {
    image_id: m.imageId,
    member_id: m.memberId,
    status: m.status,
    created_at: glanceTime(m.createdAt),
    updated_at: glanceTime(m.updatedAt),
    schema: '/v2/schemas/member',
  };
}

const str = { type: ['null', 'string'] };
const IMAGE_PROPERTIES: Record<string, unknown> = {
  id: {
    type: 'string',
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
  },
  name: { ...str, maxLength: 255 },
  status: {
    type: 'string',
    readOnly: true,
    enum: [
      'queued',
      'saving',
      'active',
      'killed',
      'deleted',
      'deactivated',
      'uploading',
      'importing',
      'pending_delete',
    ],
  },
  visibility: { type: 'string', enum: ['community', 'public', 'private', 'shared'] },
  protected: { type: 'boolean' },
  os_hidden: { type: 'boolean' },
  checksum: { ...str, readOnly: true, maxLength: 32 },
  os_hash_algo: { ...str, readOnly: true, maxLength: 64 },
  os_hash_value: { ...str, readOnly: true, maxLength: 128 },
  owner: { ...str, maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true },
  virtual_size: { type: ['null', 'integer'], readOnly: true },
  min_disk: { type: 'integer' },
  min_ram: { type: 'integer' },
  container_format: {
    type: ['null', 'string'],
    enum: [null, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'],
  },
  disk_format: {
    type: ['null', 'string'],
    enum: [null, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'],
  },
  created_at: { type: 'string', readOnly: true },
  updated_at: { type: 'string', readOnly: true },
  tags: { type: 'array', items: { type: 'string', maxLength: 255 } },
  self: { type: 'string', readOnly: true },
  file: { type: 'string', readOnly: true },
  schema: { type: 'string', readOnly: true },
};
export const imageSchema = {
  name: 'image',
  properties: IMAGE_PROPERTIES,
  additionalProperties: { type: 'string' },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};
export const imagesSchema = {
  name: 'images',
  properties: {
    images: { type: 'array', items: imageSchema },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};
const MEMBER_PROPERTIES = {
  image_id: { type: 'string' },
  member_id: { type: 'string' },
  status: { type: 'string', enum: ['pending', 'accepted', 'rejected'] },
  created_at: { type: 'string' },
  updated_at: { type: 'string' },
  schema: { type: 'string', readOnly: true },
};
export const memberSchema = { name: 'member', properties: MEMBER_PROPERTIES };
export const membersSchema = {
  name: 'members',
  properties: { members: { type: 'array', items: memberSchema }, schema: { type: 'string' } },
  links: [{ rel: 'describedby', href: '{schema}' }],
};
