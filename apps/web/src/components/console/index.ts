export { VncConsole, type VncConsoleProps } from './VncConsole';
export { SerialConsole, type SerialConsoleProps } from './SerialConsole';
export type { ConsoleState } from './common';
