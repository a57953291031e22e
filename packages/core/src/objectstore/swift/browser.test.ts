import { describe, expect, it } from 'vitest';
import { folderObjectName, isPublicRead, withPublicRead } from './browser.ts';

/* The dashboard helpers that need no storage: the public switch on a read ACL and folder names. */

describe('public read ACL switch', () => {
  it('adds .r:* and .rlistings and keeps other grants', () => {
    expect(withPublicRead(null, true)).toBe('.r:*,.rlistings');
    expect(withPublicRead('', true)).toBe('.r:*,.rlistings');
    expect(withPublicRead('p1:u1, .r:.example.com', true)).toBe('.r:*,.rlistings,p1:u1,.r:.example.com');
    // Switching on twice does not duplicate.
    expect(withPublicRead('.r:*,.rlistings,p1:*', true)).toBe('.r:*,.rlistings,p1:*');
  });

  it('removes only the public elements when switched off', () => {
    expect(withPublicRead('.r:*,.rlistings', false)).toBe('');
    expect(withPublicRead('.r:*, .rlistings ,p1:u1,.r:.example.com', false)).toBe('p1:u1,.r:.example.com');
    expect(withPublicRead('.referrer:*,p2', false)).toBe('p2');
    expect(withPublicRead(null, false)).toBe('');
  });

  it('tells a public container from a private one', () => {
    expect(isPublicRead('.r:*,.rlistings')).toBe(true);
    expect(isPublicRead('.r:*')).toBe(true);
    expect(isPublicRead('.rlistings')).toBe(false);
    expect(isPublicRead('.r:.example.com,p1:u1')).toBe(false);
    expect(isPublicRead(null)).toBe(false);
  });
});

describe('pseudo-folder names', () => {
  it('is the path with one trailing slash', () => {
    expect(folderObjectName('photos')).toBe('photos/');
    expect(folderObjectName('/photos/2024/')).toBe('photos/2024/');
  });

  it('refuses empty names and empty parts', () => {
    expect(() => folderObjectName('')).toThrow(/required/);
    expect(() => folderObjectName('///')).toThrow(/required/);
    expect(() => folderObjectName('a//b')).toThrow(/empty parts/);
  });
});
