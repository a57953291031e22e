import { describe, expect, it } from 'vitest';
import { containerHref, crumbs, downloadHref, leafName, normalizeFolder, objectUrl } from './paths';

/* The object browser's URLs: every name a user can type must round-trip. */

describe('object browser paths', () => {
  it('normalizes folder paths to "" or "a/b/"', () => {
    expect(normalizeFolder(undefined)).toBe('');
    expect(normalizeFolder('')).toBe('');
    expect(normalizeFolder('/')).toBe('');
    expect(normalizeFolder('a')).toBe('a/');
    expect(normalizeFolder('/a//b/')).toBe('a/b/');
  });

  it('builds breadcrumbs with the path each opens', () => {
    expect(crumbs('')).toEqual([]);
    expect(crumbs('a/b c/')).toEqual([
      { label: 'a', path: 'a/' },
      { label: 'b c', path: 'a/b c/' },
    ]);
  });

  it('encodes container and object names', () => {
    expect(containerHref('my %41 box')).toBe('/project/object-store/containers/my%20%2541%20box');
    expect(containerHref('c', 'a b/&/')).toBe('/project/object-store/containers/c?path=a%20b%2F%26%2F');
    expect(downloadHref('c?', 'd/e#f')).toBe('/project/object-store/download?container=c%3F&object=d%2Fe%23f');
    // The Swift path keeps the slashes of pseudo-folders and encodes the rest.
    expect(objectUrl('/object-store/v1/AUTH_p', 'c d', 'x/y z?.txt')).toBe(
      '/object-store/v1/AUTH_p/c%20d/x/y%20z%3F.txt',
    );
    const href = new URL(containerHref('my %41 box', 'é/'), 'http://h');
    expect(decodeURIComponent(href.pathname.split('/').pop() ?? '')).toBe('my %41 box');
    expect(href.searchParams.get('path')).toBe('é/');
  });

  it('shows names relative to the folder', () => {
    expect(leafName('a/b/c.txt', 'a/b/')).toBe('c.txt');
    expect(leafName('a/b/', 'a/')).toBe('b/');
    expect(leafName('x', 'a/')).toBe('x');
  });
});
