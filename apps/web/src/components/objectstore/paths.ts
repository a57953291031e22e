/* URLs and names of the object browser (client side). */

/** The browser page of a container, at a pseudo-folder (`path` ends with '/' or is ''). */
export function containerHref(container: string, path = ''): string {
  const base = `/project/object-store/containers/${encodeURIComponent(container)}`;
  return path ? `${base}?path=${encodeURIComponent(path)}` : base;
}

/** The streamed same-origin download of one object. */
export function downloadHref(container: string, object: string): string {
  return `/project/object-store/download?container=${encodeURIComponent(container)}&object=${encodeURIComponent(object)}`;
}

/** An object's URL under the Swift API (each path segment encoded, slashes kept). */
export function objectUrl(accountPath: string, container: string, object: string): string {
  return `${accountPath}/${encodeURIComponent(container)}/${object.split('/').map(encodeURIComponent).join('/')}`;
}

/** A folder path as it must look: '' (the container's top) or "a/b/". */
export function normalizeFolder(path: string | undefined): string {
  const parts = (path ?? '').split('/').filter(Boolean);
  return parts.length ? `${parts.join('/')}/` : '';
}

/** Breadcrumbs of a folder path: each ancestor with the path that opens it. */
export function crumbs(path: string): Array<{ label: string; path: string }> {
  const parts = path.split('/').filter(Boolean);
  return parts.map((label, i) => ({ label, path: `${parts.slice(0, i + 1).join('/')}/` }));
}

/** The last part of a name, for display inside its folder. */
export function leafName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
