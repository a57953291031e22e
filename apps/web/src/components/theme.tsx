'use client';
import { useEffect, useState } from 'react';
import { type AnyIcon, Icon } from './icons';

type Theme = 'light' | 'dark' | 'system';
const KEY = 'stratus-theme';

/** Runs before the first paint (inlined in <head>) so a dark page never flashes white. */
export const themeScript = `(function(){try{var t=localStorage.getItem('${KEY}')||'system';var d=t==='dark'||(t==='system'&&matchMedia('(prefers-color-scheme: dark)').matches);document.documentElement.classList.toggle('dark',d);document.documentElement.style.colorScheme=d?'dark':'light'}catch(e){}})()`;

function apply(theme: Theme) {
  const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.classList.toggle('dark', dark);
  document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
}

const OPTIONS: Array<{ value: Theme; label: string; icon: AnyIcon }> = [
  { value: 'light', label: 'Light', icon: 'sun' },
  { value: 'dark', label: 'Dark', icon: 'moon' },
  { value: 'system', label: 'System', icon: 'monitor' },
];

/** Light / dark / follow the system; remembered in this browser. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>('system');
  useEffect(() => {
    const saved = localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') setTheme(saved);
  }, []);
  useEffect(() => {
    if (theme !== 'system') return;
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => apply('system');
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [theme]);
  const choose = (t: Theme) => {
    setTheme(t);
    localStorage.setItem(KEY, t);
    apply(t);
  };
  return (
    <fieldset aria-label="Theme" className="inline-flex rounded-lg border-0 bg-slate-100 p-0.5 dark:bg-slate-800">
      {OPTIONS.map((o) => (
        <button
          key={o.value}
          type="button"
          aria-pressed={theme === o.value}
          aria-label={o.label}
          title={o.label}
          onClick={() => choose(o.value)}
          className={`rounded-md p-1.5 ${theme === o.value ? 'bg-white text-slate-900 shadow-xs dark:bg-slate-700 dark:text-white' : 'text-slate-500 hover:text-slate-800 dark:hover:text-slate-200'}`}
        >
          <Icon name={o.icon} className="size-4" />
        </button>
      ))}
    </fieldset>
  );
}
