/** The lvol library (wasm/lib/lvol, spec §3): lvol stores and lvols with their `uuid` and `name`
 *  xattrs, the `lvs/lvol` alias, num_allocated_clusters, name rules (errors with nothing changed
 *  on the device), snapshot/clone/rename/resize/read-only/inflate/decouple/delete, and reload. */
import { describe, expect, it } from 'vitest';
import { fill, OP, PAGE, same } from '../blob/bs-harness.js';
import { ERR, lvolHarness, type LvolHarness } from './lvol-harness.js';

const MiB = 1 << 20;
const CL = MiB / PAGE;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function store(name = 'lvs0', blocks = 16384, unmapZeroes = true) {
  const h = await lvolHarness();
  const disk = h.b.disk(blocks, 4096, unmapZeroes);
  const { rc, lvs } = h.initLvs(disk, name);
  expect(rc).toBe(0);
  return { h, disk, lvs };
}

function diskImage(h: LvolHarness, disk: number, blocks = 16384): Uint8Array {
  return h.b.diskBytes(disk, 0, blocks * PAGE);
}

describe('lvol store', () => {
  it('spdk_lvs_init: bstype LVOLSTORE, super blob with uuid (37 bytes) and name xattrs; lookups by name and uuid', async () => {
    const { h, disk, lvs } = await store('lvs0');
    const sb = h.b.diskBytes(disk, 0, PAGE);
    expect(new TextDecoder().decode(sb.subarray(56, 65))).toBe('LVOLSTORE');
    expect(h.lvsName(lvs)).toBe('lvs0');
    expect(h.lvsUuid(lvs)).toMatch(UUID_RE);
    expect(h.lvsInfo(lvs, 'clusterSz')).toBe(MiB);
    expect(h.m.api.spdk_wasm_lvs_get_by_name('lvs0')).toBe(lvs);
    expect(h.m.api.spdk_wasm_lvs_get_by_uuid(h.lvsUuid(lvs))).toBe(lvs);
    // the super blob on disk: open it through the blob API and read its xattrs
    const bs = h.m.api.spdk_wasm_lvs_blobstore(lvs);
    const superIdx = h.b.bsInfo(bs, 'superBlob');
    expect(superIdx).toBeGreaterThanOrEqual(0);
    const blob = h.b.open(bs, superIdx).result;
    const get = (n: string) => {
      const p = h.m.call('spdk_wasm_malloc', 512);
      const len = h.m.callStr('spdk_wasm_blob_get_xattr', blob, n, p, 512, 0) | 0;
      return h.m.mem.bytes().slice(p, p + len);
    };
    expect(get('uuid').length).toBe(37);
    expect(get('uuid')[36]).toBe(0);
    expect(dec(get('uuid').subarray(0, 36))).toBe(h.lvsUuid(lvs));
    expect(dec(get('name'))).toBe('lvs0\0');
    h.b.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
  });

  it('names: duplicate store name is -EEXIST, 256 characters -EINVAL, empty -EINVAL; the device is untouched', async () => {
    const { h } = await store('dup');
    const other = h.b.disk(4096);
    const before = h.b.diskBytes(other, 0, 4096 * PAGE);
    expect(h.initLvs(other, 'dup').rc).toBe(ERR.EEXIST);
    expect(h.initLvs(other, 'x'.repeat(256)).rc).toBe(ERR.EINVAL);
    expect(h.initLvs(other, '').rc).toBe(ERR.EINVAL);
    expect(same(h.b.diskBytes(other, 0, 4096 * PAGE), before)).toBe(true);
    expect(h.initLvs(other, 'y'.repeat(255)).rc).toBe(0); // LH fork: NAME_MAX 256 incl. NUL
  });

  it('unload is refused (-EBUSY) while an lvol is open; load finds every lvol by name with its uuid', async () => {
    const { h, disk, lvs } = await store('reload');
    const a = h.create(lvs, 'a', 3 * MiB, false);
    const b = h.create(lvs, 'b', 4 * MiB, true);
    const data = fill(2 * PAGE, 5);
    h.write(lvs, b.lvol, CL - 1, data);
    const snap = h.snapshot(b.lvol, 'b-snap');
    const uuids = Object.fromEntries([a, b, snap].map((x) => [h.name(x.lvol), h.uuid(x.lvol)]));
    expect(h.unloadLvs(lvs)).toBe(ERR.EBUSY);
    for (const l of h.lvols(lvs)) expect(h.rc(h.m.api.spdk_wasm_lvol_close(l))).toBe(0);
    expect(h.unloadLvs(lvs)).toBe(0);
    expect(h.m.api.spdk_wasm_lvs_get_by_name('reload')).toBe(0);
    const l = h.loadLvs(disk);
    expect(l.rc).toBe(0);
    expect(h.lvsName(l.lvs)).toBe('reload');
    expect(h.lvols(l.lvs).map((x) => h.name(x)).sort()).toEqual(['a', 'b', 'b-snap']);
    for (const [name, uuid] of Object.entries(uuids)) {
      const lv = h.byNames('reload', name);
      expect(lv, name).not.toBe(0);
      expect(h.uuid(lv)).toBe(uuid);
      expect(h.str(h.m.api.spdk_wasm_lvol_unique_id(lv))).toBe(uuid);
      expect(h.info(lv, 'refCount')).toBe(0); // loaded closed; the bdev layer opens them
    }
    const lb = h.byNames('reload', 'b');
    expect(h.rc(h.m.api.spdk_wasm_lvol_open(lb))).toBe(0);
    expect(h.m.api.spdk_wasm_lvol_parent(lb)).toBe(h.byNames('reload', 'b-snap'));
    expect(same(h.read(l.lvs, lb, CL - 1, 2), data)).toBe(true);
    // a second store with the same name cannot be loaded next to it
    expect(h.loadLvs(disk).rc).toBe(ERR.EEXIST);
  });

  it('a dirty load (no unload) recovers the lvols too', async () => {
    const { h, disk, lvs } = await store('dirty');
    const a = h.create(lvs, 'vol', 2 * MiB, true);
    h.write(lvs, a.lvol, 3, fill(PAGE, 9));
    expect(h.rc(h.m.api.spdk_wasm_lvol_close(a.lvol))).toBe(0);
    // Drop the in-memory store without unloading: name it out of the way, then load the device.
    const h2 = await lvolHarness();
    const disk2 = h2.b.disk(16384);
    h2.b.setDiskBytes(disk2, 0, diskImage(h, disk));
    const l = h2.loadLvs(disk2);
    expect(l.rc).toBe(0);
    const v = h2.byNames('dirty', 'vol');
    expect(h2.rc(h2.m.api.spdk_wasm_lvol_open(v))).toBe(0);
    expect(same(h2.read(l.lvs, v, 3, 1), fill(PAGE, 9))).toBe(true);
    expect(h2.info(v, 'allocated')).toBe(1);
  });

  it('load of a device that is not an lvol store fails cleanly', async () => {
    const h = await lvolHarness();
    const disk = h.b.disk(4096);
    expect(h.loadLvs(disk).rc).toBeLessThan(0);
    expect(h.m.crash).toBeUndefined();
  });
});

