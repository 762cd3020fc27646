/**
 * Power-failure sweep (issue 4 item 7), asan variant, in the style of blob_ut's dirty-shutdown
 * tests: for each metadata operation (md sync, cluster insert, resize, snapshot, delete) count the
 * device commands it issues, then for every index k fail the k-th command and every later one
 * (spdk_power_failure_thresholds.general_threshold), reload with dirty-load recovery and check:
 *  - the super block on the device is the old or the new one, never torn;
 *  - the set of live blobs and each blob's size, parent, read-only flag, xattrs and bytes are the
 *    state before the operation or after it (synced data intact);
 *  - the store stays usable, and after a clean unload the independent TypeScript decoder
 *    (bs-decode.ts) finds no cluster or md page owned twice, no leaked or missing mask bit,
 *    no dangling parent and no leftover SNAPTMP/SNAPRM.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobHarness, fill, OP, PAGE, type BlobHarness } from './bs-harness.js';
import { storeProblems } from './bs-decode.js';

const CLUSTER = 32 << 10;
const IO_PER_CL = CLUSTER / PAGE;
const BLOCKS = 1024; // 4 MiB: 128 clusters, 128 md pages
const CHECK_CLUSTERS = 8; // bytes compared per blob (enough for every blob set up below)

type Names = Record<string, number>;

interface Ctx { h: BlobHarness; bs: number; ch: number; names: Names; blobs: Map<string, number> }

interface Scenario {
  name: string;
  /** Blobs to open after the load (by setup name). */
  open: string[];
  /** Runs without faults before the thresholds are armed. */
  pre?: (c: Ctx) => void;
  /** The operation under test: returns its op handle. */
  op: (c: Ctx) => number;
}

const m = (c: Ctx) => c.h.m;

function setXattr(c: Ctx, blob: number, name: string, value: Uint8Array): void {
  const p = m(c).call('spdk_wasm_malloc', value.length || 1);
  m(c).mem.bytes().set(value, p);
  const rc = m(c).callStr('spdk_wasm_blob_set_xattr', blob, name, p, value.length, 0);
  m(c).call('spdk_wasm_free', p);
  if (rc !== 0) throw new Error(`set_xattr ${name}: ${rc}`);
}

const XATTR_NAMES = ['name', 'x1', 'x2', 'x3'];

