/*
 * Block storage (Cinder v3): volumes, volume types, backends and the volume scheduler,
 * snapshots, backups, transfers, quotas; the job definitions the worker runs. Nova's
 * side (attachments, block device mapping) is in ../compute/volume-attachments.ts.
 */
export { VOLUME_RULES } from './policy.ts';
export { volumeOverLimit } from './common.ts';
export * from './state.ts';
export * from './quotas.ts';
export * from './records.ts';
export * from './types.ts';
export * from './backends.ts';
export * from './jobs.ts';
export * from './volumes.ts';
export * from './snapshots.ts';
export * from './backups.ts';
export * from './transfers.ts';
