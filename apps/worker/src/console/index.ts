export {
  CloseCode,
  type ConsoleProxy,
  type ConsoleProxyOptions,
  type ConsoleTargets,
  startConsoleProxy,
} from './proxy.ts';
export { completeUtf8, type LogTail, type LogTailOptions, startConsoleLogTail } from './log-tail.ts';