/** Builds the store every scenario starts from; returns its bytes and the blob indexes. */
function buildImage(h: BlobHarness, disk: number): { image: Uint8Array; names: Names } {
  const bs = h.init(disk, { clusterSz: CLUSTER }).result;
  const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
  const names: Names = {};
  const c: Ctx = { h, bs, ch, names, blobs: new Map() };
  const close = (b: number) => h.ok(h.m.call('spdk_wasm_blob_close', b), 'close');
  const write = (b: number, off: number, len: number, seed: number) => {
    const r = h.io(b, ch, OP.write, off, len, fill(len * PAGE, seed));
    if (r.rc !== 0) throw new Error(`setup write: ${r.rc}`);
  };
  // A: thick, 4 clusters, every byte written
  names.A = h.create(bs, { clusters: 4, xattr: ['name', new TextEncoder().encode('A')] }).result;
  let b = h.open(bs, names.A).result;
  write(b, 0, 4 * IO_PER_CL, 1);
  close(b);
  // B: thin with extent table, then snapshotted (S) and written again (copy-on-write)
  names.B = h.create(bs, { clusters: 8, thin: true }).result;
  b = h.open(bs, names.B).result;
  write(b, 0, 4, 2);
  write(b, 2 * IO_PER_CL, IO_PER_CL, 3);
  write(b, 5 * IO_PER_CL + 5, 1, 4);
  const s = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, names.B));
  if (s.rc !== 0) throw new Error(`setup snapshot: ${s.rc}`);
  names.S = s.result;
  write(b, 2 * IO_PER_CL + 8, 2, 5);
  write(b, 7 * IO_PER_CL, 1, 6);
  close(b);
  // C: thin with RLE extents
  names.C = h.create(bs, { clusters: 6, thin: true, extentTable: false }).result;
  b = h.open(bs, names.C).result;
  write(b, IO_PER_CL + 3, 3, 7);
  write(b, 3 * IO_PER_CL, IO_PER_CL, 8);
  close(b);
  // D: a three-page md chain (two 3000-byte xattrs do not share a page)
  names.D = h.create(bs, { clusters: 2, thin: true }).result;
  b = h.open(bs, names.D).result;
  setXattr(c, b, 'x1', fill(3000, 9));
  setXattr(c, b, 'x2', fill(3000, 10));
  write(b, 0, 1, 11);
  close(b);
  h.m.call('spdk_wasm_bs_free_io_channel', ch);
  h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'setup unload');
  return { image: h.diskBytes(disk, 0, BLOCKS * PAGE), names };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'md sync of a multi-page chain (xattr added and removed)',
    open: ['D'],
    pre: (c) => {
      setXattr(c, c.blobs.get('D')!, 'x3', fill(3500, 12));
      expect(m(c).callStr('spdk_wasm_blob_remove_xattr', c.blobs.get('D')!, 'x1', 0)).toBe(0);
    },
    op: (c) => m(c).call('spdk_wasm_blob_sync_md', c.blobs.get('D')!),
  },
  {
    name: 'cluster insert: first write to a hole of a clone (extent page rewrite)',
    open: ['B'],
    op: (c) => ioOp(c, 'B', 6 * IO_PER_CL + 1, 13),
  },
  {
    name: 'cluster insert: copy-on-write of a parent cluster',
    open: ['B'],
    op: (c) => ioOp(c, 'B', 5 * IO_PER_CL, 14),
  },
  {
    name: 'cluster insert: first write to a hole of an RLE blob (whole md sync)',
    open: ['C'],
    op: (c) => ioOp(c, 'C', 0, 15),
  },
  {
    name: 'resize: grow thick A 4 -> 12 and sync',
    open: ['A'],
    pre: (c) => c.h.ok(m(c).call('spdk_wasm_blob_resize', c.blobs.get('A')!, 12), 'resize'),
    op: (c) => m(c).call('spdk_wasm_blob_sync_md', c.blobs.get('A')!),
  },
  {
    name: 'resize: shrink thick A 4 -> 1 and sync (clusters released)',
    open: ['A'],
    pre: (c) => c.h.ok(m(c).call('spdk_wasm_blob_resize', c.blobs.get('A')!, 1), 'resize'),
    op: (c) => m(c).call('spdk_wasm_blob_sync_md', c.blobs.get('A')!),
  },
  {
    name: 'resize: grow thin B past one extent page (8 -> 600) and sync',
    open: ['B'],
    pre: (c) => c.h.ok(m(c).call('spdk_wasm_blob_resize', c.blobs.get('B')!, 600), 'resize'),
    op: (c) => m(c).call('spdk_wasm_blob_sync_md', c.blobs.get('B')!),
  },
  {
    name: 'resize: shrink RLE blob C 6 -> 2 and sync',
    open: ['C'],
    pre: (c) => c.h.ok(m(c).call('spdk_wasm_blob_resize', c.blobs.get('C')!, 2), 'resize'),
    op: (c) => m(c).call('spdk_wasm_blob_sync_md', c.blobs.get('C')!),
  },
  { name: 'snapshot of thick A', open: [], op: (c) => m(c).call('spdk_wasm_bs_create_snapshot', c.bs, c.names.A!) },
  { name: 'snapshot of clone B (S <- new <- B)', open: [], op: (c) => m(c).call('spdk_wasm_bs_create_snapshot', c.bs, c.names.B!) },
  { name: 'snapshot of RLE blob C', open: [], op: (c) => m(c).call('spdk_wasm_bs_create_snapshot', c.bs, c.names.C!) },
  { name: 'delete thick A', open: [], op: (c) => m(c).call('spdk_wasm_bs_delete_blob', c.bs, c.names.A!) },
  { name: 'delete RLE blob C', open: [], op: (c) => m(c).call('spdk_wasm_bs_delete_blob', c.bs, c.names.C!) },
  { name: 'delete clone B', open: [], op: (c) => m(c).call('spdk_wasm_bs_delete_blob', c.bs, c.names.B!) },
  { name: 'delete snapshot S with one clone (merged into B)', open: [], op: (c) => m(c).call('spdk_wasm_bs_delete_blob', c.bs, c.names.S!) },
  { name: 'delete D (three-page chain)', open: [], op: (c) => m(c).call('spdk_wasm_bs_delete_blob', c.bs, c.names.D!) },
];

