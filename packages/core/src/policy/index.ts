import { readFileSync } from 'node:fs';
import { loadConfig } from '../platform/config.ts';
import { forbidden } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import type { AuthContext } from '../identity/types.ts';
import { BASE_RULES, IDENTITY_RULES, type PolicyDefault } from './defaults.ts';
import { type Credentials, evaluate, type Node, parseRule, type Target } from './engine.ts';

export type { PolicyDefault } from './defaults.ts';
export { parseRule, evaluate, PolicySyntaxError } from './engine.ts';

/** One effective rule, as listed to operators. */
export interface PolicyRule {
  name: string;
  rule: string;
  default: string;
  overridden: boolean;
  description: string;
}

const defaults = new Map<string, PolicyDefault>();
for (const d of [...BASE_RULES, ...IDENTITY_RULES]) defaults.set(d.name, d);

/** Services add their rules (e.g. compute:create) at module load. */
export function registerPolicyDefaults(rules: PolicyDefault[]): void {
  for (const r of rules) {
    parseRule(r.rule);
    defaults.set(r.name, r);
  }
  compiled = undefined;
}

interface Compiled {
  nodes: Map<string, Node>;
  overrides: Record<string, string>;
}
let compiled: Compiled | undefined;
let overrideFile: { path?: string; rules?: Record<string, string> } = {};

/** Flat YAML ("name": "rule" per line) or JSON, as oslo.policy files are. */
export function parsePolicyFile(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('policy file must be an object');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') throw new Error(`policy ${k}: rule must be a string`);
      out[k] = v;
    }
    return out;
  }
  const out: Record<string, string> = {};
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const m =
      /^("([^"]+)"|'([^']+)'|([^:\s]+(?::[^:\s]+)*?))\s*:\s+(.*)$/.exec(line) ??
      /^("([^"]+)"|'([^']+)'|([^\s]+?))\s*:\s*$/.exec(line);
    if (!m) throw new Error(`policy file line ${n + 1}: expected "name": "rule"`);
    const key = m[2] ?? m[3] ?? m[4] ?? '';
    let value = (m[5] ?? '').trim();
    if (/^".*"$/.test(value)) value = JSON.parse(value) as string;
    else if (/^'.*'$/.test(value)) value = value.slice(1, -1).replace(/''/g, "'");
    else value = value.replace(/\s+#.*$/, '');
    out[key] = value;
  }
  return out;
}

let testOverrides: Record<string, string> | undefined;

function loadOverrides(): Record<string, string> {
  if (testOverrides) return testOverrides;
  const path = loadConfig().policyFile;
  if (!path) return {};
  if (overrideFile.path === path && overrideFile.rules) return overrideFile.rules;
  const rules = parsePolicyFile(readFileSync(path, 'utf8'));
  for (const [k, v] of Object.entries(rules)) {
    try {
      parseRule(v);
    } catch (err) {
      throw new Error(`policy file ${path}: rule ${k}: ${(err as Error).message}`);
    }
  }
  overrideFile = { path, rules };
  return rules;
}

function compile(): Compiled {
  if (compiled) return compiled;
  const overrides = loadOverrides();
  const nodes = new Map<string, Node>();
  for (const [name, d] of defaults) nodes.set(name, parseRule(d.rule));
  for (const [name, rule] of Object.entries(overrides)) nodes.set(name, parseRule(rule));
  compiled = { nodes, overrides };
  return compiled;
}

/** Re-reads the override file (after an operator edits it). */
export function reloadPolicy(): void {
  overrideFile = {};
  compiled = undefined;
}

/** For tests: replace the overrides without a file (undefined: back to the file). */
export function setPolicyOverrides(rules: Record<string, string> | undefined): void {
  for (const v of Object.values(rules ?? {})) parseRule(v);
  testOverrides = rules;
  compiled = undefined;
}

export function credentialsOf(ctx: AuthContext): Credentials {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.domainId,
    project_id: ctx.projectId,
    domain_id: ctx.domainScopeId,
    system_scope: ctx.system ? 'all' : null,
    roles: ctx.roles,
  };
}

/** True when the rule for `action` allows the caller on `target`. Unknown actions are denied. */
export function can(ctx: AuthContext, action: string, target: Target = {}): boolean {
  const c = compile();
  const node = c.nodes.get(action);
  if (!node) {
    logger().warn({ action }, 'policy: no rule for action; denied');
    return false;
  }
  return evaluate(node, { rules: c.nodes, creds: credentialsOf(ctx), target });
}

/**
 * Whether the caller may perform `action` on a resource of their own project (the target
 * OpenStack's project-scoped rules compare with): what a dashboard asks to show or hide
 * controls before there is a resource. Core still enforces on the real target.
 */
export function canInOwnProject(ctx: AuthContext, action: string): boolean {
  const projectId = ctx.projectId ?? '';
  return can(ctx, action, { project_id: projectId, tenant_id: projectId, user_id: ctx.userId });
}

/** Throws Forbidden unless the policy allows `action`. */
export function enforce(ctx: AuthContext, action: string, target: Target = {}): void {
  if (!can(ctx, action, target)) throw forbidden(`You are not authorized to perform the requested action: ${action}.`);
}

/** The effective policy: every rule with its default and whether it is overridden. */
export function listPolicies(): PolicyRule[] {
  const c = compile();
  const names = new Set([...defaults.keys(), ...Object.keys(c.overrides)]);
  return [...names].sort().map((name) => {
    const d = defaults.get(name);
    const o = c.overrides[name];
    return {
      name,
      rule: o ?? d?.rule ?? '',
      default: d?.rule ?? '',
      overridden: o !== undefined,
      description: d?.description ?? '',
    };
  });
}
