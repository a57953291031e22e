import type { JobDefinition } from '@stratus/core';

/**
 * Every job the worker can run. Each service adds its definitions here; a job is
 * routed to this host when its definition is hostBound.
 */
export const jobs: JobDefinition[] = [];
