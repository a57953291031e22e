import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Icon } from '@/components/icons';
import { currentAuth } from '@/server/auth';
import { LoginForm } from './login-form';

export const metadata: Metadata = { title: 'Sign in' };

/** Only same-site paths: never send a signed-in user to another origin. */
function safeReturnTo(v: string | string[] | undefined): string {
  const s = typeof v === 'string' ? v : '';
  return s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/login') ? s : '/project';
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const sp = await searchParams;
  const returnTo = safeReturnTo(sp.returnTo);
  if (await currentAuth()) redirect(returnTo);
  return (
    <main className="relative flex min-h-screen items-center justify-center overflow-hidden px-4 py-12">
      <div
        aria-hidden="true"
        className="pointer-events-none absolute inset-0 bg-[radial-gradient(60rem_30rem_at_50%_-10%,rgba(14,165,233,0.18),transparent)] dark:bg-[radial-gradient(60rem_30rem_at_50%_-10%,rgba(56,189,248,0.15),transparent)]"
      />
      <div className="relative w-full max-w-sm">
        <div className="mb-8 flex flex-col items-center text-center">
          <span className="grid size-11 place-items-center rounded-xl bg-gradient-to-br from-sky-500 to-indigo-600 text-white shadow-lg shadow-sky-600/20">
            <Icon name="cloud" className="size-6" />
          </span>
          <h1 className="mt-4 text-2xl font-semibold tracking-tight">Sign in to Stratus</h1>
          <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">Use your cloud user name and password.</p>
        </div>
        <LoginForm returnTo={returnTo} expired={sp.expired === '1'} failed={typeof sp.error === 'string'} />
      </div>
    </main>
  );
}
