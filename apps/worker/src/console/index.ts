export { CloseCode, type ConsoleProxy, type ConsoleProxyOptions, type ConsoleTargets, startConsoleProxy } from './proxy.ts';
