'use client';
import { useSession } from 'next-auth/react';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { formatBytes } from '../compute/status';
import { Button } from '../ui';
import { objectUrl } from './paths';

/*
 * Uploads from the browser straight to the Swift API (PUT /object-store/v1/AUTH_…/c/o)
 * with the session's Keystone token: the bytes stream through the proxy to the object
 * servers and never sit in the web server's memory. XMLHttpRequest, not fetch: only it
 * reports upload progress. A few files go at once, each with its own bar and Cancel.
 */
const PARALLEL = 3;

export interface UploadItem {
  id: number;
  file: File;
  container: string;
  object: string;
  loaded: number;
  status: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  error?: string;
}

let seq = 0;

/** Swift's error bodies are short HTML pages or plain text: the readable part. */
function swiftMessage(status: number, text: string): string {
  const h1 = /<h1>([^<]*)<\/h1>\s*<p>([^<]*)<\/p>/i.exec(text);
  const msg = h1 ? `${h1[1]}: ${h1[2]}` : text.replace(/<[^>]+>/g, ' ').trim();
  if (status === 413) return 'Upload exceeds quota.';
  return msg || `The upload failed (HTTP ${status}).`;
}

function useUploadQueue() {
  const session = useSession();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [accountPath, setAccountPath] = useState<string | undefined>();
  const xhrs = useRef(new Map<number, XMLHttpRequest>());
  const onUploadedRef = useRef<() => void>(() => {});
  const token = session.data?.tokenId;

  const patch = useCallback((id: number, p: Partial<UploadItem>) => {
    setItems((xs) => xs.map((x) => (x.id === id ? { ...x, ...p } : x)));
  }, []);

  const start = useCallback(
    (item: UploadItem) => {
      if (!accountPath || !token) {
        patch(item.id, { status: 'failed', error: 'Your session has no token; sign in again.' });
        return;
      }
      const xhr = new XMLHttpRequest();
      xhrs.current.set(item.id, xhr);
      xhr.open('PUT', objectUrl(accountPath, item.container, item.object));
      xhr.setRequestHeader('X-Auth-Token', token);
      // No type from the browser: let the server guess from the name, as swift upload does.
      if (!item.file.type) xhr.setRequestHeader('X-Detect-Content-Type', 'true');
      xhr.upload.onprogress = (e) => patch(item.id, { loaded: e.loaded });
      xhr.onload = () => {
        xhrs.current.delete(item.id);
        if (xhr.status >= 200 && xhr.status < 300) {
          patch(item.id, { status: 'done', loaded: item.file.size });
          onUploadedRef.current();
        } else patch(item.id, { status: 'failed', error: swiftMessage(xhr.status, xhr.responseText) });
      };
      xhr.onerror = () => {
        xhrs.current.delete(item.id);
        patch(item.id, { status: 'failed', error: 'The upload was interrupted (network error).' });
      };
      xhr.onabort = () => {
        xhrs.current.delete(item.id);
        patch(item.id, { status: 'cancelled' });
      };
      patch(item.id, { status: 'uploading' });
      xhr.send(item.file);
    },
    [accountPath, token, patch],
  );

  // Start queued files while fewer than PARALLEL are running.
  useEffect(() => {
    const running = items.filter((x) => x.status === 'uploading').length;
    const queued = items.filter((x) => x.status === 'queued').slice(0, Math.max(0, PARALLEL - running));
    for (const q of queued) start(q);
  }, [items, start]);

  // Leaving the object store ends the uploads it started; closing the tab asks first.
  useEffect(() => {
    const map = xhrs.current;
    const warn = (e: BeforeUnloadEvent) => {
      if (map.size > 0) e.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => {
      window.removeEventListener('beforeunload', warn);
      for (const x of map.values()) x.abort();
    };
  }, []);

  const add = useCallback((files: File[], container: string, prefix: string) => {
    const next = files.map<UploadItem>((file) => ({
      id: ++seq,
      file,
      container,
      object: `${prefix}${file.name}`,
      loaded: 0,
      status: 'queued',
    }));
    setItems((xs) => [...xs, ...next]);
  }, []);

  const cancel = useCallback((id: number) => {
    const x = xhrs.current.get(id);
    if (x) x.abort();
    else setItems((xs) => xs.map((i) => (i.id === id && i.status === 'queued' ? { ...i, status: 'cancelled' } : i)));
  }, []);

  const cancelAll = useCallback(() => {
    setItems((xs) => xs.map((i) => (i.status === 'queued' ? { ...i, status: 'cancelled' } : i)));
    for (const x of xhrs.current.values()) x.abort();
  }, []);

  const clearFinished = useCallback(
    () => setItems((xs) => xs.filter((i) => i.status === 'queued' || i.status === 'uploading')),
    [],
  );

  /** The browser shown tells where uploads go and what to refresh when one ends. */
  const bind = useCallback((path: string | undefined, onUploaded: () => void) => {
    setAccountPath(path);
    onUploadedRef.current = onUploaded;
  }, []);

  return { items, add, cancel, cancelAll, clearFinished, bind };
}

type UploadQueue = ReturnType<typeof useUploadQueue>;
const UploadsContext = createContext<UploadQueue | null>(null);

/**
 * Holds the upload queue above the pages of the object store (in its layout), so uploads
 * carry on while the user moves between folders and containers.
 */
export function UploadsProvider({ children }: { children: ReactNode }) {
  const queue = useUploadQueue();
  return <UploadsContext.Provider value={queue}>{children}</UploadsContext.Provider>;
}

export function useUploads({ accountPath, onUploaded }: { accountPath: string | undefined; onUploaded: () => void }) {
  const queue = useContext(UploadsContext);
  if (!queue) throw new Error('useUploads needs an UploadsProvider (the object store layout)');
  const { bind } = queue;
  const onUploadedRef = useRef(onUploaded);
  onUploadedRef.current = onUploaded;
  useEffect(() => bind(accountPath, () => onUploadedRef.current()), [bind, accountPath]);
  return queue;
}

const TONE: Record<UploadItem['status'], string> = {
  queued: 'bg-slate-400',
  uploading: 'bg-sky-500',
  done: 'bg-emerald-500',
  failed: 'bg-rose-500',
  cancelled: 'bg-slate-400',
};

export function UploadList({
  items,
  container,
  onCancel,
  onCancelAll,
  onClear,
}: {
  items: UploadItem[];
  /** The container shown: uploads into others are named with their container. */
  container: string;
  onCancel: (id: number) => void;
  onCancelAll: () => void;
  onClear: () => void;
}) {
  if (items.length === 0) return null;
  const active = items.some((i) => i.status === 'queued' || i.status === 'uploading');
  const done = items.filter((i) => i.status === 'done').length;
  return (
    <section
      aria-label="Uploads"
      className="mb-4 rounded-xl border border-slate-200 bg-white shadow-xs dark:border-slate-800 dark:bg-slate-900"
    >
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
        <h2 className="text-sm font-semibold">
          Uploads{' '}
          <span className="font-normal text-slate-500">
            · {done} of {items.length} done
          </span>
        </h2>
        <div className="flex gap-2">
          {active && <Button onClick={onCancelAll}>Cancel all</Button>}
          {!active && <Button onClick={onClear}>Clear</Button>}
        </div>
      </header>
      <ul className="divide-y divide-slate-100 dark:divide-slate-800/70">
        {items.map((i) => {
          const pct = i.file.size ? Math.min(100, Math.round((i.loaded / i.file.size) * 100)) : 100;
          const shown = i.status === 'done' ? 100 : i.status === 'uploading' || i.status === 'failed' ? pct : 0;
          return (
            <li key={i.id} className="space-y-1.5 px-4 py-2.5" data-testid="upload-item" data-status={i.status}>
              <div className="flex items-center justify-between gap-3 text-sm">
                <span className="truncate font-medium" title={`${i.container}/${i.object}`}>
                  {i.container === container ? i.object : `${i.container}/${i.object}`}
                </span>
                <span className="flex shrink-0 items-center gap-3 text-xs text-slate-500 dark:text-slate-400">
                  <span className="tabular-nums">
                    {i.status === 'uploading'
                      ? `${formatBytes(i.loaded)} of ${formatBytes(i.file.size)} · ${pct}%`
                      : i.status === 'done'
                        ? `${formatBytes(i.file.size)} · done`
                        : i.status}
                  </span>
                  {(i.status === 'queued' || i.status === 'uploading') && (
                    <button
                      type="button"
                      className="text-rose-600 hover:underline"
                      aria-label={`Cancel upload of ${i.object}`}
                      onClick={() => onCancel(i.id)}
                    >
                      Cancel
                    </button>
                  )}
                </span>
              </div>
              <div
                role="progressbar"
                aria-label={`Upload of ${i.object}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={shown}
                className="h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
              >
                <div
                  className={`h-full rounded-full transition-[width] duration-200 ${TONE[i.status]}`}
                  style={{ width: `${shown}%` }}
                />
              </div>
              {i.error && (
                <p role="alert" className="text-xs text-rose-600 dark:text-rose-400">
                  {i.error}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
