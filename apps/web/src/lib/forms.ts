'use client';
import { useCallback, useState } from 'react';
import type { z } from 'zod';
import { fieldErrors } from './trpc';

/**
 * Form state checked with a zod schema before sending; the server's own validation
 * errors (tRPC zodError) land on the same fields.
 */
export function useZodForm<S extends z.ZodObject>(schema: S, initial: z.input<S>) {
  const [values, setValues] = useState<z.input<S>>(initial);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const set = useCallback(<K extends keyof z.input<S>>(key: K, value: z.input<S>[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => ({ ...e, [key as string]: [] }));
  }, []);
  const reset = useCallback((v: z.input<S>) => {
    setValues(v);
    setErrors({});
  }, []);
  /** The parsed values, or null after showing the errors inline. */
  const validate = useCallback((): z.output<S> | null => {
    const r = schema.safeParse(values);
    if (r.success) return r.data;
    const out: Record<string, string[]> = {};
    for (const issue of r.error.issues) {
      const k = String(issue.path[0] ?? '_');
      out[k] = [...(out[k] ?? []), issue.message];
    }
    setErrors(out);
    return null;
  }, [schema, values]);
  const serverError = useCallback((e: unknown) => {
    const f = fieldErrors(e);
    if (Object.keys(f).length) setErrors(f);
  }, []);
  const err = (k: keyof z.input<S>) => errors[k as string];
  return { values, set, reset, validate, errors, err, serverError };
}
