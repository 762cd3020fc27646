/**
 * Model-based property tests (issue 4 item 7): random sequences of blob operations run against
 * the real C (release variant, UT-style device whose unmap zeroes) and against a plain TypeScript
 * model of every blob's bytes: its own clusters, its parent, its size. After every operation the
 * touched blob is read back in full and compared, with num_allocated_clusters, parent, thin and
 * read-only; after a reload (clean or dirty) every blob is.
 *
 * Seeded and bounded (fast); on failure fast-check prints the shrunk operation list, e.g.
 *   [{"op":"create","thin":true,"size":2},{"op":"write","b":0,"off":3,"len":2,"seed":7},...]
 * and the seed/path to replay it with `fc.assert(..., { seed, path })`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobHarness, fill, OP, PAGE, same, type BlobHarness } from './bs-harness.js';

const CLUSTER = 16 << 10;
const IO_PER_CL = CLUSTER / PAGE;
const BLOCKS = 512; // 2 MiB: 128 clusters
const MAX_SIZE = 6;
const E = { PERM: -63, INVAL: -28, BUSY: -10 } as const;

type Op =
  | { op: 'create'; thin: boolean; size: number; rle: boolean }
  | { op: 'write' | 'writeZeroes' | 'unmap' | 'read'; b: number; off: number; len: number; seed: number }
  | { op: 'resize'; b: number; size: number }
  | { op: 'snapshot' | 'clone' | 'inflate' | 'decouple' | 'delete' | 'sync'; b: number }
  | { op: 'reload'; dirty: boolean };

/** One blob of the reference model. */
interface MBlob {
  size: number;
  thin: boolean;
  ro: boolean;
  parent: number | undefined;
  own: Map<number, Uint8Array>;
}

class Model {
  blobs = new Map<number, MBlob>();
  constructor(readonly dataClusters: number) {}

  readCluster(id: number, c: number): Uint8Array {
    const b = this.blobs.get(id)!;
    if (c >= b.size) return new Uint8Array(CLUSTER);
    const own = b.own.get(c);
    if (own) return own;
    return b.parent === undefined ? new Uint8Array(CLUSTER) : this.readCluster(b.parent, c);
  }

  bytes(id: number): Uint8Array {
    const b = this.blobs.get(id)!;
    const out = new Uint8Array(b.size * CLUSTER);
    for (let c = 0; c < b.size; c++) out.set(this.readCluster(id, c), c * CLUSTER);
    return out;
  }

  allocated(): number {
    let n = 0;
    for (const b of this.blobs.values()) n += b.own.size;
    return n;
  }

  free(): number {
    return this.dataClusters - this.allocated();
  }

  clones(id: number): number[] {
    return [...this.blobs].filter(([, b]) => b.parent === id).map(([i]) => i);
  }
}

const ioOp = (kind: 'write' | 'writeZeroes' | 'unmap' | 'read') =>
  fc.record({ op: fc.constant(kind), b: fc.nat(7), off: fc.nat(MAX_SIZE * IO_PER_CL), len: fc.integer({ min: 1, max: 2 * IO_PER_CL + 1 }), seed: fc.nat(1000) });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('create' as const), thin: fc.boolean(), size: fc.integer({ min: 0, max: MAX_SIZE }), rle: fc.boolean() }) },
  { weight: 5, arbitrary: ioOp('write') },
  { weight: 1, arbitrary: ioOp('writeZeroes') },
  { weight: 2, arbitrary: ioOp('unmap') },
  { weight: 1, arbitrary: ioOp('read') },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('resize' as const), b: fc.nat(7), size: fc.integer({ min: 0, max: MAX_SIZE }) }) },
  ...(['snapshot', 'clone', 'inflate', 'decouple', 'delete', 'sync'] as const).map((op) => ({ weight: op === 'snapshot' || op === 'clone' ? 2 : 1, arbitrary: fc.record({ op: fc.constant(op), b: fc.nat(7) }) })),
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const), dirty: fc.boolean() }) },
);

