import { z } from 'zod';

/*
 * The image service's vocabulary (Glance v2). Status and format values are Glance's.
 */
export const IMAGE_STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'deactivated'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const Visibility = z.enum(VISIBILITIES);
export type Visibility = z.infer<typeof Visibility>;

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const DiskFormat = z.enum(DISK_FORMATS);
export type DiskFormat = z.infer<typeof DiskFormat>;

export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const ContainerFormat = z.enum(CONTAINER_FORMATS);
export type ContainerFormat = z.infer<typeof ContainerFormat>;

export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export const MemberStatus = z.enum(MEMBER_STATUSES);
export type MemberStatus = z.infer<typeof MemberStatus>;

export interface Image {
  id: string;
  name: string | null;
  owner: string | null;
  status: ImageStatus;
  visibility: Visibility;
  diskFormat: string | null;
  containerFormat: string | null;
  size: number | null;
  virtualSize: number | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  minDisk: number;
  minRam: number;
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  /** Free-form string properties, flattened at the top level of Glance's image body. */
  properties: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface ImageMember {
  imageId: string;
  memberId: string;
  status: MemberStatus;
  createdAt: Date;
  updatedAt: Date;
}

/** A page of a list: `next` is the marker for the following page, or null. */
export interface ImagePage {
  items: Image[];
  next: string | null;
}

/** Properties are strings, keys at most 255 characters, as in Glance. */
export const PropertyKey = z.string().min(1).max(255);
export const Properties = z.record(PropertyKey, z.string().max(65535));

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
