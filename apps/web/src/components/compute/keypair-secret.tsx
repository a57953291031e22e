'use client';
import { useEffect, useState } from 'react';
import { Icon } from '../icons';
import { Button } from '../ui';

/** A freshly generated private key: shown once, with a download; Stratus does not keep it. */
export function PrivateKeyOnce({ name, privateKey }: { name: string; privateKey: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([privateKey], { type: 'application/x-pem-file' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [privateKey]);
  return (
    <div className="space-y-2 rounded-lg border border-amber-300 bg-amber-50 p-3 dark:border-amber-500/40 dark:bg-amber-500/10">
      <p className="text-sm text-amber-900 dark:text-amber-200">
        This is the only time the private key of <strong>{name}</strong> is shown. Download it now; Stratus keeps only
        the public key.
      </p>
      <pre
        data-testid="private-key"
        className="max-h-32 overflow-auto rounded-md bg-white p-2 font-mono text-[11px] leading-tight text-slate-700 dark:bg-slate-950 dark:text-slate-300"
      >
        {privateKey}
      </pre>
      {url && (
        <a href={url} download={`${name}.pem`}>
          <Button variant="primary" tabIndex={-1}>
            <Icon name="download" className="size-4" /> Download {name}.pem
          </Button>
        </a>
      )}
    </div>
  );
}