function ioOp(c: Ctx, blob: string, off: number, seed: number): number {
  const buf = m(c).call('spdk_wasm_malloc', PAGE);
  m(c).mem.bytes().set(fill(PAGE, seed), buf);
  // The buffer is leaked on purpose: the op may still be reading it when the test moves on.
  return m(c).call('spdk_wasm_blob_io', c.blobs.get(blob)!, c.ch, OP.write, buf, off, 1);
}

/** What a blob looks like through the C: size, parent, flags, xattrs and a digest of its bytes. */
function blobState(h: BlobHarness, bs: number, ch: number, idx: number): string {
  const o = h.open(bs, idx);
  if (o.rc !== 0) return `absent (${o.rc})`;
  const b = o.result;
  const n = h.blobInfo(b, 'numClusters');
  const bytes = h.io(b, ch, OP.read, 0, Math.min(n, CHECK_CLUSTERS) * IO_PER_CL).bytes;
  const xattrs = XATTR_NAMES.map((x) => {
    const p = h.m.call('spdk_wasm_malloc', 4096);
    const len = h.m.callStr('spdk_wasm_blob_get_xattr', b, x, p, 4096, 0) | 0;
    const v = len >= 0 ? createHash('sha1').update(h.m.mem.bytes().subarray(p, p + len)).digest('hex').slice(0, 8) : '-';
    h.m.call('spdk_wasm_free', p);
    return `${x}=${v}`;
  });
  const st = `size ${n} parent ${h.blobInfo(b, 'parent')} ro ${h.blobInfo(b, 'readOnly')} thin ${h.blobInfo(b, 'thin')} ${xattrs.join(' ')} data ${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`;
  h.ok(h.m.call('spdk_wasm_blob_close', b), 'close');
  return st;
}

function liveBlobs(h: BlobHarness, bs: number): number[] {
  const out: number[] = [];
  const mdLen = h.bsInfo(bs, 'mdLen');
  for (let i = 0; i < mdLen; i++) if (h.m.call('spdk_wasm_bs_map_get', bs, 2, i) === 1) out.push(i);
  return out;
}

function snapshotState(h: BlobHarness, bs: number): Map<number, string> {
  const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
  const out = new Map<number, string>();
  for (const i of liveBlobs(h, bs)) out.set(i, blobState(h, bs, ch, i));
  h.m.call('spdk_wasm_bs_free_io_channel', ch);
  return out;
}

function drain(h: BlobHarness): void {
  for (let i = 0; i < 100_000; i++) if (!h.m.pollOnce().busy) return;
  throw new Error('machine never went idle');
}

const NO_FAULT = 0xffffffff;

function setFault(h: BlobHarness, disk: number, general: number): void {
  h.m.call('spdk_wasm_mem_disk_set_power_failure', disk, general, 0, 0, 0, 0, 0);
}

/** Loads the image and runs the scenario up to and including `op` with the fault at k (0 = none). */
function runScenario(h: BlobHarness, disk: number, image: Uint8Array, names: Names, s: Scenario, k: number): { rc: number; bs: number; count: number } {
  h.setDiskBytes(disk, 0, image);
  setFault(h, disk, 0);
  const l = h.load(disk);
  if (l.rc !== 0) throw new Error(`load of the setup image failed: ${l.rc}`);
  const c: Ctx = { h, bs: l.result, ch: h.m.call('spdk_wasm_bs_alloc_io_channel', l.result), names, blobs: new Map() };
  for (const n of s.open) c.blobs.set(n, h.open(c.bs, names[n]!).result);
  s.pre?.(c);
  setFault(h, disk, k === 0 ? NO_FAULT : k);
  const { rc } = h.run(s.op(c));
  drain(h);
  const count = h.counter(disk, 'general');
  return { rc, bs: c.bs, count };
}

