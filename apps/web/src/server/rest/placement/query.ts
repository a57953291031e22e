import { badRequest, type CandidateQuery, placementError } from '@stratus/core';
import { z } from 'zod';
import type { Microversion } from './microversion.ts';

/* Query-string parsing shared by GET /resource_providers and GET /allocation_candidates. */

const bad = (msg: string) => placementError('BadRequest', msg, 'placement.query.bad_value');

/** "VCPU:1,MEMORY_MB:512" → { VCPU: 1, MEMORY_MB: 512 }. */
export function parseResources(raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const m = /^([A-Z0-9_]+):(\d+)$/.exec(part.trim());
    const amount = Number(m?.[2]);
    if (!m?.[1] || !Number.isSafeInteger(amount) || amount < 1) {
      throw bad(
        `Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: ${raw}.`,
      );
    }
    if (m[1] in out)
      throw placementError(
        'BadRequest',
        `Resource class ${m[1]} is requested twice in: ${raw}`,
        'placement.query.duplicate_key',
      );
    out[m[1]] = amount;
  }
  return out;
}

/** required=A,!B (forbidden traits from 1.22), repeatable. */
export function parseTraits(
  values: string[],
  v: Microversion,
): { requiredTraits: string[]; forbiddenTraits: string[] } {
  const requiredTraits: string[] = [];
  const forbiddenTraits: string[] = [];
  for (const value of values) {
    for (const t of value.split(',').map((s) => s.trim())) {
      if (!t)
        throw bad(
          `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${value}`,
        );
      if (t.startsWith('!') && v.ge(22)) forbiddenTraits.push(t.slice(1));
      else if (/^[A-Z0-9_]+$/.test(t)) requiredTraits.push(t);
      else
        throw bad(
          `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${value}`,
        );
    }
  }
  return { requiredTraits, forbiddenTraits };
}

const uuid = z.string().uuid();
/** member_of=<uuid> or member_of=in:<uuid>,<uuid>; repeatable from 1.24 (all must hold). */
export function parseMemberOf(values: string[], v: Microversion): string[][] {
  if (values.length > 1 && !v.ge(24))
    throw bad('Multiple member_of parameters are not supported before microversion 1.24.');
  return values.map((value) => {
    const list = value.startsWith('in:') ? value.slice(3).split(',') : [value];
    for (const u of list) {
      if (!uuid.safeParse(u).success)
        throw bad(
          `Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${u}`,
        );
    }
    return list;
  });
}

export function providerListQuery(url: URL, v: Microversion) {
  const q = url.searchParams;
  const out: {
    name?: string;
    uuid?: string;
    memberOf?: string[][];
    resources?: Record<string, number>;
    requiredTraits?: string[];
    forbiddenTraits?: string[];
    inTree?: string;
  } = {};
  const name = q.get('name');
  if (name !== null) out.name = name;
  const id = q.get('uuid');
  if (id !== null) out.uuid = id;
  const memberOf = q.getAll('member_of');
  if (memberOf.length && v.ge(3)) out.memberOf = parseMemberOf(memberOf, v);
  const resources = q.get('resources');
  if (resources !== null && v.ge(4)) out.resources = parseResources(resources);
  const required = q.getAll('required');
  if (required.length && v.ge(18)) Object.assign(out, parseTraits(required, v));
  const inTree = q.get('in_tree');
  if (inTree !== null && v.ge(14)) {
    if (!uuid.safeParse(inTree).success) throw bad(`Invalid uuid value: ${inTree}`);
    out.inTree = inTree;
  }
  return out;
}

export function candidatesQuery(url: URL, v: Microversion): CandidateQuery {
  const q = url.searchParams;
  for (const key of q.keys()) {
    if (/^(resources|required|member_of|in_tree)./.test(key) || key === 'group_policy') {
      throw badRequest(`Granular request groups (${key}) are not supported by this placement service.`);
    }
  }
  const resources = q.get('resources');
  if (!resources)
    throw placementError(
      'BadRequest',
      "Invalid query string parameters: 'resources' is a required property",
      'placement.query.missing_value',
    );
  const out: CandidateQuery = { resources: parseResources(resources) };
  const limit = q.get('limit');
  if (limit !== null && v.ge(16)) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1)
      throw bad(`Invalid query string parameters: Expected 'limit' to be a positive integer. Got: ${limit}`);
    out.limit = n;
  }
  const required = q.getAll('required');
  if (required.length && v.ge(17)) Object.assign(out, parseTraits(required, v));
  const memberOf = q.getAll('member_of');
  if (memberOf.length && v.ge(21)) out.memberOf = parseMemberOf(memberOf, v);
  return out;
}
