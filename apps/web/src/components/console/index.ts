export { VncConsole, type VncConsoleProps } from './VncConsole';
export { SerialConsole, type SerialConsoleProps } from './SerialConsole';
export type { ConsoleState } from './common';
export { ConsoleLog, useConsoleLogFollow } from './ConsoleLog';
export { ConsoleToolbar, type ConsoleSession, useConsoleSession } from './useConsoleSession';
