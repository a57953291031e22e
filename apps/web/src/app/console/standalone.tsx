import type { ReactNode } from 'react';

/** Frame of the standalone console pages (the URLs `openstack console url show` prints). */
export function StandaloneConsole({ title, token, children }: { title: string; token: string; children: ReactNode }) {
  return (
    <main className="flex min-h-screen flex-col gap-3 p-3">
      <h1 className="text-sm font-semibold">{title}</h1>
      {token ? (
        children
      ) : (
        <p className="text-sm">This console link has no token. Open a new console from the instance page or with `openstack console url show`.</p>
      )}
      <p className="text-xs text-slate-500">
        A console link works once and for a few minutes. To reconnect, open a new console from the instance page.
      </p>
    </main>
  );
}

export function tokenOf(sp: Record<string, string | string[] | undefined>): string {
  const t = sp.token;
  return typeof t === 'string' ? t : '';
}
