import { describe, expect, it } from 'vitest';
import { completeUtf8 } from './log-tail.ts';

describe('completeUtf8', () => {
  it('keeps whole characters and holds back a character cut at the end', () => {
    const b = Buffer.from('aé€😀');
    // a(1) é(2) €(3) 😀(4) = 10 bytes
    expect(completeUtf8(b)).toBe(10);
    for (const [len, want] of [
      [9, 6],
      [8, 6],
      [7, 6],
      [6, 6],
      [5, 3],
      [4, 3],
      [3, 3],
      [2, 1],
      [1, 1],
      [0, 0],
    ] as const) {
      expect(completeUtf8(b, len)).toBe(want);
    }
  });
});
