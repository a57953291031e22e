'use client';
import { Icon } from '../icons';
import { Button, Input } from '../ui';

/* Key/value editing shared by the admin panels (flavor extra specs, aggregate metadata). */

export interface SpecRow {
  key: string;
  value: string;
}

/** Rows → a key/value map, or a message saying what is wrong (empty or repeated keys, too long). */
export function specsOf(rows: SpecRow[], noun = 'extra spec'): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (!key && !r.value.trim()) continue;
    if (!key) return `Every ${noun} needs a key.`;
    if (key.length > 255 || r.value.length > 255) return 'Keys and values are at most 255 characters.';
    if (key in out) return `The ${noun} ${key} is given twice.`;
    out[key] = r.value.trim();
  }
  return out;
}

/** Key/value rows, added and removed in place (e.g. hw:cpu_policy = dedicated). */
export function SpecRows({
  rows,
  onChange,
  noun = 'Extra spec',
  legend = 'Extra specs',
  placeholder = 'key, e.g. hw:cpu_policy',
}: {
  rows: SpecRow[];
  onChange: (rows: SpecRow[]) => void;
  noun?: string;
  legend?: string;
  placeholder?: string;
}) {
  const edit = (i: number, patch: Partial<SpecRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700 dark:text-slate-200">{legend}</legend>
      {rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity until saved
        <div key={i} className="flex items-center gap-2">
          <Input
            aria-label={`${noun} ${i + 1} key`}
            placeholder={placeholder}
            value={r.key}
            onChange={(e) => edit(i, { key: e.target.value })}
          />
          <span className="text-slate-400">=</span>
          <Input
            aria-label={`${noun} ${i + 1} value`}
            placeholder="value"
            value={r.value}
            onChange={(e) => edit(i, { value: e.target.value })}
          />
          <Button
            variant="ghost"
            aria-label={`Remove ${noun.toLowerCase()} ${i + 1}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            <Icon name="trash" className="size-4" />
          </Button>
        </div>
      ))}
      <Button onClick={() => onChange([...rows, { key: '', value: '' }])}>
        <Icon name="plus" className="size-4" /> Add {noun.toLowerCase()}
      </Button>
    </fieldset>
  );
}
