import { describe, expect, it } from 'vitest';
import { nextDevice } from '../compute/volume-attachments.ts';
import { canDoVolume, VolumeStatus } from './state.ts';
import { specTrue } from './types.ts';

describe('volume status table', () => {
  it('allows delete only in settled, unattached states', () => {
    expect(canDoVolume('delete', { status: VolumeStatus.AVAILABLE }).ok).toBe(true);
    expect(canDoVolume('delete', { status: VolumeStatus.ERROR }).ok).toBe(true);
    for (const s of [VolumeStatus.IN_USE, VolumeStatus.CREATING, VolumeStatus.ATTACHING, VolumeStatus.BACKING_UP]) {
      const v = canDoVolume('delete', { status: s });
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toContain(`status: ${s}`);
    }
  });
  it('extends in-use volumes only through extend_attached, and multiattach takes more attachments', () => {
    expect(canDoVolume('extend', { status: 'in-use' }).ok).toBe(false);
    expect(canDoVolume('extend_attached', { status: 'in-use' }).ok).toBe(true);
    expect(canDoVolume('attach', { status: 'in-use' }).ok).toBe(false);
    expect(canDoVolume('attach', { status: 'in-use', multiattach: true }).ok).toBe(true);
    expect(canDoVolume('snapshot', { status: 'in-use' }).ok).toBe(false);
    expect(canDoVolume('snapshot_attached', { status: 'in-use' }).ok).toBe(true);
  });
  it('reads boolean extra specs as Cinder does', () => {
    expect(specTrue('<is> True')).toBe(true);
    expect(specTrue('True')).toBe(true);
    expect(specTrue('<is> False')).toBe(false);
    expect(specTrue(undefined)).toBe(false);
  });
});

describe('guest device names', () => {
  it('takes the first free vdX after vda, honours a free requested name', () => {
    expect(nextDevice([])).toBe('/dev/vdb');
    expect(nextDevice(['/dev/vdb', 'vdc'])).toBe('/dev/vdd');
    expect(nextDevice(['/dev/vdb'], '/dev/vdf')).toBe('/dev/vdf');
    // A taken or invalid request is ignored (Nova's libvirt driver picks one itself).
    expect(nextDevice(['/dev/vdb'], '/dev/vdb')).toBe('/dev/vdc');
    expect(nextDevice([], '/dev/sda')).toBe('/dev/vdb');
    const many = Array.from({ length: 25 }, (_, i) => `/dev/vd${String.fromCharCode(98 + i)}`);
    expect(nextDevice(many)).toBe('/dev/vdaa');
  });
});
