'use client';
import { useEffect } from 'react';
import { goToLogin } from '@/lib/trpc';
import { Spinner } from './ui';

/** Signed out (or the token was revoked): back to the sign-in page, returning here after. */
export function RedirectToLogin() {
  useEffect(() => goToLogin(), []);
  return (
    <div className="flex min-h-screen items-center justify-center gap-2 text-sm text-slate-500">
      <Spinner /> Redirecting to sign in…
    </div>
  );
}
