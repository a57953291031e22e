import { describe, expect, it } from 'vitest';
import { StratusError } from '../platform/errors.ts';
import { checkHeader, checkImageFormat, type ImageInfo } from './inspect.ts';
import { applyImagePatch } from './patch.ts';
import type { Image } from './types.ts';
import { canSeeImage, visibleImagesWhere } from './visibility.ts';

const image = (over: Partial<Image> = {}): Image => ({
  id: '6f1c1a52-3b0e-4c9e-9d43-000000000001',
  name: 'cirros',
  owner: 'pA',
  status: 'active',
  visibility: 'private',
  diskFormat: 'qcow2',
  containerFormat: 'bare',
  size: 10,
  virtualSize: 100,
  checksum: null,
  osHashAlgo: null,
  osHashValue: null,
  minDisk: 0,
  minRam: 0,
  protected: false,
  osHidden: false,
  tags: [],
  properties: { os_distro: 'cirros' },
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof StratusError) return e.code;
    throw e;
  }
  return undefined;
}

describe('Glance JSON-patch', () => {
  it('replaces core attributes and adds, replaces and removes properties', () => {
    const c = applyImagePatch(image(), [
      { op: 'replace', path: '/name', value: 'new' },
      { op: 'add', path: '/min_ram', value: 512 },
      { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
      { op: 'replace', path: '/os_distro', value: 'debian' },
      { op: 'add', path: '/a~1b', value: 'slash' },
    ]);
    expect(c).toEqual({ name: 'new', minRam: 512, properties: { os_distro: 'debian', hw_disk_bus: 'virtio', 'a/b': 'slash' } });
    expect(applyImagePatch(image(), [{ op: 'remove', path: '/os_distro' }])).toEqual({ properties: {} });
    expect(applyImagePatch(image(), [{ op: 'replace', path: '/tags', value: ['a', 'a', 'b'] }])).toEqual({ tags: ['a', 'b'] });
    expect(applyImagePatch(image(), [{ op: 'replace', path: '/visibility', value: 'public' }])).toEqual({ visibility: 'public' });
  });

  it('refuses read-only, reserved and removal of core attributes (403), missing properties (409), bad values (400)', () => {
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/status', value: 'active' }]))).toBe('Forbidden');
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/checksum', value: 'x' }]))).toBe('Forbidden');
    expect(code(() => applyImagePatch(image(), [{ op: 'add', path: '/os_glance_foo', value: 'x' }]))).toBe('Forbidden');
    expect(code(() => applyImagePatch(image(), [{ op: 'remove', path: '/name' }]))).toBe('Forbidden');
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/disk_format', value: 'raw' }]))).toBe('Forbidden');
    expect(applyImagePatch(image({ status: 'queued' }), [{ op: 'replace', path: '/disk_format', value: 'raw' }])).toEqual({ diskFormat: 'raw' });
    expect(code(() => applyImagePatch(image(), [{ op: 'remove', path: '/nope' }]))).toBe('Conflict');
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/nope', value: 'x' }]))).toBe('Conflict');
    expect(code(() => applyImagePatch(image(), [{ op: 'add', path: '/hw', value: 3 }]))).toBe('BadRequest');
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/visibility', value: 'everyone' }]))).toBe('BadRequest');
    expect(code(() => applyImagePatch(image(), [{ op: 'replace', path: '/min_disk', value: -1 }]))).toBe('BadRequest');
    expect(code(() => applyImagePatch(image(), [{ op: 'add', path: '/a/b', value: 'x' }]))).toBe('BadRequest');
    expect(code(() => applyImagePatch(image(), [{ op: 'add', path: '/x' }]))).toBe('BadRequest');
  });
});

describe('visibility', () => {
  const A = { projectId: 'pA', isAdmin: false };
  const B = { projectId: 'pB', isAdmin: false };
  const admin = { projectId: 'pX', isAdmin: true };
  it('by id: private to the owner, shared to members, public/community to all, admin everything', () => {
    const priv = { owner: 'pA', visibility: 'private' };
    expect(canSeeImage(A, priv, undefined)).toBe(true);
    expect(canSeeImage(B, priv, undefined)).toBe(false);
    expect(canSeeImage(admin, priv, undefined)).toBe(true);
    const shared = { owner: 'pA', visibility: 'shared' };
    expect(canSeeImage(B, shared, undefined)).toBe(false);
    expect(canSeeImage(B, shared, 'pending')).toBe(true);
    expect(canSeeImage(B, shared, 'accepted')).toBe(true);
    expect(canSeeImage(B, { owner: 'pA', visibility: 'public' }, undefined)).toBe(true);
    expect(canSeeImage(B, { owner: 'pA', visibility: 'community' }, undefined)).toBe(true);
    // A membership does not open a private image.
    expect(canSeeImage(B, priv, 'accepted')).toBe(false);
  });

  it('lists: owned + public + accepted shares by default; member_status widens; community only when asked', () => {
    expect(visibleImagesWhere(admin, {})).toEqual({});
    expect(visibleImagesWhere(admin, { visibility: 'private' })).toEqual({ visibility: 'private' });
    expect(visibleImagesWhere(B, {})).toEqual({
      OR: [{ owner: 'pB' }, { visibility: 'public' }, { visibility: 'shared', members: { some: { memberId: 'pB', status: 'accepted' } } }],
    });
    expect(visibleImagesWhere(B, { memberStatus: 'pending' })).toMatchObject({
      OR: [{}, {}, { members: { some: { memberId: 'pB', status: 'pending' } } }],
    });
    expect(visibleImagesWhere(B, { visibility: 'shared', memberStatus: 'all' })).toEqual({
      AND: [{ visibility: 'shared' }, { OR: [{ owner: 'pB' }, { visibility: 'shared', members: { some: { memberId: 'pB' } } }] }],
    });
    expect(visibleImagesWhere(B, { visibility: 'private' })).toEqual({ visibility: 'private', owner: 'pB' });
    expect(visibleImagesWhere(B, { visibility: 'community' })).toEqual({ visibility: 'community' });
    expect(visibleImagesWhere({ projectId: null, isAdmin: false }, { visibility: 'private' })).toEqual({ id: { in: [] } });
  });
});

describe('image data checks', () => {
  const info = (over: Partial<ImageInfo>): ImageInfo => ({ format: 'qcow2', virtualSize: 1, ...over });
  it('accepts matching formats; raw takes anything not recognised; iso is raw', () => {
    expect(code(() => checkImageFormat('qcow2', info({}), '/s/x'))).toBeUndefined();
    expect(code(() => checkImageFormat('raw', info({ format: 'raw' }), '/s/x'))).toBeUndefined();
    expect(code(() => checkImageFormat('iso', info({ format: 'raw' }), '/s/x'))).toBeUndefined();
    expect(code(() => checkImageFormat('vhd', info({ format: 'vpc' }), '/s/x'))).toBeUndefined();
    expect(code(() => checkImageFormat('vmdk', info({ format: 'vmdk', vmdkCreateType: 'monolithicSparse', vmdkExtents: ['x'] }), '/s/x'))).toBeUndefined();
  });
  it('rejects mismatches, backing files, data files and vmdk extents elsewhere', () => {
    expect(code(() => checkImageFormat('raw', info({ format: 'qcow2' }), '/s/x'))).toBe('BadRequest');
    expect(code(() => checkImageFormat('qcow2', info({ format: 'raw' }), '/s/x'))).toBe('BadRequest');
    expect(code(() => checkImageFormat('qcow2', info({ backingFile: '/etc/passwd' }), '/s/x'))).toBe('BadRequest');
    expect(code(() => checkImageFormat('qcow2', info({ dataFile: '/dev/sda' }), '/s/x'))).toBe('BadRequest');
    expect(code(() => checkImageFormat('vmdk', info({ format: 'vmdk', vmdkCreateType: 'monolithicFlat', vmdkExtents: ['x'] }), '/s/x'))).toBe('BadRequest');
    expect(code(() => checkImageFormat('vmdk', info({ format: 'vmdk', vmdkCreateType: 'monolithicSparse', vmdkExtents: ['/etc/shadow'] }), '/s/x'))).toBe('BadRequest');
  });
  it('reads qcow2 headers and vmdk descriptors before any tool opens them', () => {
    const qcow = (backingOffset: bigint, incompat: bigint) => {
      const b = Buffer.alloc(104);
      b.writeUInt32BE(0x514649fb, 0);
      b.writeUInt32BE(3, 4);
      b.writeBigUInt64BE(backingOffset, 8);
      b.writeBigUInt64BE(incompat, 72);
      return b;
    };
    expect(code(() => checkHeader(qcow(0n, 0n)))).toBeUndefined();
    expect(code(() => checkHeader(qcow(0x200n, 0n)))).toBe('BadRequest');
    expect(code(() => checkHeader(qcow(0n, 4n)))).toBe('BadRequest');
    expect(code(() => checkHeader(Buffer.from('# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 10 FLAT "/etc/passwd" 0\n')))).toBe('BadRequest');
    expect(code(() => checkHeader(Buffer.from('plain bytes of a raw disk')))).toBeUndefined();
  });
});
