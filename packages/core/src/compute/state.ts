/*
 * Nova's three states and the one table of which action each allows. The API refuses
 * with it, the dashboard shows or hides buttons with it. Values are Nova's strings.
 */

export const VmState = {
  ACTIVE: 'active',
  BUILDING: 'building',
  PAUSED: 'paused',
  SUSPENDED: 'suspended',
  STOPPED: 'stopped',
  RESIZED: 'resized',
  ERROR: 'error',
  DELETED: 'deleted',
} as const;
export type VmState = (typeof VmState)[keyof typeof VmState];

export const TaskState = {
  SCHEDULING: 'scheduling',
  NETWORKING: 'networking',
  BLOCK_DEVICE_MAPPING: 'block_device_mapping',
  SPAWNING: 'spawning',
  POWERING_OFF: 'powering-off',
  POWERING_ON: 'powering-on',
  REBOOTING: 'rebooting',
  REBOOTING_HARD: 'rebooting_hard',
  PAUSING: 'pausing',
  UNPAUSING: 'unpausing',
  SUSPENDING: 'suspending',
  RESUMING: 'resuming',
  DELETING: 'deleting',
  REBUILDING: 'rebuilding',
  REBUILD_SPAWNING: 'rebuild_spawning',
  RESIZE_PREP: 'resize_prep',
  RESIZE_MIGRATING: 'resize_migrating',
  RESIZE_MIGRATED: 'resize_migrated',
  RESIZE_FINISH: 'resize_finish',
  RESIZE_REVERTING: 'resize_reverting',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** nova/compute/power_state.py */
export const PowerState = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

export interface ServerState {
  vmState: string;
  taskState: string | null;
  powerState: number;
  locked: boolean;
}

export const SERVER_ACTIONS = [
  'delete',
  'stop',
  'start',
  'reboot',
  'reboot_hard',
  'pause',
  'unpause',
  'suspend',
  'resume',
  'lock',
  'unlock',
  'update',
  'metadata',
  'console_output',
  'vnc_console',
  'rebuild',
  'resize',
  'confirm_resize',
  'revert_resize',
  'migrate',
] as const;
export type ServerAction = (typeof SERVER_ACTIONS)[number];

type Rule = { vm: readonly string[] | '*'; task: readonly (string | null)[] | '*'; lockable: boolean };

const NONE = [null] as const;
const ANY_BUT_DELETED = ['active', 'building', 'paused', 'suspended', 'stopped', 'resized', 'error'] as const;

// From nova/compute/api.py's @check_instance_state decorators (the subset Stratus runs).
const RULES: Record<ServerAction, Rule> = {
  delete: { vm: ANY_BUT_DELETED, task: '*', lockable: true },
  stop: { vm: ['active', 'error'], task: NONE, lockable: true },
  start: { vm: ['stopped'], task: NONE, lockable: true },
  reboot: { vm: ['active'], task: NONE, lockable: true },
  reboot_hard: {
    vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
    task: [null, 'rebooting', 'rebooting_hard'],
    lockable: true,
  },
  pause: { vm: ['active'], task: NONE, lockable: true },
  unpause: { vm: ['paused'], task: NONE, lockable: true },
  suspend: { vm: ['active'], task: NONE, lockable: true },
  resume: { vm: ['suspended'], task: NONE, lockable: true },
  lock: { vm: ANY_BUT_DELETED, task: '*', lockable: false },
  unlock: { vm: ANY_BUT_DELETED, task: '*', lockable: false },
  update: { vm: ANY_BUT_DELETED, task: '*', lockable: false },
  metadata: { vm: ['active', 'building', 'paused', 'suspended', 'stopped', 'resized'], task: '*', lockable: true },
  console_output: { vm: ['active', 'paused', 'suspended', 'stopped', 'resized', 'error'], task: '*', lockable: false },
  vnc_console: { vm: ['active', 'resized'], task: '*', lockable: false },
  rebuild: { vm: ['active', 'stopped', 'error'], task: NONE, lockable: true },
  resize: { vm: ['active', 'stopped'], task: NONE, lockable: true },
  confirm_resize: { vm: ['resized'], task: NONE, lockable: true },
  revert_resize: { vm: ['resized'], task: NONE, lockable: true },
  migrate: { vm: ['active', 'stopped'], task: NONE, lockable: true },
};

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether `action` is allowed in `state`. `isAdmin` lets an admin act on a locked
 * server, as Nova does. The reason is the message a user sees (HTTP 409).
 */
export function canDo(action: ServerAction, state: ServerState, opts: { isAdmin?: boolean } = {}): Verdict {
  const r = RULES[action];
  if (state.vmState === 'deleted') return { ok: false, reason: `Cannot '${action}' a deleted instance.` };
  if (r.lockable && state.locked && !opts.isAdmin) {
    return { ok: false, reason: `Instance is locked: unlock it before '${action}'.` };
  }
  if (r.vm !== '*' && !r.vm.includes(state.vmState)) {
    return { ok: false, reason: `Cannot '${action}' instance while it is in vm_state ${state.vmState}` };
  }
  if (r.task !== '*' && !r.task.includes(state.taskState)) {
    return { ok: false, reason: `Cannot '${action}' instance while it is in task_state ${state.taskState}` };
  }
  return { ok: true };
}

/** The actions allowed now, for the dashboard's buttons. */
export function allowedActions(state: ServerState, opts: { isAdmin?: boolean } = {}): ServerAction[] {
  return SERVER_ACTIONS.filter((a) => canDo(a, state, opts).ok);
}

// nova/api/openstack/common.py _STATE_MAP
const STATUS_MAP: Record<string, Record<string, string>> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT',
    reboot_pending: 'REBOOT',
    reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT',
    reboot_pending_hard: 'HARD_REBOOT',
    reboot_started_hard: 'HARD_REBOOT',
    update_password: 'PASSWORD',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
  },
  building: { default: 'BUILD' },
  stopped: {
    default: 'SHUTOFF',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
  },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: { default: 'ERROR', rebuilding: 'REBUILD', rebuild_spawning: 'REBUILD' },
  deleted: { default: 'DELETED' },
  soft_deleted: { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};

/** The API status of a server, from vm_state and task_state, as Nova maps them. */
export function serverStatus(vmState: string, taskState: string | null): string {
  const m = STATUS_MAP[vmState];
  if (!m) return 'UNKNOWN';
  return (taskState ? m[taskState] : undefined) ?? m.default ?? 'UNKNOWN';
}

/** Status → the vm_states (and task_states) a `?status=` filter matches. */
export function statesForStatus(status: string): { vmStates: string[]; taskStates?: (string | null)[] } | undefined {
  const s = status.toUpperCase();
  const vmStates: string[] = [];
  const taskStates: (string | null)[] = [];
  let defaultMatch = false;
  for (const [vm, m] of Object.entries(STATUS_MAP)) {
    for (const [task, st] of Object.entries(m)) {
      if (st !== s) continue;
      if (!vmStates.includes(vm)) vmStates.push(vm);
      if (task === 'default') defaultMatch = true;
      else taskStates.push(task);
    }
  }
  if (vmStates.length === 0) return undefined;
  return defaultMatch ? { vmStates } : { vmStates, taskStates };
}