/** The C side: one blobstore on a fresh disk, every blob kept open. */
class Real {
  bs: number;
  ch: number;
  handles = new Map<number, number>();
  constructor(readonly h: BlobHarness, readonly disk: number) {
    const r = h.init(disk, { clusterSz: CLUSTER });
    if (r.rc !== 0) throw new Error(`bs_init: ${r.rc}`);
    this.bs = r.result;
    this.ch = h.m.call('spdk_wasm_bs_alloc_io_channel', this.bs);
  }

  open(id: number): void {
    this.handles.set(id, this.h.ok(this.h.m.call('spdk_wasm_bs_open_blob', this.bs, id), `open ${id}`));
  }

  close(id: number): void {
    this.h.ok(this.h.m.call('spdk_wasm_blob_close', this.handles.get(id)!), `close ${id}`);
    this.handles.delete(id);
  }

  reload(dirty: boolean): void {
    const ids = [...this.handles.keys()];
    for (const id of ids) this.close(id);
    this.h.m.call('spdk_wasm_bs_free_io_channel', this.ch);
    if (!dirty) this.h.ok(this.h.m.call('spdk_wasm_bs_unload', this.bs), 'unload');
    const l = this.h.load(this.disk);
    if (l.rc !== 0) throw new Error(`load (dirty=${dirty}): ${l.rc}`);
    this.bs = l.result;
    this.ch = this.h.m.call('spdk_wasm_bs_alloc_io_channel', this.bs);
    for (const id of ids) this.open(id);
  }

  dispose(): void {
    for (const id of [...this.handles.keys()]) this.close(id);
    this.h.m.call('spdk_wasm_bs_free_io_channel', this.ch);
    this.h.ok(this.h.m.call('spdk_wasm_bs_unload', this.bs), 'unload');
  }
}

function check(h: BlobHarness, model: Model, real: Real, id: number, after: string): void {
  const b = model.blobs.get(id)!;
  const blob = real.handles.get(id)!;
  const got = {
    size: h.blobInfo(blob, 'numClusters'),
    allocated: h.blobInfo(blob, 'allocated'),
    parent: h.blobInfo(blob, 'parent'),
    thin: h.blobInfo(blob, 'thin') === 1,
    ro: h.blobInfo(blob, 'readOnly') === 1,
  };
  expect(got, `blob ${id} after ${after}`).toEqual({ size: b.size, allocated: b.own.size, parent: b.parent ?? -1, thin: b.thin, ro: b.ro });
  const bytes = h.io(blob, real.ch, OP.read, 0, b.size * IO_PER_CL).bytes;
  const want = model.bytes(id);
  if (!same(bytes, want)) {
    const i = bytes.findIndex((x, k) => x !== want[k]);
    throw new Error(`blob ${id} after ${after}: bytes differ first at ${i} (cluster ${Math.floor(i / CLUSTER)}, io_unit ${Math.floor(i / PAGE)}): got ${bytes[i]} want ${want[i]}`);
  }
}

