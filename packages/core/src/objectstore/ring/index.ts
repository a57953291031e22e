export * from './builder.ts';
export * from './ring.ts';
export * from './store.ts';
