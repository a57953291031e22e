/*
 * Nova's extra_specs_ops: how a requirement string ("<in> ssd", ">= 4", "<or> a <or> b",
 * "s== abc", or a plain value) matches a value such as aggregate metadata.
 */
type Op = (value: string, arg: string) => boolean;

const num = (s: string): number => {
  const n = Number(s);
  if (s.trim() === '' || Number.isNaN(n)) throw new Error('not a number');
  return n;
};

const OPS: Record<string, Op> = {
  '=': (x, y) => num(x) >= num(y),
  '<in>': (x, y) => x.includes(y),
  '==': (x, y) => num(x) === num(y),
  '!=': (x, y) => num(x) !== num(y),
  '>=': (x, y) => num(x) >= num(y),
  '<=': (x, y) => num(x) <= num(y),
  's==': (x, y) => x === y,
  's!=': (x, y) => x !== y,
  's<': (x, y) => x < y,
  's<=': (x, y) => x <= y,
  's>': (x, y) => x > y,
  's>=': (x, y) => x >= y,
};

export function matchExtraSpec(value: string | undefined, req: string): boolean {
  const words = req.split(/\s+/).filter(Boolean);
  const op = words.shift();
  if (op === undefined) return value === req;
  if (op !== '<or>' && op !== '<all-in>' && !(op in OPS)) return value === req;
  if (value === undefined) return false;
  if (op === '<or>') {
    // "<or> v1 <or> v2": the words alternate value, keyword.
    for (let i = 0; i < words.length; i += 2) if (words[i] === value) return true;
    return false;
  }
  if (words.length === 0) return false;
  if (op === '<all-in>') return words.every((w) => value.includes(w));
  const fn = OPS[op];
  const arg = words[0];
  if (!fn || arg === undefined) return false;
  try {
    return fn(value, arg);
  } catch {
    return false;
  }
}