/** Runs one op on both sides; returns the blob ids to check afterwards. */
function step(h: BlobHarness, model: Model, real: Real, o: Op): number[] {
  const m = h.m;
  const ids = [...model.blobs.keys()];
  const pick = (b: number) => ids[b % ids.length]!;
  switch (o.op) {
    case 'create': {
      if (!o.thin && o.size > model.free()) return [];
      const id = h.create(real.bs, { clusters: o.size, thin: o.thin, extentTable: !o.rle });
      expect(id.rc, 'create').toBe(0);
      const own = new Map<number, Uint8Array>();
      if (!o.thin) for (let c = 0; c < o.size; c++) own.set(c, new Uint8Array(CLUSTER));
      model.blobs.set(id.result, { size: o.size, thin: o.thin, ro: false, parent: undefined, own });
      real.open(id.result);
      return [id.result];
    }
    case 'write':
    case 'writeZeroes':
    case 'unmap':
    case 'read': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      const blob = real.handles.get(id)!;
      const first = Math.floor(o.off / IO_PER_CL), last = Math.floor((o.off + o.len - 1) / IO_PER_CL);
      const inRange = o.off + o.len <= b.size * IO_PER_CL;
      let newClusters = 0;
      for (let c = first; c <= last && o.op !== 'read' && o.op !== 'unmap'; c++) if (!b.own.has(c)) newClusters++;
      if (inRange && !b.ro && newClusters > model.free()) return [];
      const data = o.op === 'write' ? fill(o.len * PAGE, o.seed + 1) : undefined;
      const r = h.io(blob, real.ch, OP[o.op], o.off, o.len, data);
      if (o.op !== 'read' && b.ro) {
        expect(r.rc, `${o.op} on a read-only blob`).toBe(E.PERM);
        return [];
      }
      if (!inRange) {
        expect(r.rc, `${o.op} beyond the blob`).toBe(E.INVAL);
        return [];
      }
      expect(r.rc, o.op).toBe(0);
      if (o.op === 'read') {
        const want = model.bytes(id).subarray(o.off * PAGE, (o.off + o.len) * PAGE);
        expect(same(r.bytes, want), `read of blob ${id} io_units ${o.off}+${o.len}`).toBe(true);
        return [];
      }
      for (let c = first; c <= last; c++) {
        const lo = Math.max(o.off, c * IO_PER_CL) - c * IO_PER_CL, hi = Math.min(o.off + o.len, (c + 1) * IO_PER_CL) - c * IO_PER_CL;
        if (o.op === 'unmap') {
          const own = b.own.get(c);
          if (own === undefined) continue; // unmap of a hole changes nothing
          if (lo === 0 && hi === IO_PER_CL && b.thin && b.parent === undefined) b.own.delete(c); // freed
          else own.fill(0, lo * PAGE, hi * PAGE); // the device zeroes on unmap
          continue;
        }
        let own = b.own.get(c);
        if (own === undefined) {
          own = model.readCluster(id, c).slice(); // copy-on-write (or zeroes)
          b.own.set(c, own);
        }
        if (data) own.set(data.subarray((c * IO_PER_CL + lo - o.off) * PAGE, (c * IO_PER_CL + hi - o.off) * PAGE), lo * PAGE);
        else own.fill(0, lo * PAGE, hi * PAGE);
      }
      return [id];
    }
    case 'resize': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      if (!b.thin && !b.ro && o.size > b.size && o.size - b.size > model.free()) return [];
      const rc = h.run(m.call('spdk_wasm_blob_resize', real.handles.get(id)!, o.size)).rc;
      if (b.ro) {
        expect(rc, 'resize of a read-only blob').toBe(E.PERM);
        return [];
      }
      expect(rc, 'resize').toBe(0);
      h.ok(m.call('spdk_wasm_blob_sync_md', real.handles.get(id)!), 'sync after resize');
      for (const c of [...b.own.keys()]) if (c >= o.size) b.own.delete(c);
      if (!b.thin) for (let c = b.size; c < o.size; c++) b.own.set(c, new Uint8Array(CLUSTER));
      b.size = o.size;
      return [id];
    }
    case 'snapshot': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      const r = h.run(m.call('spdk_wasm_bs_create_snapshot', real.bs, id));
      if (b.ro) {
        expect(r.rc, 'snapshot of a read-only blob').toBe(E.INVAL);
        return [];
      }
      expect(r.rc, 'snapshot').toBe(0);
      model.blobs.set(r.result, { size: b.size, thin: true, ro: true, parent: b.parent, own: b.own });
      b.own = new Map();
      b.parent = r.result;
      b.thin = true;
      real.open(r.result);
      return [id, r.result];
    }
    case 'clone': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      const r = h.run(m.call('spdk_wasm_bs_create_clone', real.bs, id));
      if (!b.ro) {
        expect(r.rc, 'clone of a writable blob').toBe(E.INVAL);
        return [];
      }
      expect(r.rc, 'clone').toBe(0);
      model.blobs.set(r.result, { size: b.size, thin: true, ro: false, parent: id, own: new Map() });
      real.open(r.result);
      return [r.result];
    }
    case 'inflate':
    case 'decouple': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      const p = b.parent === undefined ? undefined : model.blobs.get(b.parent)!;
      const need = [...Array(b.size).keys()].filter((c) => !b.own.has(c) && (o.op === 'inflate' ? b.thin : p?.own.has(c)));
      if (!b.ro && need.length > model.free()) return [];
      const fn = o.op === 'inflate' ? 'spdk_wasm_bs_inflate_blob' : 'spdk_wasm_bs_blob_decouple_parent';
      const rc = h.run(m.call(fn, real.bs, real.ch, id)).rc;
      if (b.ro) {
        expect(rc, `${o.op} of a read-only blob`).toBe(E.PERM);
        return [];
      }
      if (o.op === 'decouple' && p === undefined) {
        expect(rc, 'decouple without a parent').toBe(E.INVAL);
        return [];
      }
      expect(rc, o.op).toBe(0);
      for (const c of need) b.own.set(c, model.readCluster(id, c).slice());
      if (o.op === 'inflate') {
        if (b.thin) {
          b.parent = undefined;
          b.thin = false;
        }
      } else {
        b.parent = p!.parent;
      }
      return [id];
    }
    case 'delete': {
      if (ids.length === 0) return [];
      const id = pick(o.b), b = model.blobs.get(id)!;
      const clones = model.clones(id);
      real.close(id);
      const rc = h.run(m.call('spdk_wasm_bs_delete_blob', real.bs, id)).rc;
      if (clones.length > 1) {
        expect(rc, 'delete of a snapshot with two clones').toBe(E.BUSY);
        real.open(id);
        return [];
      }
      expect(rc, 'delete').toBe(0);
      model.blobs.delete(id);
      if (clones.length === 1) {
        const k = model.blobs.get(clones[0]!)!;
        for (const [c, data] of b.own) if (c < k.size && !k.own.has(c)) k.own.set(c, data);
        k.parent = b.parent;
        return [clones[0]!];
      }
      return [];
    }
    case 'sync': {
      if (ids.length === 0) return [];
      const id = pick(o.b);
      h.ok(m.call('spdk_wasm_blob_sync_md', real.handles.get(id)!), 'sync');
      return [id];
    }
    case 'reload':
      real.reload(o.dirty);
      expect(h.bsInfo(real.bs, 'freeClusters'), 'free clusters after reload').toBe(model.free());
      return ids;
  }
}

