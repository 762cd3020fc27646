/** LH fork: spdk_lvol_create_snapshot_with_xattrs (the snapshot is created with the caller's
 *  xattrs, as Longhorn's backing-image and snapshot code passes them to bdev_lvol_snapshot) and the
 *  `creation_time` every lvol gets, read from the virtual clock. Bad lists change nothing.
 *  (asan variant where lists are copied, so an overrun or a use after free traps.) */
import { describe, expect, it } from 'vitest';
import { fill, PAGE, same } from '../blob/bs-harness.js';
import { ERR, lvolHarness, type Lvol, type LvolHarness } from './lvol-harness.js';

const MiB = 1 << 20;
const CL = MiB / PAGE;
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function snapshotX(h: LvolHarness, lvol: Lvol, name: string, flat: string[], num = flat.length): { rc: number; lvol: Lvol } {
  const list = h.m.cstrArray(flat);
  try {
    const r = h.b.run(h.m.api.spdk_wasm_lvol_snapshot_xattrs(lvol, name, list.ptr, num));
    return { rc: r.rc, lvol: r.result as Lvol };
  } finally {
    list.free();
  }
}

/** Moves the virtual clock to `us` (an event there, then run to it). */
function clockTo(h: LvolHarness, us: number): void {
  h.m.world.at(us, 'test.clock', () => {});
  h.m.world.run(() => false, us);
}

async function headWithData(name = 'lvs') {
  const h = await lvolHarness('unpatched', 'asan'); // the xattr list is copied and freed in C
  const disk = h.b.disk(16384);
  const { lvs } = h.initLvs(disk, name);
  const head = h.create(lvs, 'head', 4 * MiB, true).lvol;
  const data = fill(2 * CL * PAGE, 11);
  h.write(lvs, head, 0, data);
  return { h, disk, lvs, head, data };
}

