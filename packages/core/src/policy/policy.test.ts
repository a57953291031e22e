import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthContext } from '../identity/types.ts';
import { parseConfig, setConfig } from '../platform/config.ts';
import { StratusError } from '../platform/errors.ts';
import { evaluate, parseRule, PolicySyntaxError } from './engine.ts';
import { can, enforce, listPolicies, parsePolicyFile, reloadPolicy, setPolicyOverrides } from './index.ts';

const ctx = (over: Partial<AuthContext> = {}): AuthContext => ({
  userId: 'u1',
  userName: 'alice',
  domainId: 'default',
  projectId: 'pA',
  projectName: 'A',
  domainScopeId: null,
  system: false,
  roles: ['member', 'reader'],
  tokenId: 't',
  auditId: 'a',
  expiresAt: new Date(Date.now() + 3600_000),
  methods: ['password'],
  ...over,
});
const admin = ctx({ userId: 'admin', roles: ['admin', 'member', 'reader'], projectId: 'pAdmin' });

afterEach(() => {
  setPolicyOverrides(undefined);
  setConfig(parseConfig({}));
  reloadPolicy();
});

describe('rule language', () => {
  const env = (creds: Record<string, string | string[] | null>, target: Record<string, unknown> = {}) => ({
    rules: new Map([['r', parseRule('role:x')]]),
    creds,
    target,
  });
  it('evaluates role, attribute, rule references, and/or/not with precedence and parentheses', () => {
    expect(evaluate(parseRule('role:admin'), env({ roles: ['ADMIN'] }))).toBe(true);
    expect(evaluate(parseRule('project_id:%(project_id)s'), env({ project_id: 'p' }, { project_id: 'p' }))).toBe(true);
    expect(evaluate(parseRule('project_id:%(project_id)s'), env({ project_id: 'p' }, {}))).toBe(false);
    expect(
      evaluate(
        parseRule('project_id:%(target.project.id)s'),
        env({ project_id: 'p' }, { target: { project: { id: 'p' } } }),
      ),
    ).toBe(true);
    expect(evaluate(parseRule('role:a or role:b and role:c'), env({ roles: ['a'] }))).toBe(true);
    expect(evaluate(parseRule('(role:a or role:b) and role:c'), env({ roles: ['a'] }))).toBe(false);
    expect(evaluate(parseRule('not role:a'), env({ roles: ['b'] }))).toBe(true);
    expect(evaluate(parseRule('rule:r'), env({ roles: ['x'] }))).toBe(true);
    expect(evaluate(parseRule('rule:missing'), env({ roles: ['x'] }))).toBe(false);
    expect(evaluate(parseRule('@'), env({}))).toBe(true);
    expect(evaluate(parseRule(''), env({}))).toBe(true);
    expect(evaluate(parseRule('!'), env({}))).toBe(false);
    expect(evaluate(parseRule("'member':%(role)s"), env({}, { role: 'member' }))).toBe(true);
  });
  it('rejects malformed rules', () => {
    expect(() => parseRule('role:a or')).toThrow(PolicySyntaxError);
    expect(() => parseRule('(role:a')).toThrow(PolicySyntaxError);
    expect(() => parseRule('justaword')).toThrow(PolicySyntaxError);
  });
});

describe('default identity policy', () => {
  it('lets admin do everything and members only their own things', () => {
    expect(can(admin, 'identity:create_project')).toBe(true);
    expect(can(admin, 'identity:get_project', { project_id: 'pB' })).toBe(true);
    const member = ctx();
    expect(can(member, 'identity:get_project', { project_id: 'pA' })).toBe(true);
    expect(can(member, 'identity:get_project', { project_id: 'pB' })).toBe(false);
    expect(can(member, 'identity:list_projects')).toBe(false);
    expect(can(member, 'identity:create_project')).toBe(false);
    expect(can(member, 'identity:get_user', { user_id: 'u1' })).toBe(true);
    expect(can(member, 'identity:get_user', { user_id: 'u2' })).toBe(false);
    expect(can(member, 'identity:change_password', { user_id: 'u1' })).toBe(true);
    expect(can(admin, 'identity:change_password', { user_id: 'u1' })).toBe(false);
    expect(can(member, 'identity:list_role_assignments', { project_id: 'pA' })).toBe(true);
    expect(can(member, 'identity:list_role_assignments', { project_id: 'pB' })).toBe(false);
    expect(can(member, 'identity:list_role_assignments', {})).toBe(false);
    expect(can(member, 'stratus:cloud_admin')).toBe(false);
    expect(can(admin, 'stratus:cloud_admin')).toBe(true);
  });
  it('denies unknown actions and enforce throws Forbidden', () => {
    expect(can(admin, 'nope:nothing')).toBe(false);
    expect(() => enforce(ctx(), 'identity:create_user')).toThrow(StratusError);
    try {
      enforce(ctx(), 'identity:create_user');
    } catch (err) {
      expect((err as StratusError).code).toBe('Forbidden');
    }
  });
});

describe('operator overrides', () => {
  it('reads JSON and YAML policy files from config and lists the effective policy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-policy-'));
    try {
      const json = join(dir, 'policy.json');
      writeFileSync(json, JSON.stringify({ 'identity:list_projects': 'role:reader' }));
      setConfig(parseConfig({ STRATUS_POLICY_FILE: json }));
      reloadPolicy();
      expect(can(ctx(), 'identity:list_projects')).toBe(true);
      const rule = listPolicies().find((r) => r.name === 'identity:list_projects');
      expect(rule).toMatchObject({ rule: 'role:reader', default: 'rule:admin_required', overridden: true });

      const yaml = join(dir, 'policy.yaml');
      writeFileSync(yaml, '# operator overrides\n"identity:create_project": "role:member"\nidentity:get_user: \'@\'\n');
      setConfig(parseConfig({ STRATUS_POLICY_FILE: yaml }));
      reloadPolicy();
      expect(can(ctx(), 'identity:create_project')).toBe(true);
      expect(can(ctx(), 'identity:get_user', { user_id: 'someone-else' })).toBe(true);
      expect(can(ctx(), 'identity:list_projects')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('parses the flat YAML subset', () => {
    expect(parsePolicyFile('a: role:admin or role:member\n"b:c": "@"\n\'d\': \'!\'\n')).toEqual({
      a: 'role:admin or role:member',
      'b:c': '@',
      d: '!',
    });
  });
});
