export * from './tokens.ts';
export * from './consoles.ts';
export { CONSOLE_RULES } from './policy.ts';
export * from './log.ts';
