'use client';
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';

/** A dropdown menu: opens on click, closes on outside click, Escape or choosing an item. */
export function Menu({
  button,
  label,
  children,
  align = 'right',
  buttonClassName = '',
}: {
  button: ReactNode;
  label: string;
  children: (close: () => void) => ReactNode;
  align?: 'left' | 'right';
  buttonClassName?: string;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  return (
    <div ref={ref} className="relative">
      <button
        type="button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((o) => !o)}
        className={buttonClassName}
      >
        {button}
      </button>
      {open && (
        <div
          id={id}
          role="menu"
          className={`absolute z-40 mt-2 min-w-56 overflow-hidden rounded-xl border border-slate-200 bg-white py-1 shadow-lg shadow-slate-900/10 dark:border-slate-700 dark:bg-slate-900 ${align === 'right' ? 'right-0' : 'left-0'}`}
        >
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}

export function MenuItem({
  onSelect,
  href,
  download,
  danger,
  children,
}: {
  onSelect?: () => void;
  href?: string;
  download?: boolean;
  danger?: boolean;
  children: ReactNode;
}) {
  const cls = `flex w-full items-center gap-2 px-3 py-2 text-left text-sm ${danger ? 'text-rose-600 dark:text-rose-400' : 'text-slate-700 dark:text-slate-200'} hover:bg-slate-100 focus:bg-slate-100 focus:outline-none dark:hover:bg-slate-800 dark:focus:bg-slate-800`;
  if (href)
    return (
      <a role="menuitem" href={href} download={download} onClick={onSelect} className={cls}>
        {children}
      </a>
    );
  return (
    <button type="button" role="menuitem" onClick={onSelect} className={cls}>
      {children}
    </button>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <div className="px-3 pt-2 pb-1 text-xs font-medium uppercase tracking-wide text-slate-400">{children}</div>;
}
export function MenuDivider() {
  return <div className="my-1 border-t border-slate-200 dark:border-slate-800" />;
}