describe('lvols', () => {
  it('create thin and thick: name xattr is the whole NAME_MAX buffer, uuid 37 bytes, alias lvs/lvol, num_allocated_clusters', async () => {
    const { h, lvs } = await store('lvs1');
    const thin = h.create(lvs, 'thin', 5 * MiB + 1, true);
    const thick = h.create(lvs, 'thick', 3 * MiB, false);
    expect([thin.rc, thick.rc]).toEqual([0, 0]);
    expect(h.info(thin.lvol, 'numClusters')).toBe(6); // ceil(size / cluster_sz)
    expect(h.info(thin.lvol, 'allocated')).toBe(0);
    expect(h.info(thick.lvol, 'allocated')).toBe(3);
    expect(h.info(thin.lvol, 'thin')).toBe(1);
    expect(h.alias(thin.lvol)).toBe('lvs1/thin');
    expect(h.uuid(thin.lvol)).toMatch(UUID_RE);
    expect(h.uuid(thin.lvol)).not.toBe(h.uuid(thick.lvol));
    const name = h.xattr(thin.lvol, 'name')!;
    expect(name.length).toBe(256);
    expect(dec(name.subarray(0, 5))).toBe('thin\0');
    expect(name.subarray(5).every((x) => x === 0)).toBe(true);
    expect(h.xattr(thin.lvol, 'uuid')!.length).toBe(37);
    h.write(lvs, thin.lvol, CL + 1, fill(PAGE, 1));
    expect(h.info(thin.lvol, 'allocated')).toBe(1);
    expect(h.lvsInfo(lvs, 'lvols')).toBe(2);
  });

  it('bad names: duplicate -EEXIST, 256 chars -EINVAL, empty -EINVAL — the device is unchanged', async () => {
    const { h, disk, lvs } = await store('lvs2');
    h.create(lvs, 'taken', MiB, false);
    const before = diskImage(h, disk);
    const free = h.lvsInfo(lvs, 'freeClusters');
    expect(h.create(lvs, 'taken', MiB, false).rc).toBe(ERR.EEXIST);
    expect(h.create(lvs, 'n'.repeat(256), MiB, false).rc).toBe(ERR.EINVAL);
    expect(h.create(lvs, '', MiB, false).rc).toBe(ERR.EINVAL);
    const t = h.byNames('lvs2', 'taken');
    expect(h.snapshot(t, 'taken').rc).toBe(ERR.EEXIST);
    expect(h.rc(h.m.api.spdk_wasm_lvol_rename(t, 'r'.repeat(300)))).toBe(ERR.EINVAL);
    expect(same(diskImage(h, disk), before)).toBe(true);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free);
    expect(h.create(lvs, 'n'.repeat(255), MiB, false).rc).toBe(0);
  });

  it('rename: name xattr becomes strlen+1, lookups and alias follow; renaming onto a taken name changes nothing', async () => {
    const { h, disk, lvs } = await store('lvs3');
    const a = h.create(lvs, 'a', MiB, true).lvol;
    h.create(lvs, 'b', MiB, true);
    expect(h.rc(h.m.api.spdk_wasm_lvol_rename(a, 'a2'))).toBe(0);
    expect(dec(h.xattr(a, 'name'))).toBe('a2\0');
    expect(h.byNames('lvs3', 'a2')).toBe(a);
    expect(h.byNames('lvs3', 'a')).toBe(0);
    expect(h.alias(a)).toBe('lvs3/a2');
    const before = diskImage(h, disk);
    expect(h.rc(h.m.api.spdk_wasm_lvol_rename(a, 'b'))).toBe(ERR.EEXIST);
    expect(h.name(a)).toBe('a2');
    expect(same(diskImage(h, disk), before)).toBe(true);
  });

  it('snapshot (head count drops to 0, snapshot read-only with the old count), clone, delete rules, merge on delete', async () => {
    const { h, lvs } = await store('lvs4');
    const head = h.create(lvs, 'head', 4 * MiB, true).lvol;
    const d = fill(3 * CL * PAGE, 3);
    h.write(lvs, head, 0, d);
    expect(h.info(head, 'allocated')).toBe(3);
    const s = h.snapshot(head, 'snap');
    expect(s.rc).toBe(0);
    expect(h.info(head, 'allocated')).toBe(0);
    expect(h.info(s.lvol, 'allocated')).toBe(3);
    expect(h.info(s.lvol, 'readOnly')).toBe(1);
    expect(h.info(s.lvol, 'isSnapshot')).toBe(1);
    expect(h.info(head, 'isClone')).toBe(1);
    expect(same(h.read(lvs, s.lvol, 0, 3 * CL), d)).toBe(true);
    expect(h.clone(head, 'nope').rc).toBe(ERR.EINVAL); // clone of a writable lvol
    const c = h.clone(s.lvol, 'clone1');
    expect(c.rc).toBe(0);
    expect(same(h.read(lvs, c.lvol, 0, 3 * CL), d)).toBe(true);
    expect(h.info(s.lvol, 'cloneCount')).toBe(2);
    // a snapshot with two clones cannot go
    expect(h.delete(s.lvol)).toBe(ERR.EPERM);
    expect(h.delete(c.lvol)).toBe(0);
    expect(h.byNames('lvs4', 'clone1')).toBe(0);
    // one clone left: deleting the snapshot hands its clusters to the (open) head
    const snap = h.byNames('lvs4', 'snap');
    expect(h.delete(snap)).toBe(0);
    expect(h.info(head, 'allocated')).toBe(3);
    expect(h.info(head, 'isClone')).toBe(0);
    expect(same(h.read(lvs, head, 0, 3 * CL), d)).toBe(true);
  });

  it('resize grows and shrinks (thick claims clusters); set_read_only blocks writes and xattrs; inflate and decouple', async () => {
    const { h, lvs } = await store('lvs5');
    const free0 = h.lvsInfo(lvs, 'freeClusters');
    const v = h.create(lvs, 'v', 2 * MiB, false).lvol;
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(v, 5 * MiB))).toBe(0);
    expect(h.info(v, 'numClusters')).toBe(5);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free0 - 5);
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(v, MiB))).toBe(0);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free0 - 1);
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(v, 1e12))).toBe(ERR.ENOSPC);
    // a user xattr (Longhorn's engine stores its own this way), then read-only; the library's own
    // names (name, uuid, creation_time, checksum) are not the caller's to set
    const val = new TextEncoder().encode('abc');
    const p = h.m.call('spdk_wasm_malloc', 3);
    h.m.mem.bytes().set(val, p);
    expect(h.rc(h.m.api.spdk_wasm_lvol_set_xattr(v, 'user_created', p, 3))).toBe(0);
    expect(dec(h.xattr(v, 'user_created'))).toBe('abc');
    for (const owned of ['name', 'uuid', 'creation_time', 'checksum']) {
      expect(h.rc(h.m.api.spdk_wasm_lvol_set_xattr(v, owned, p, 3)), owned).toBe(ERR.EINVAL);
    }
    expect(h.xattr(v, 'checksum')).toBeUndefined();
    expect(h.rc(h.m.api.spdk_wasm_lvol_set_read_only(v))).toBe(0);
    expect(h.info(v, 'readOnly')).toBe(1);
    expect(h.io(lvs, v, OP.write, 0, 1, fill(PAGE, 1)).rc).toBe(ERR.EPERM);
    expect(h.rc(h.m.api.spdk_wasm_lvol_set_xattr(v, 'user_created', p, 3))).toBe(ERR.EPERM);
    // inflate / decouple
    const base = h.create(lvs, 'base', 3 * MiB, true).lvol;
    h.write(lvs, base, 0, fill(PAGE, 2));
    h.write(lvs, base, 2 * CL, fill(PAGE, 3));
    const s1 = h.snapshot(base, 's1').lvol;
    h.write(lvs, base, CL, fill(PAGE, 4));
    const s2 = h.snapshot(base, 's2').lvol;
    const whole = h.read(lvs, base, 0, 3 * CL);
    expect(h.rc(h.m.api.spdk_wasm_lvol_decouple_parent(base))).toBe(0);
    expect(h.m.api.spdk_wasm_lvol_parent(base)).toBe(s1);
    expect(h.info(base, 'allocated')).toBe(1); // only what s2 had
    expect(same(h.read(lvs, base, 0, 3 * CL), whole)).toBe(true);
    expect(h.rc(h.m.api.spdk_wasm_lvol_inflate(base))).toBe(0);
    expect(h.info(base, 'allocated')).toBe(3);
    expect(h.info(base, 'thin')).toBe(0);
    expect(h.m.api.spdk_wasm_lvol_parent(base)).toBe(0);
    expect(same(h.read(lvs, base, 0, 3 * CL), whole)).toBe(true);
    expect(s2).not.toBe(0);
  });

  it('destroy of an open lvol is -EBUSY (bdev_lvol_delete closes first)', async () => {
    const { h, lvs } = await store('lvs6');
    const v = h.create(lvs, 'v', MiB, true).lvol;
    expect(h.rc(h.m.api.spdk_wasm_lvol_destroy(v))).toBe(ERR.EBUSY);
    expect(h.delete(v)).toBe(0);
    expect(h.lvsInfo(lvs, 'lvols')).toBe(0);
  });
});

