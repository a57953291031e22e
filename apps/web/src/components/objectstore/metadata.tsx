'use client';
import { useEffect, useState } from 'react';
import { Icon } from '../icons';
import { FormDialog } from '../modal';
import { Button, Input } from '../ui';

/*
 * A key/value editor for X-Container-Meta-* / X-Object-Meta-*. Names are what follows the
 * prefix (case-insensitive, stored lower-case as Swift does); the caller saves the rows.
 */
interface Row {
  key: number;
  name: string;
  value: string;
}
let seq = 0;
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

export function MetadataDialog({
  open,
  title,
  description,
  prefix,
  initial,
  loading,
  onClose,
  onSave,
}: {
  open: boolean;
  title: string;
  description?: string;
  /** "X-Object-Meta-" or "X-Container-Meta-": shown before each name. */
  prefix: string;
  initial: Record<string, string> | undefined;
  loading?: boolean;
  onClose: () => void;
  /** The full new set; `removed` are names that were there before and are gone now. */
  onSave: (meta: Record<string, string>, removed: string[]) => Promise<void>;
}) {
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!open) return;
    setError(null);
    setBusy(false);
    setRows(Object.entries(initial ?? {}).map(([name, value]) => ({ key: ++seq, name, value })));
  }, [open, initial]);

  const save = async () => {
    const meta: Record<string, string> = {};
    for (const r of rows) {
      const name = r.name.trim().toLowerCase();
      if (!name && !r.value) continue;
      if (!NAME_RE.test(name)) return setError(`“${r.name}” is not a valid name: use letters, digits, "-", "_", ".".`);
      if (name in meta) return setError(`“${name}” appears twice.`);
      if (!r.value) return setError(`Give “${name}” a value, or remove the row.`);
      meta[name] = r.value;
    }
    const removed = Object.keys(initial ?? {}).filter((k) => !(k in meta));
    setBusy(true);
    setError(null);
    try {
      await onSave(meta, removed);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <FormDialog
      open={open}
      title={title}
      description={description}
      size="lg"
      onClose={onClose}
      onSubmit={() => void save()}
      submitLabel="Save"
      busy={busy}
      submitDisabled={loading}
      error={error}
    >
      {loading ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : (
        <div className="space-y-2">
          {rows.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No metadata yet.</p>}
          {rows.map((r, i) => (
            <div key={r.key} className="flex items-center gap-2" data-testid="meta-row">
              <span className="hidden shrink-0 text-xs text-slate-500 sm:inline">{prefix}</span>
              <Input
                aria-label={`Metadata name ${i + 1}`}
                placeholder="name"
                value={r.name}
                onChange={(e) => setRows((xs) => xs.map((x) => (x.key === r.key ? { ...x, name: e.target.value } : x)))}
              />
              <Input
                aria-label={`Metadata value ${i + 1}`}
                placeholder="value"
                value={r.value}
                onChange={(e) =>
                  setRows((xs) => xs.map((x) => (x.key === r.key ? { ...x, value: e.target.value } : x)))
                }
              />
              <Button
                variant="ghost"
                aria-label={`Remove metadata ${r.name || i + 1}`}
                onClick={() => setRows((xs) => xs.filter((x) => x.key !== r.key))}
              >
                <Icon name="trash" className="size-4" />
              </Button>
            </div>
          ))}
          <Button onClick={() => setRows((xs) => [...xs, { key: ++seq, name: '', value: '' }])}>
            <Icon name="plus" className="size-4" /> Add metadata
          </Button>
        </div>
      )}
    </FormDialog>
  );
}
