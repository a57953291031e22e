import { currentAuth } from '../auth';
import type { Context } from './init';

export async function createContext(): Promise<Context> {
  return { auth: await currentAuth() };
}