describe('power-failure sweep (asan): crash at every device command, dirty load, store consistent', () => {
  let h: BlobHarness;
  let disk: number;
  let image: Uint8Array;
  let names: Names;
  let oldState: Map<number, string>;
  let oldSuper: Uint8Array;
  const fired: Record<string, number> = {};

  // Every ASan malloc and free snapshots the JS stack (emscripten_stack_snapshot); vitest's
  // source-mapping Error.prepareStackTrace makes that ~10x dearer. V8's own formatting still
  // names the wasm frames a crash report needs.
  const errorCtor = Error as { prepareStackTrace?: unknown };
  const savedPrepare = errorCtor.prepareStackTrace;
  beforeAll(() => {
    delete errorCtor.prepareStackTrace;
  });
  afterAll(() => {
    errorCtor.prepareStackTrace = savedPrepare;
  });

  beforeAll(async () => {
    h = await blobHarness('unpatched', 'asan');
    disk = h.disk(BLOCKS);
    ({ image, names } = buildImage(h, disk));
    oldSuper = image.slice(0, PAGE);
    h.setDiskBytes(disk, 0, image);
    const l = h.load(disk);
    oldState = snapshotState(h, l.result);
  });

  afterAll(() => {
    const total = Object.values(fired).reduce((a, b) => a + b, 0);
    console.log(`power-failure sweep: ${total} crashed operations over ${Object.keys(fired).length} scenarios (${Object.entries(fired).map(([k, v]) => `${v} ${k.split(':')[0]}`).join(', ')})`);
  });

  for (const s of SCENARIOS) {
    it(s.name, async () => {
      if (h.m.crash !== undefined) {
        // An earlier scenario crashed the machine: start this one on a fresh instance.
        await h.m.reboot();
        disk = h.disk(BLOCKS);
      }
      // Dry run: the new state and the number of device commands the operation issues.
      const dry = runScenario(h, disk, image, names, s, 0);
      expect(dry.rc, 'the operation succeeds without faults').toBe(0);
      const newSuper = h.diskBytes(disk, 0, PAGE);
      setFault(h, disk, 0);
      const reloaded = h.load(disk);
      expect(reloaded.rc).toBe(0);
      const newState = snapshotState(h, reloaded.result);
      for (const [i, st] of [...oldState, ...newState]) expect(st, `blob ${i} is live and opens, before and after`).not.toMatch(/^absent/);
      expect(dry.count).toBeGreaterThan(0);
      // A fault at a read (or flush) leaves the device as the fault at the next write does:
      // crash at every write-type command (write, write_zeroes, unmap, copy).
      const writes = [...Array(dry.count).keys()].filter((i) => ![0, 4].includes(h.m.call('spdk_wasm_mem_disk_cmd_kind', disk, i))).map((i) => i + 1);
      expect(writes.length).toBeGreaterThan(0);
      let failedOps = 0;
      for (const k of writes) {
        const where = `${s.name}: fault at device command ${k} of ${dry.count} (write-type: ${writes.join(',')})`;
        const run = runScenario(h, disk, image, names, s, k);
        if (run.rc !== 0) failedOps++;
        setFault(h, disk, 0);
        const sb = h.diskBytes(disk, 0, PAGE);
        expect(Buffer.compare(sb, oldSuper) === 0 || Buffer.compare(sb, newSuper) === 0, `${where}: super block is neither old nor new`).toBe(true);
        const l = h.load(disk);
        expect(l.rc, `${where}: dirty load`).toBe(0);
        const got = snapshotState(h, l.result);
        const live = [...got.keys()].join(',');
        expect([[...oldState.keys()].join(','), [...newState.keys()].join(',')], `${where}: live blobs ${live}`).toContain(live);
        for (const [idx, st] of got) {
          expect([oldState.get(idx), newState.get(idx)], `${where}: blob ${idx}`).toContain(st);
        }
        // Still usable: a new thick blob takes free clusters only.
        const nb = h.create(l.result, { clusters: 2 });
        expect(nb.rc, `${where}: create after recovery`).toBe(0);
        h.ok(h.m.call('spdk_wasm_bs_unload', l.result), 'unload');
        expect(storeProblems(h.diskBytes(disk, 0, BLOCKS * PAGE)), where).toEqual([]);
      }
      fired[s.name] = failedOps;
      // Every index crashed the operation: the path was exercised, not skipped.
      expect(failedOps, 'operations that saw the fault').toBeGreaterThan(0);
    });
  }
});
