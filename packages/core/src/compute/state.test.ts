import { describe, expect, it } from 'vitest';
import { allowedActions, canDo, serverStatus, statesForStatus } from './state.ts';

const st = (vmState: string, taskState: string | null = null, locked = false) => ({
  vmState,
  taskState,
  powerState: 1,
  locked,
});

describe('canDo (the state machine)', () => {
  it.each([
    ['stop', st('active'), true],
    ['stop', st('stopped'), false],
    ['stop', st('active', 'powering-off'), false],
    ['start', st('stopped'), true],
    ['start', st('active'), false],
    ['reboot', st('active'), true],
    ['reboot', st('stopped'), false],
    ['reboot_hard', st('stopped'), true],
    ['reboot_hard', st('active', 'rebooting'), true],
    ['pause', st('active'), true],
    ['unpause', st('paused'), true],
    ['unpause', st('active'), false],
    ['suspend', st('active'), true],
    ['resume', st('suspended'), true],
    ['delete', st('building', 'scheduling'), true],
    ['delete', st('error'), true],
    ['delete', st('deleted'), false],
    ['lock', st('active', null, true), true],
    ['stop', st('active', null, true), false],
    ['console_output', st('building', 'spawning'), false],
    ['rebuild', st('active'), true],
    ['rebuild', st('stopped'), true],
    ['rebuild', st('error'), true],
    ['rebuild', st('paused'), false],
    ['rebuild', st('active', 'rebuilding'), false],
    ['resize', st('active'), true],
    ['resize', st('stopped'), true],
    ['resize', st('resized'), false],
    ['resize', st('active', null, true), false],
    ['confirm_resize', st('resized'), true],
    ['confirm_resize', st('active'), false],
    ['revert_resize', st('resized'), true],
    ['revert_resize', st('resized', 'resize_reverting'), false],
    ['delete', st('resized'), true],
  ] as const)('%s in %j → %s', (action, state, expected) => {
    expect(canDo(action, state).ok).toBe(expected);
  });

  it('lets an admin act on a locked server and says why others cannot', () => {
    expect(canDo('stop', st('active', null, true), { isAdmin: true }).ok).toBe(true);
    const v = canDo('stop', st('active', null, true));
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/locked/);
  });

  it('lists the allowed actions for the dashboard', () => {
    const a = allowedActions(st('stopped'));
    expect(a).toContain('start');
    expect(a).not.toContain('stop');
  });
});

describe('serverStatus (Nova status mapping)', () => {
  it.each([
    ['building', 'scheduling', 'BUILD'],
    ['active', null, 'ACTIVE'],
    ['active', 'powering-off', 'ACTIVE'],
    ['active', 'rebooting', 'REBOOT'],
    ['active', 'rebooting_hard', 'HARD_REBOOT'],
    ['stopped', null, 'SHUTOFF'],
    ['paused', null, 'PAUSED'],
    ['suspended', null, 'SUSPENDED'],
    ['error', null, 'ERROR'],
    ['deleted', null, 'DELETED'],
    ['nonsense', null, 'UNKNOWN'],
  ] as const)('%s/%s → %s', (vm, task, status) => {
    expect(serverStatus(vm, task)).toBe(status);
  });

  it('maps a status filter back to states', () => {
    expect(statesForStatus('shutoff')).toEqual({ vmStates: ['stopped'] });
    expect(statesForStatus('HARD_REBOOT')?.taskStates).toContain('rebooting_hard');
    expect(statesForStatus('NOPE')).toBeUndefined();
  });
});

describe('resize and rebuild statuses', () => {
  it.each([
    ['active', 'resize_prep', 'RESIZE'],
    ['stopped', 'resize_migrating', 'RESIZE'],
    ['resized', null, 'VERIFY_RESIZE'],
    ['resized', 'resize_reverting', 'REVERT_RESIZE'],
    ['active', 'rebuilding', 'REBUILD'],
    ['stopped', 'rebuild_spawning', 'REBUILD'],
  ] as const)('%s / %s → %s', (vm, task, status) => {
    expect(serverStatus(vm, task)).toBe(status);
  });
  it('filters VERIFY_RESIZE by vm_state', () => {
    expect(statesForStatus('VERIFY_RESIZE')).toEqual({ vmStates: ['resized'] });
  });
});
