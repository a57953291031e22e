import { z } from 'zod';

/* Input shapes of the object-store router; core checks the Swift rules again. */
export const ContainerName = z
  .string()
  .min(1, 'Container name required')
  .max(256)
  .refine((s) => !s.includes('/'), 'Container name may not contain "/"');
export const ObjectName = z.string().min(1, 'Object name required').max(1024);
export const Limit = z.number().int().min(1).max(1000).default(100);
/** Header-safe metadata names; stored lower-case as Swift's REST side sees them. */
export const MetaName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'Metadata names may use letters, digits, "-", "_" and "."')
  .transform((s) => s.toLowerCase());
/** Any text but control characters (it travels in an HTTP header). */
export const MetaValue = z
  .string()
  .max(256)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  .regex(/^[^\x00-\x1f\x7f]*$/, 'Metadata values may not contain control characters');
