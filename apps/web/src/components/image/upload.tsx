'use client';
import { useMutation } from '@tanstack/react-query';
import { useSession } from 'next-auth/react';
import { useEffect, useRef, useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { formatBytes } from '../compute/status';
import { Modal } from '../modal';
import { useToast } from '../toast';
import { Button, Field, FormError, Input, Select } from '../ui';

const FORMATS = ['qcow2', 'raw', 'iso', 'vmdk', 'vdi', 'vhd', 'vhdx'] as const;
type Format = (typeof FORMATS)[number];

/** The disk format a file name suggests (qemu-img checks the real one on upload). */
function guessFormat(name: string): Format {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (ext === 'img' || ext === 'raw') return 'raw';
  return (FORMATS as readonly string[]).includes(ext) ? (ext as Format) : 'qcow2';
}

interface Progress {
  loaded: number;
  total: number;
  startedAt: number;
}

/**
 * PUT the bytes to the image API with the session's Keystone token. XMLHttpRequest,
 * not fetch: only it reports upload progress.
 */
function putFile(
  url: string,
  token: string,
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal: AbortSignal,
) {
  return new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('X-Auth-Token', token);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      // Glance-style error bodies carry the message; show it as is.
      let msg = xhr.responseText;
      try {
        const body = JSON.parse(xhr.responseText) as Record<string, unknown>;
        const first = Object.values(body)[0];
        if (first && typeof first === 'object' && 'message' in first && typeof first.message === 'string')
          msg = first.message;
        else if (typeof body.message === 'string') msg = body.message;
      } catch {
        // not JSON: keep the text
      }
      reject(new Error(msg.trim() || `The upload failed (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new Error('The upload was interrupted (network error).'));
    xhr.onabort = () => reject(new Error('The upload was cancelled.'));
    signal.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

export function UploadImageDialog({
  open,
  onClose,
  canPublicize,
}: {
  open: boolean;
  onClose: () => void;
  canPublicize: boolean;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const session = useSession();
  const create = useMutation(trpc.image.images.create.mutationOptions(QUIET));
  const remove = useMutation(trpc.image.images.delete.mutationOptions(QUIET));
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [format, setFormat] = useState<Format>('qcow2');
  const [visibility, setVisibility] = useState<'private' | 'shared' | 'public'>('private');
  const [minDisk, setMinDisk] = useState('');
  const [minRam, setMinRam] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [phase, setPhase] = useState<'idle' | 'creating' | 'uploading' | 'checking'>('idle');
  const abort = useRef<AbortController | null>(null);
  useEffect(() => {
    if (!open) return;
    setFile(null);
    setName('');
    setFormat('qcow2');
    setVisibility('private');
    setMinDisk('');
    setMinRam('');
    setError(null);
    setProgress(null);
    setPhase('idle');
  }, [open]);

  const pick = (f: File | null) => {
    setFile(f);
    if (f) {
      setFormat(guessFormat(f.name));
      if (!name) setName(f.name.replace(/\.(qcow2|img|raw|iso|vmdk|vdi|vhdx?)$/i, ''));
    }
  };

  const busy = phase !== 'idle';
  const submit = async () => {
    if (!file) return setError('Choose a file to upload.');
    if (!name.trim()) return setError('Give the image a name.');
    const token = session.data?.tokenId;
    if (!token) return setError('Your session has no token; sign in again.');
    setError(null);
    setPhase('creating');
    let imageId: string | null = null;
    try {
      const img = await create.mutateAsync({
        name: name.trim(),
        diskFormat: format,
        containerFormat: 'bare',
        visibility,
        ...(minDisk ? { minDisk: Number(minDisk) } : {}),
        ...(minRam ? { minRam: Number(minRam) } : {}),
      });
      imageId = img.id;
      await invalidate(trpc.image.images.pathKey());
      setPhase('uploading');
      setProgress({ loaded: 0, total: file.size, startedAt: Date.now() });
      abort.current = new AbortController();
      await putFile(
        `/image/v2/images/${img.id}/file`,
        token,
        file,
        (loaded, total) => setProgress((p) => ({ loaded, total, startedAt: p?.startedAt ?? Date.now() })),
        abort.current.signal,
      );
      setPhase('checking');
      await invalidate(trpc.image.images.pathKey());
      toast.success(`Image ${name.trim()} uploaded`, `${formatBytes(file.size)}; it is ready to launch from.`);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      // A record without data is useless: remove it, so the list does not keep a queued ghost.
      if (imageId) await remove.mutateAsync({ imageId }).catch(() => {});
      await invalidate(trpc.image.images.pathKey());
      setPhase('idle');
      setProgress(null);
    } finally {
      abort.current = null;
    }
  };

  const pct = progress?.total ? Math.min(100, Math.round((progress.loaded / progress.total) * 100)) : 0;
  const secs = progress ? (Date.now() - progress.startedAt) / 1000 : 0;
  const rate = progress && secs > 0.2 ? progress.loaded / secs : 0;
  return (
    <Modal
      open={open}
      title="Upload image"
      description="The file goes straight to the image store; its format is checked on arrival."
      onClose={() => {
        abort.current?.abort();
        onClose();
      }}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button
            onClick={() => {
              abort.current?.abort();
              onClose();
            }}
          >
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            {phase === 'uploading' ? 'Uploading…' : phase === 'checking' ? 'Checking…' : 'Upload'}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <Field
        label="File"
        htmlFor="image-file"
        hint={file ? `${file.name} · ${formatBytes(file.size)}` : 'qcow2, raw, ISO, VMDK, VDI, VHD(X).'}
      >
        <Input id="image-file" type="file" disabled={busy} onChange={(e) => pick(e.target.files?.[0] ?? null)} />
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Image name" htmlFor="image-name">
          <Input id="image-name" value={name} disabled={busy} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Disk format" htmlFor="image-format">
          <Select
            id="image-format"
            value={format}
            disabled={busy}
            onChange={(e) => setFormat(guessFormat(`x.${e.target.value}`))}
          >
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Visibility" htmlFor="image-visibility">
          <Select
            id="image-visibility"
            value={visibility}
            disabled={busy}
            onChange={(e) =>
              setVisibility(e.target.value === 'public' ? 'public' : e.target.value === 'shared' ? 'shared' : 'private')
            }
          >
            <option value="private">Private (this project)</option>
            <option value="shared">Shared (with members)</option>
            {canPublicize && <option value="public">Public (every project)</option>}
          </Select>
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field label="Min disk (GB)" htmlFor="image-min-disk">
            <Input
              id="image-min-disk"
              type="number"
              min={0}
              value={minDisk}
              disabled={busy}
              onChange={(e) => setMinDisk(e.target.value)}
            />
          </Field>
          <Field label="Min RAM (MB)" htmlFor="image-min-ram">
            <Input
              id="image-min-ram"
              type="number"
              min={0}
              value={minRam}
              disabled={busy}
              onChange={(e) => setMinRam(e.target.value)}
            />
          </Field>
        </div>
      </div>
      {progress && (
        <div className="space-y-1.5" data-testid="upload-progress">
          <div className="flex justify-between text-xs text-slate-600 dark:text-slate-300">
            <span>
              {phase === 'checking'
                ? 'Checking the image…'
                : `${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`}
              {rate > 0 && phase === 'uploading' ? ` · ${formatBytes(rate)}/s` : ''}
            </span>
            <span className="tabular-nums">{pct}%</span>
          </div>
          <div
            role="progressbar"
            aria-label="Upload progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            className="h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
          >
            <div
              className="h-full rounded-full bg-sky-500 transition-[width] duration-200"
              style={{ width: `${pct}%` }}
            />
          </div>
        </div>
      )}
    </Modal>
  );
}
