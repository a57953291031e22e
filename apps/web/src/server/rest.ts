import type { RestMount } from './http.ts';

/**
 * OpenStack-compatible REST services served by the custom server before Next.js
 * (lower overhead and true streaming for uploads). Each service adds its mount here.
 */
export const restMounts: RestMount[] = [];