describe('blob operations against a reference model (fast-check)', () => {
  let h: BlobHarness;
  beforeAll(async () => {
    h = await blobHarness('unpatched', 'release');
  });

  function runSequence(ops: Op[]): void {
    const disk = h.disk(BLOCKS);
    try {
      const real = new Real(h, disk);
      const model = new Model(h.bsInfo(real.bs, 'dataClusters'));
      ops.forEach((o, i) => {
        const where = `op ${i} ${JSON.stringify(o)}`;
        for (const id of step(h, model, real, o)) {
          if (!model.blobs.has(id)) continue;
          check(h, model, real, id, where);
          checks++;
        }
      });
      real.reload(false);
      for (const id of model.blobs.keys()) check(h, model, real, id, 'final clean reload');
      expect(h.bsInfo(real.bs, 'freeClusters'), 'free clusters').toBe(model.free());
      real.dispose();
    } finally {
      h.m.call('spdk_wasm_mem_disk_free', disk);
    }
  }

  let checks = 0;
  afterAll(() => console.log(`blob properties: ${checks} blob checks against the model`));

  it('random sequences keep every blob equal to the model (seed 20261121, 300 runs)', () => {
    const start: Op[] = [{ op: 'create', thin: true, size: 4, rle: false }, { op: 'create', thin: false, size: 3, rle: true }];
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), (ops) => runSequence([...start, ...ops])), { seed: 20261121, numRuns: 300 });
  });

  it('snapshot chains: clone, write, snapshot again, delete in the middle, inflate (seed 7, 200 runs)', () => {
    const chainy = fc.array(fc.oneof(
      { weight: 4, arbitrary: ioOp('write') },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('snapshot' as const), b: fc.nat(7) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('clone' as const), b: fc.nat(7) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), b: fc.nat(7) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('decouple' as const), b: fc.nat(7) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('inflate' as const), b: fc.nat(7) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const), dirty: fc.boolean() }) },
    ), { minLength: 1, maxLength: 30, size: 'max' });
    const start: Op[] = [{ op: 'create', thin: true, size: 4, rle: false }];
    fc.assert(fc.property(chainy, (ops) => runSequence([...start, ...ops])), { seed: 7, numRuns: 200 });
  });
});
