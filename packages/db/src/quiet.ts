import { Logger } from 'graphile-worker';

/** graphile-worker logs to the console by default; Stratus logs through pino instead. */
export function silentLoggerFactory(): Logger {
  return new Logger(() => () => {});
}
