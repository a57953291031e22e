import type { RestMount } from './http.ts';
import { computeMount } from './rest/compute/index.ts';
import { identityMount } from './rest/identity/index.ts';
import { imageMount } from './rest/image/index.ts';
import { networkMount } from './rest/network/index.ts';
import { objectMount } from './rest/object/index.ts';
import { placementMount } from './rest/placement/index.ts';
import { s3Mount } from './rest/s3/index.ts';
import { volumeMount } from './rest/volume/index.ts';

/**
 * OpenStack-compatible REST services served by the custom server before Next.js
 * (lower overhead and true streaming for uploads). Each service adds its mount here.
 */
export const restMounts: RestMount[] = [computeMount, identityMount, imageMount, networkMount, objectMount, placementMount, s3Mount, volumeMount];
