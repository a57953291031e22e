import type { NameFilter } from '@stratus/core/identity/types';

/**
 * The identity panels' search box: case-insensitive "contains" (Keystone's
 * name__icontains), not an exact name. Keeps the panel's marker and limit.
 */
export function nameContains<T extends { name?: string }>(input: T): Omit<T, 'name'> & { nameFilters?: NameFilter[] } {
  const { name, ...rest } = input;
  return name ? { ...rest, nameFilters: [{ op: 'icontains', value: name }] } : rest;
}