describe('spec §8(a) at the lvol level (longhorn#9876, #10135)', () => {
  for (const variant of ['unpatched', 'patched'] as const) {
    it(`${variant}: a thin lvol on an unmap-less disk dirtied by a deleted lvol ${variant === 'unpatched' ? 'shows the stale bytes' : 'reads zeros'} in an allocated cluster`, async () => {
      const h = await lvolHarness(variant);
      const disk = h.b.disk(16384, 4096, false); // AIO disk without fallocate: unmap is a no-op
      const { lvs } = h.initLvs(disk, 'lh', { clear: 2 });
      const old = h.create(lvs, 'old', 4 * MiB, false).lvol;
      const P = new Uint8Array(4 * MiB).fill(0xa5);
      h.write(lvs, old, 0, P);
      expect(h.delete(old)).toBe(0);
      const head = h.create(lvs, 'bi-temp-head', 4 * MiB, true).lvol;
      const D = fill(PAGE, 77);
      h.write(lvs, head, 0, D);
      expect(h.info(head, 'allocated')).toBe(1);
      const r = h.read(lvs, head, 0, CL);
      expect(same(r.subarray(0, PAGE), D)).toBe(true);
      const rest = r.subarray(PAGE);
      expect(rest.every((x) => x === (variant === 'unpatched' ? 0xa5 : 0))).toBe(true);
      // never-written clusters read zero either way
      expect(h.read(lvs, head, CL, 3 * CL).every((x) => x === 0)).toBe(true);
      // the snapshot freezes exactly these bytes and takes the allocation count
      const s = h.snapshot(head, 'bi-snap').lvol;
      expect(h.info(s, 'allocated')).toBe(1);
      expect(h.info(head, 'allocated')).toBe(0);
      expect(same(h.read(lvs, s, 0, CL), r)).toBe(true);
    });
  }
});
