'use client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { type ReactNode, useRef, useState } from 'react';
import { useToast } from '@/components/toast';
import type { AppRouter } from '@/server/routers';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type AppError = TRPCClientError<AppRouter>;

export function isTRPCError(e: unknown): e is AppError {
  return e instanceof TRPCClientError;
}

/** The zod field errors of a rejected input, keyed by field. */
export function fieldErrors(e: unknown): Record<string, string[]> {
  if (!isTRPCError(e)) return {};
  const z = e.data?.zodError;
  return z
    ? Object.fromEntries(Object.entries(z.fieldErrors).filter((kv): kv is [string, string[]] => Array.isArray(kv[1])))
    : {};
}

let signingOut = false;
/** A deliberate sign-out is under way: the 401s it causes are expected, not an expired session. */
export function markSigningOut(): void {
  signingOut = true;
}

/** Sends the browser back to the sign-in page, coming back here afterwards. */
export function goToLogin(): void {
  if (signingOut || window.location.pathname.startsWith('/login')) return;
  const returnTo = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/login?returnTo=${encodeURIComponent(returnTo)}&expired=1`);
}

const ACTIONS: Record<string, (noun: string) => string> = {
  create: (n) => `create the ${n}`,
  update: (n) => `update the ${n}`,
  delete: (n) => `delete the ${n}`,
  assign: () => 'assign the role',
  unassign: () => 'remove the role assignment',
  addMember: () => 'add the member',
  removeMember: () => 'remove the member',
};

/** "Could not delete the domain", from the procedure path identity.domains.delete. */
function failureTitle(e: unknown): string {
  const path = isTRPCError(e) ? (e.data?.path?.split('.') ?? []) : [];
  const action = ACTIONS[path.at(-1) ?? ''];
  const noun = path.at(-2)?.replace(/s$/, '');
  return action && noun ? `Could not ${action(noun)}` : 'The request failed';
}

const unauthorized = (e: unknown) => isTRPCError(e) && e.data?.code === 'UNAUTHORIZED';

declare module '@tanstack/react-query' {
  interface Register {
    mutationMeta: { /** The caller shows this mutation's errors itself (e.g. inline in a form). */ quiet?: boolean };
  }
}

/** Mutation options for calls whose errors the form shows inline instead of a toast. */
export const QUIET = { meta: { quiet: true } } as const;

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const toast = useToast();
  const toastRef = useRef(toast);
  toastRef.current = toast;
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 15_000,
            refetchOnWindowFocus: true,
            // 4xx are answers, not glitches: do not retry them.
            retry: (n, e) => !(isTRPCError(e) && (e.data?.httpStatus ?? 500) < 500) && n < 2,
          },
        },
        queryCache: new QueryCache({
          onError: (e) => {
            if (unauthorized(e)) goToLogin();
          },
        }),
        mutationCache: new MutationCache({
          onError: (e, _v, _c, m) => {
            if (unauthorized(e)) return goToLogin();
            if (!m.meta?.quiet) toastRef.current.error(failureTitle(e), e.message);
          },
        }),
      }),
  );
  const [trpcClient] = useState(() => createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: '/api/trpc' })] }));
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
