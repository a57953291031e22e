/*
 * A small evaluator for oslo.policy rule strings: `role:admin`, `rule:name`,
 * `user_id:%(user_id)s`, `'literal':%(target.key)s`, `@` (always), `!` (never), and
 * `and` / `or` / `not` with parentheses. Unknown check kinds compare the credential
 * attribute of that name with the (substituted) right-hand side.
 */
export type Credentials = Record<string, string | string[] | boolean | null | undefined>;
export type Target = Record<string, unknown>;

export type Node =
  | { t: 'true' }
  | { t: 'false' }
  | { t: 'and'; a: Node[] }
  | { t: 'or'; a: Node[] }
  | { t: 'not'; a: Node }
  | { t: 'check'; kind: string; match: string };

export class PolicySyntaxError extends Error {}

function tokenize(rule: string): string[] {
  const out: string[] = [];
  const re = /\s*(\(|\)|(?:%\([^)]*\)|[^\s()])+)/gy;
  re.lastIndex = 0;
  for (let m = re.exec(rule); m !== null; m = re.exec(rule)) {
    if (m[1] !== undefined) out.push(m[1]);
    if (re.lastIndex >= rule.length) break;
  }
  if (rule.slice(re.lastIndex).trim()) throw new PolicySyntaxError(`cannot parse rule: ${rule}`);
  return out;
}

export function parseRule(rule: string): Node {
  const toks = tokenize(rule.trim());
  if (toks.length === 0) return { t: 'true' };
  let i = 0;
  const peek = () => toks[i];
  const orExpr = (): Node => {
    const parts = [andExpr()];
    while (peek()?.toLowerCase() === 'or') {
      i++;
      parts.push(andExpr());
    }
    return parts.length === 1 && parts[0] ? parts[0] : { t: 'or', a: parts };
  };
  const andExpr = (): Node => {
    const parts = [notExpr()];
    while (peek()?.toLowerCase() === 'and') {
      i++;
      parts.push(notExpr());
    }
    return parts.length === 1 && parts[0] ? parts[0] : { t: 'and', a: parts };
  };
  const notExpr = (): Node => {
    if (peek()?.toLowerCase() === 'not') {
      i++;
      return { t: 'not', a: notExpr() };
    }
    return atom();
  };
  const atom = (): Node => {
    const tok = toks[i++];
    if (tok === undefined) throw new PolicySyntaxError(`unexpected end of rule: ${rule}`);
    if (tok === '(') {
      const n = orExpr();
      if (toks[i++] !== ')') throw new PolicySyntaxError(`missing ) in rule: ${rule}`);
      return n;
    }
    if (tok === '@') return { t: 'true' };
    if (tok === '!') return { t: 'false' };
    const colon = tok.indexOf(':');
    if (colon <= 0) throw new PolicySyntaxError(`bad check "${tok}" in rule: ${rule}`);
    return { t: 'check', kind: tok.slice(0, colon), match: tok.slice(colon + 1) };
  };
  const node = orExpr();
  if (i !== toks.length) throw new PolicySyntaxError(`unexpected "${toks[i]}" in rule: ${rule}`);
  return node;
}

function lookup(target: Target, path: string): unknown {
  if (path in target) return target[path];
  let cur: unknown = target;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Substitutes %(name)s from the target; undefined when a name is missing. */
function substitute(match: string, target: Target): string | undefined {
  let missing = false;
  const out = match.replace(/%\(([^)]+)\)s/g, (_, name: string) => {
    const v = lookup(target, name);
    if (v === undefined || v === null) {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? undefined : out;
}

export interface EvalEnv {
  rules: Map<string, Node>;
  creds: Credentials;
  target: Target;
}

export function evaluate(node: Node, env: EvalEnv, depth = 0): boolean {
  if (depth > 50) throw new PolicySyntaxError('policy rules refer to each other in a loop');
  switch (node.t) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'and':
      return node.a.every((n) => evaluate(n, env, depth));
    case 'or':
      return node.a.some((n) => evaluate(n, env, depth));
    case 'not':
      return !evaluate(node.a, env, depth);
    case 'check':
      return check(node.kind, node.match, env, depth);
  }
}

function check(kind: string, match: string, env: EvalEnv, depth: number): boolean {
  if (kind === 'rule') {
    const r = env.rules.get(match);
    return r ? evaluate(r, env, depth + 1) : false;
  }
  const right = substitute(match, env.target);
  if (right === undefined) return false;
  if (kind === 'role') {
    const roles = env.creds.roles;
    return Array.isArray(roles) && roles.some((r) => r.toLowerCase() === right.toLowerCase());
  }
  if (kind === 'http') return false;
  // 'literal':%(target.attr)s compares a constant with the target.
  const quoted = /^'(.*)'$/.exec(kind) ?? /^"(.*)"$/.exec(kind);
  if (quoted) return quoted[1] === right;
  const left = env.creds[kind];
  if (left === undefined || left === null) return false;
  if (Array.isArray(left)) return left.includes(right);
  if (typeof left === 'boolean') return String(left).toLowerCase() === right.toLowerCase();
  return left === right;
}
