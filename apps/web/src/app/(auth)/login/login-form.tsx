'use client';
import { signIn } from 'next-auth/react';
import { useState } from 'react';
import { Icon } from '@/components/icons';
import { Button, Field, Input } from '@/components/ui';

export function LoginForm({ returnTo, expired, failed }: { returnTo: string; expired: boolean; failed: boolean }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [domain, setDomain] = useState('Default');
  const [showDomain, setShowDomain] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(failed ? 'Sign-in failed. Try again.' : null);
  const [missing, setMissing] = useState<{ username?: boolean; password?: boolean }>({});

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const m = { username: !username.trim(), password: !password };
    setMissing(m);
    if (m.username || m.password) return;
    setBusy(true);
    setError(null);
    try {
      const res = await signIn('credentials', { username, password, domain, redirect: false });
      if (res?.ok && !res.error) {
        window.location.assign(returnTo);
        return;
      }
      // One message for every refusal: it must not tell which users exist.
      setError(
        res?.error === 'CredentialsSignin'
          ? 'The user name or password is incorrect, or the account is disabled or locked.'
          : 'Sign-in is unavailable right now. Try again in a moment.',
      );
    } catch {
      setError('Cannot reach Stratus. Check your connection and try again.');
    }
    setBusy(false);
    setPassword('');
  };

  return (
    <form
      noValidate
      onSubmit={submit}
      className="space-y-5 rounded-2xl border border-slate-200 bg-white p-6 shadow-xl shadow-slate-900/5 dark:border-slate-800 dark:bg-slate-900"
    >
      {expired && !error && (
        <p className="flex items-start gap-2 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-500/10 dark:text-amber-300">
          <Icon name="info" className="mt-0.5 size-4 shrink-0" /> Your session ended. Sign in again to continue.
        </p>
      )}
      {error && (
        <p
          role="alert"
          data-testid="login-error"
          className="flex items-start gap-2 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300"
        >
          <Icon name="alert" className="mt-0.5 size-4 shrink-0" /> {error}
        </p>
      )}
      <Field label="User name" htmlFor="username" errors={missing.username ? ['Enter your user name.'] : undefined}>
        <Input
          id="username"
          name="username"
          autoComplete="username"
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          aria-invalid={missing.username || undefined}
        />
      </Field>
      <Field label="Password" htmlFor="password" errors={missing.password ? ['Enter your password.'] : undefined}>
        <Input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={missing.password || undefined}
        />
      </Field>
      {showDomain ? (
        <Field label="Domain" htmlFor="domain" hint="The identity domain of your user (name or ID).">
          <Input id="domain" name="domain" value={domain} onChange={(e) => setDomain(e.target.value)} />
        </Field>
      ) : (
        <button
          type="button"
          onClick={() => setShowDomain(true)}
          className="text-xs text-slate-500 underline-offset-2 hover:text-slate-800 hover:underline dark:hover:text-slate-200"
        >
          Not in the Default domain?
        </button>
      )}
      <Button type="submit" variant="primary" busy={busy} className="w-full py-2">
        Sign in
      </Button>
    </form>
  );
}
