'use client';
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { Icon } from './icons';
import { useToast } from './toast';
import { Button, FormError } from './ui';

/**
 * A modal on the native <dialog>: focus is trapped, Escape closes, the page behind is
 * inert. `onSubmit` makes the body a form, so Enter submits.
 */
export function Modal({
  open,
  title,
  description,
  onClose,
  onSubmit,
  children,
  footer,
  size = 'md',
}: {
  open: boolean;
  title: string;
  description?: string;
  onClose: () => void;
  onSubmit?: (e: FormEvent<HTMLFormElement>) => void;
  children: ReactNode;
  footer?: ReactNode;
  size?: 'md' | 'lg';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      // React's autoFocus ran while the dialog was still closed (nothing in it can take
      // focus then), so showModal would leave focus on the header's Close button: focus
      // the first field instead, or the primary button of a dialog without fields.
      const first =
        d.querySelector<HTMLElement>(
          'input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])',
        ) ?? d.querySelector<HTMLElement>('footer button[type=submit]:not([disabled])');
      first?.focus();
    }
    if (!open && d.open) d.close();
  }, [open]);
  const body = (
    <>
      <header className="flex items-start justify-between gap-4 border-b border-slate-200 px-6 py-4 dark:border-slate-800">
        <div>
          <h2 className="text-base font-semibold">{title}</h2>
          {description && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{description}</p>}
        </div>
        <button
          type="button"
          onClick={onClose}
          aria-label="Close"
          className="rounded p-1 text-slate-400 hover:text-slate-700 dark:hover:text-slate-200"
        >
          <Icon name="close" className="size-5" />
        </button>
      </header>
      <div className="space-y-4 px-6 py-5">{children}</div>
      {footer && (
        <footer className="flex justify-end gap-2 border-t border-slate-200 bg-slate-50 px-6 py-3 dark:border-slate-800 dark:bg-slate-900/60">
          {footer}
        </footer>
      )}
    </>
  );
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={`m-auto w-[calc(100%-2rem)] ${size === 'lg' ? 'max-w-2xl' : 'max-w-lg'} overflow-hidden rounded-2xl bg-white p-0 text-slate-900 shadow-2xl backdrop:bg-slate-950/50 backdrop:backdrop-blur-[2px] dark:bg-slate-900 dark:text-slate-100`}
    >
      {open &&
        (onSubmit ? (
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              onSubmit(e);
            }}
          >
            {body}
          </form>
        ) : (
          body
        ))}
    </dialog>
  );
}

/** "Are you sure?" for destructive actions; names the thing being destroyed. */
export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel = 'Delete',
  busy,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal
      open={open}
      title={title}
      onClose={onClose}
      onSubmit={onConfirm}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="danger" busy={busy} autoFocus>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="text-sm text-slate-600 dark:text-slate-300">{message}</div>
    </Modal>
  );
}

/**
 * A ConfirmDialog for `target` (open while it is set) that runs `action`, says `done`,
 * closes, then runs `refresh` (cache invalidation). A failure keeps it open: the
 * mutation's own toast shows the server's message.
 */
export function ConfirmAction<T>({
  target,
  title,
  message,
  confirmLabel,
  action,
  done,
  refresh,
  onClose,
}: {
  target: T | null;
  title: string;
  message: (target: T) => ReactNode;
  confirmLabel?: string;
  action: (target: T) => Promise<unknown>;
  done: (target: T) => string;
  refresh?: () => Promise<unknown>;
  onClose: () => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    if (target === null) return;
    setBusy(true);
    try {
      await action(target);
    } catch {
      return;
    } finally {
      setBusy(false);
    }
    toast.success(done(target));
    onClose();
    await refresh?.();
  };
  return (
    <ConfirmDialog
      open={target !== null}
      title={title}
      confirmLabel={confirmLabel}
      message={target !== null && message(target)}
      busy={busy}
      onClose={onClose}
      onConfirm={() => void confirm()}
    />
  );
}

/**
 * A dialog holding a form: Cancel and the submit button in the footer, the server's
 * error (`error`) above the fields.
 */
export function FormDialog({
  open,
  title,
  description,
  submitLabel,
  submitVariant = 'primary',
  submitDisabled,
  busy,
  error,
  onClose,
  onSubmit,
  children,
  size,
}: {
  open: boolean;
  title: string;
  description?: string;
  submitLabel: ReactNode;
  submitVariant?: 'primary' | 'danger';
  submitDisabled?: boolean;
  busy?: boolean;
  error: string | null;
  onClose: () => void;
  onSubmit: () => void;
  children: ReactNode;
  size?: 'md' | 'lg';
}) {
  return (
    <Modal
      open={open}
      size={size}
      title={title}
      description={description}
      onClose={onClose}
      onSubmit={onSubmit}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant={submitVariant} busy={busy} disabled={submitDisabled}>
            {submitLabel}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      {children}
    </Modal>
  );
}
