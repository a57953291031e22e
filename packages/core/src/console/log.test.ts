import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanConsoleText, readLogFile } from './log.ts';

const dir = mkdtempSync(join(tmpdir(), 'stratus-console-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console log windows', () => {
  it('reads the last lines with byte offsets, or all of it', async () => {
    const p = join(dir, 'a.log');
    writeFileSync(p, 'one\ntwo\nthree\nfour');
    const size = Buffer.byteLength('one\ntwo\nthree\nfour');
    expect(await readLogFile('s', p, 2)).toMatchObject({ text: 'three\nfour', start: 8, end: size });
    expect(await readLogFile('s', p)).toMatchObject({ text: 'one\ntwo\nthree\nfour', start: 0, end: size });
    expect(await readLogFile('s', p, 0)).toMatchObject({ text: '', start: size, end: size });
    expect(await readLogFile('s', p, 50)).toMatchObject({ start: 0 });
    writeFileSync(p, 'one\ntwo\n');
    expect(await readLogFile('s', p, 1)).toMatchObject({ text: 'two\n', start: 4, end: 8 });
    expect((await readLogFile('s', p)).file).toMatch(/^\d+:\d+$/);
    expect(await readLogFile('s', join(dir, 'missing.log'), 5)).toEqual({
      serverId: 's',
      file: '',
      start: 0,
      end: 0,
      text: '',
    });
  });

  it('starts a window of a big log on a line boundary', async () => {
    const p = join(dir, 'big.log');
    const line = `${'z'.repeat(99)}\n`;
    writeFileSync(p, line.repeat(10_000)); // ~1 MB, more than a tail read
    const w = await readLogFile('s', p, 100_000);
    expect(w.start % 100).toBe(0);
    expect(w.text.startsWith('z')).toBe(true);
    expect(w.end).toBe(1_000_000);
  });

  it('drops control characters as Nova does, keeps newlines and tabs', () => {
    expect(cleanConsoleText('a\x1b[0mb\r\n\tc\x07')).toBe('a[0mb\r\n\tc');
  });
});
