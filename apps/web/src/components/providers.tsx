'use client';
import { SessionProvider } from 'next-auth/react';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '@/lib/trpc';
import { ToastProvider } from './toast';

export function Providers({ children }: { children: ReactNode }) {
  return (
    <ToastProvider>
      {/* Polling the session is what renews the Keystone token before it expires. */}
      <SessionProvider refetchInterval={5 * 60} refetchOnWindowFocus>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </SessionProvider>
    </ToastProvider>
  );
}
