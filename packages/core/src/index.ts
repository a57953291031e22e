export * from './platform/config.ts';
export * from './platform/errors.ts';
export * from './platform/log.ts';
export * from './platform/jobs.ts';
export * from './platform/services.ts';
export * from './platform/runtime.ts';
