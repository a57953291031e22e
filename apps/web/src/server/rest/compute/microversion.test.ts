import { describe, expect, it } from 'vitest';
import { MAX_VERSION, negotiate, versionHeaders } from './microversion.ts';

describe('compute microversion negotiation', () => {
  it('defaults to 2.1 and understands latest', () => {
    expect(negotiate({})).toEqual({ ok: true, version: { major: 2, minor: 1 } });
    expect(negotiate({ legacy: 'latest' })).toEqual({ ok: true, version: { ...MAX_VERSION } });
  });
  it('reads the legacy and the new header; the new one wins', () => {
    expect(negotiate({ legacy: '2.10' })).toEqual({ ok: true, version: { major: 2, minor: 10 } });
    expect(negotiate({ openstack: 'compute 2.47', legacy: '2.10' })).toEqual({
      ok: true,
      version: { major: 2, minor: 47 },
    });
    expect(negotiate({ openstack: 'volume 3.60, compute 2.5' })).toEqual({ ok: true, version: { major: 2, minor: 5 } });
    expect(negotiate({ openstack: 'volume 3.60', legacy: '2.3' })).toEqual({
      ok: true,
      version: { major: 2, minor: 3 },
    });
  });
  it('answers 406 outside the range and 400 for garbage', () => {
    expect(negotiate({ legacy: '2.93' })).toMatchObject({ ok: false, status: 406 });
    expect(negotiate({ legacy: '2.0' })).toMatchObject({ ok: false, status: 406 });
    expect(negotiate({ legacy: '3.1' })).toMatchObject({ ok: false, status: 406 });
    expect(negotiate({ legacy: 'two' })).toMatchObject({ ok: false, status: 400 });
  });
  it('echoes both headers and Vary', () => {
    expect(versionHeaders({ major: 2, minor: 60 })).toEqual({
      'openstack-api-version': 'compute 2.60',
      'x-openstack-nova-api-version': '2.60',
      vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    });
  });
});
