'use client';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { Icon } from './icons';

/*
 * Toasts. Errors stay until dismissed (a message people can act on should not vanish
 * while they read it); confirmations fade after a few seconds.
 */
type Kind = 'error' | 'success' | 'info';
interface Toast {
  id: number;
  kind: Kind;
  title: string;
  message?: string;
}
interface ToastApi {
  error(title: string, message?: string): void;
  success(title: string, message?: string): void;
  info(title: string, message?: string): void;
}

const Ctx = createContext<ToastApi | null>(null);
let seq = 0;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (kind: Kind, title: string, message?: string) => {
      const id = ++seq;
      // The same error repeated replaces itself instead of stacking up.
      setToasts((ts) =>
        [
          ...ts.filter((t) => !(t.kind === kind && t.title === title && t.message === message)),
          { id, kind, title, message },
        ].slice(-5),
      );
      if (kind !== 'error') setTimeout(() => dismiss(id), 4000);
    },
    [dismiss],
  );
  const api = useMemo<ToastApi>(
    () => ({
      error: (t, m) => push('error', t, m),
      success: (t, m) => push('success', t, m),
      info: (t, m) => push('info', t, m),
    }),
    [push],
  );
  return (
    <Ctx.Provider value={api}>
      {children}
      <div
        aria-live="polite"
        className="pointer-events-none fixed inset-x-0 bottom-0 z-[60] flex flex-col items-center gap-2 p-4 sm:items-end"
      >
        {toasts.map((t) => (
          <div
            key={t.id}
            role={t.kind === 'error' ? 'alert' : 'status'}
            data-testid={`toast-${t.kind}`}
            className="pointer-events-auto flex w-full max-w-sm items-start gap-3 rounded-xl border border-slate-200 bg-white p-4 shadow-lg shadow-slate-900/5 dark:border-slate-700 dark:bg-slate-900"
          >
            <span
              className={
                t.kind === 'error' ? 'text-rose-600' : t.kind === 'success' ? 'text-emerald-600' : 'text-sky-600'
              }
            >
              <Icon name={t.kind === 'error' ? 'alert' : t.kind === 'success' ? 'check' : 'info'} />
            </span>
            <div className="min-w-0 flex-1">
              <p className="text-sm font-medium">{t.title}</p>
              {t.message && <p className="mt-1 break-words text-sm text-slate-600 dark:text-slate-300">{t.message}</p>}
            </div>
            <button
              type="button"
              onClick={() => dismiss(t.id)}
              aria-label="Dismiss"
              className="rounded p-0.5 text-slate-400 hover:text-slate-700 dark:hover:text-slate-200"
            >
              <Icon name="close" className="size-4" />
            </button>
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}

export function useToast(): ToastApi {
  const api = useContext(Ctx);
  if (!api) throw new Error('useToast outside ToastProvider');
  return api;
}