describe('snapshot xattrs (spdk_lvol_create_snapshot_with_xattrs)', () => {
  it('the new snapshot carries the caller xattrs (value + NUL) besides name, uuid and creation_time; the snapshot is read-only', async () => {
    const { h, lvs, head, data } = await headWithData();
    const s = snapshotX(h, head, 'bi-snap', ['longhorn_backing_image_checksum', 'c0ffee', 'longhorn_backing_image_uuid', 'u-1']);
    expect(s.rc).toBe(0);
    expect(dec(h.xattr(s.lvol, 'longhorn_backing_image_checksum'))).toBe('c0ffee\0');
    expect(dec(h.xattr(s.lvol, 'longhorn_backing_image_uuid'))).toBe('u-1\0');
    expect(dec(h.xattr(s.lvol, 'name')!.subarray(0, 8))).toBe('bi-snap\0');
    expect(h.xattr(s.lvol, 'uuid')!.length).toBe(37);
    expect(h.xattr(s.lvol, 'creation_time')!.length).toBe(21);
    expect(h.info(s.lvol, 'readOnly')).toBe(1);
    expect(h.info(s.lvol, 'allocated')).toBe(2);
    expect(same(h.read(lvs, s.lvol, 0, 2 * CL), data)).toBe(true);
    // the head keeps none of them: they belong to the snapshot from its creation
    expect(h.xattr(head, 'longhorn_backing_image_checksum')).toBeUndefined();
    // read-only now: the lvol layer refuses public edits (the blob layer would allow them)
    const p = h.m.call('spdk_wasm_malloc', 2);
    expect(h.rc(h.m.api.spdk_wasm_lvol_set_xattr(s.lvol, 'longhorn_backing_image_checksum', p, 2))).toBe(ERR.EPERM);
    expect(dec(h.xattr(s.lvol, 'longhorn_backing_image_checksum'))).toBe('c0ffee\0');
  });

  it('the xattrs are on the device: unload and load bring them back, with the creation time', async () => {
    const { h, disk, lvs, head } = await headWithData('persist');
    clockTo(h, 1_709_208_042e6); // 2024-02-29T12:00:42Z (a leap day)
    const s = snapshotX(h, head, 'snap', ['user_created', 'true', 'snapshot_timestamp', '2024-02-29T12:00:42Z']);
    expect(s.rc).toBe(0);
    expect(h.str(h.m.api.spdk_wasm_lvol_creation_time(s.lvol))).toBe('2024-02-29T12:00:42Z');
    expect(h.str(h.m.api.spdk_wasm_lvol_creation_time(head))).toBe('1970-01-01T00:00:00Z');
    for (const l of h.lvols(lvs)) expect(h.rc(h.m.api.spdk_wasm_lvol_close(l))).toBe(0);
    expect(h.unloadLvs(lvs)).toBe(0);
    const l = h.loadLvs(disk);
    expect(l.rc).toBe(0);
    const snap = h.byNames('persist', 'snap');
    expect(h.str(h.m.api.spdk_wasm_lvol_creation_time(snap))).toBe('2024-02-29T12:00:42Z');
    expect(h.rc(h.m.api.spdk_wasm_lvol_open(snap))).toBe(0);
    expect(dec(h.xattr(snap, 'user_created'))).toBe('true\0');
    expect(dec(h.xattr(snap, 'snapshot_timestamp'))).toBe('2024-02-29T12:00:42Z\0');
    expect(dec(h.xattr(snap, 'creation_time'))).toBe('2024-02-29T12:00:42Z\0');
  });

  it('creation_time follows the virtual clock (RFC 3339, UTC, to the second)', async () => {
    const h = await lvolHarness();
    const { lvs } = h.initLvs(h.b.disk(4096), 'clock');
    const at = (us: number, name: string) => {
      clockTo(h, us);
      return h.str(h.m.api.spdk_wasm_lvol_creation_time(h.create(lvs, name, MiB, true).lvol));
    };
    expect(at(0, 'a')).toBe('1970-01-01T00:00:00Z');
    expect(at(86_400e6 + 3_723.9e6, 'b')).toBe('1970-01-02T01:02:03Z');
    expect(at(951_782_400e6, 'c')).toBe('2000-02-29T00:00:00Z');
    expect(at(1_736_150_400e6, 'd')).toBe('2025-01-06T08:00:00Z');
  });

  it('bad lists are -EINVAL with nothing changed: odd count, names the library owns; a name too long or taken too', async () => {
    const { h, disk, lvs, head } = await headWithData('bad');
    const before = h.b.diskBytes(disk, 0, 16384 * PAGE);
    const n = h.lvols(lvs).length;
    expect(snapshotX(h, head, 's', ['a', 'b', 'c'], 3).rc).toBe(ERR.EINVAL);
    for (const owned of ['name', 'uuid', 'creation_time', 'checksum']) {
      expect(snapshotX(h, head, 's', ['ok', '1', owned, 'x']).rc, owned).toBe(ERR.EINVAL);
    }
    expect(snapshotX(h, head, 'x'.repeat(256), ['ok', '1']).rc).toBe(ERR.EINVAL);
    expect(snapshotX(h, head, 'head', ['ok', '1']).rc).toBe(ERR.EEXIST);
    expect(same(h.b.diskBytes(disk, 0, 16384 * PAGE), before)).toBe(true);
    expect(h.lvols(lvs).length).toBe(n);
    expect(h.info(head, 'allocated')).toBe(2);
    // the name "s" was never taken
    expect(snapshotX(h, head, 's', []).rc).toBe(0);
  });

  it('an xattr too large for a metadata page fails the snapshot; the head keeps its clusters and the device is unchanged', async () => {
    const { h, disk, lvs, head, data } = await headWithData('big');
    const before = h.b.diskBytes(disk, 0, 16384 * PAGE);
    const free = h.lvsInfo(lvs, 'freeClusters');
    const r = snapshotX(h, head, 'big-snap', ['huge', 'v'.repeat(5000)]);
    expect(r.rc).toBeLessThan(0);
    expect(same(h.b.diskBytes(disk, 0, 16384 * PAGE), before)).toBe(true);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free);
    expect(h.info(head, 'allocated')).toBe(2);
    expect(h.info(head, 'isClone')).toBe(0);
    expect(same(h.read(lvs, head, 0, 2 * CL), data)).toBe(true);
    expect(h.byNames('big', 'big-snap')).toBe(0);
    expect(snapshotX(h, head, 'big-snap', ['small', 'v']).rc).toBe(0);
  });
});
