/**
 * module/bdev/lvol/vbdev_lvol_rpc.c: the lvol store and lvol methods (SPDK_RPC_RUNTIME), with
 * SPDK's parameter names and result shapes, applied to the C lvol library (wasm/lib/lvol) through
 * wasm/api/spdk_wasm_lvol.c. Plus `bdev_mem_create`, this model's stand-in for a base bdev.
 *
 * What differs from upstream, and why:
 * - There is no bdev layer under the blobstore yet, so an lvol store's base "bdev" is either an
 *   in-memory disk made by `bdev_mem_create` (wasm/module/blob/mem: UT-style device with an
 *   unmap-zeroes switch) or an AIO-like device on a host block device made by `bdev_aio_create`
 *   (host/spdk/rpc/bdev.ts; wasm/module/blob/aio). `bdev_name` names such a device.
 * - Operations on an AIO-backed store wait for the host kernel's block I/O: when the C has nothing
 *   left to do but the op is not done, the world is run (virtual time passes) until it completes.
 *   RPCs are called from outside the world's run loop (tests, the JSON config loader).
 * - vbdev_lvol is not modelled in C: an lvol's bdev name is its unique id (the uuid) and its one
 *   alias is "<lvs_name>/<lvol_name>", formed here from the C strings, exactly as vbdev_lvol
 *   registers them; methods taking a bdev name accept either.
 * - Each lvol created here stays open (the bdev's reference); `bdev_lvol_delete` closes it first,
 *   as unregistering the bdev does.
 */
import type { Ptr } from '../../gen/spdk-api.js';
import type { SpdkMachine } from '../machine.js';
import { cCallFailed, defineMethod, describe, invalidParams, isObject, RUNTIME, RpcError, JSONRPC_ERROR, type JsonObject, type JsonValue, type ParamSpec, type RpcContext } from '../jsonrpc.js';
import { BDEV_NAME_MAX, claimBdevName } from './bdev-namespace.js';

type Lvs = Ptr<'spdk_lvol_store'>;
type Lvol = Ptr<'spdk_lvol'>;

/** A base bdev an lvol store can sit on: an in-memory disk or the AIO-like device. */
export type BaseBdev =
  | { kind: 'mem'; name: string; disk: Ptr<'blob_mem_disk'>; blockSize: number; numBlocks: number }
  | { kind: 'aio'; name: string; disk: Ptr<'blob_aio_disk'>; blockSize: number; numBlocks: number; filename: string; fallocate: boolean };

/** Per machine: the base bdevs and which one each lvol store sits on. */
const state = new WeakMap<SpdkMachine, { bdevs: Map<string, BaseBdev>; base: Map<number, string> }>();

export function machineState(m: SpdkMachine) {
  let s = state.get(m);
  if (s === undefined) {
    s = { bdevs: new Map(), base: new Map() };
    state.set(m, s);
  }
  return s;
}

/** Virtual time an RPC may wait for host block I/O before it gives up. */
const IO_WAIT_US = 60e6;

/** Polls the machine until an op handle (spdk_wasm_blob_op_*) completes; when the C is idle and
 *  the op still waits (host block I/O in flight), runs the world until it completes. */
export function runOp(m: SpdkMachine, method: string, call: string, op: number): number {
  if (op === 0) throw new RpcError(JSONRPC_ERROR.INTERNAL_ERROR, `${method}: ${call}: out of memory`);
  const done = () => m.api.spdk_wasm_blob_op_done(op as never) !== 0;
  let waited = false;
  for (let i = 0; i < 10_000_000; i++) {
    if (done()) {
      const rc = m.api.spdk_wasm_blob_op_rc(op as never);
      const result = m.api.spdk_wasm_blob_op_result(op as never);
      m.api.spdk_wasm_blob_op_free(op as never);
      if (rc !== 0) throw cCallFailed(method, call, rc);
      return result;
    }
    const r = m.pollOnce();
    if (!r.busy && !done()) {
      if (waited) break;
      waited = true;
      m.world.run(done, m.world.now + IO_WAIT_US);
    }
  }
  throw new RpcError(JSONRPC_ERROR.INTERNAL_ERROR, `${method}: ${call} did not complete`);
}

export const str = (m: SpdkMachine, addr: number) => (addr === 0 ? '' : m.mem.cstring(addr, 4096));

export function lvsName(m: SpdkMachine, lvs: Lvs): string {
  return str(m, m.api.spdk_wasm_lvs_name(lvs));
}

export function lvsUuid(m: SpdkMachine, lvs: Lvs): string {
  return str(m, m.api.spdk_wasm_lvs_uuid(lvs));
}

export function stores(m: SpdkMachine): Lvs[] {
  const out: Lvs[] = [];
  for (let l = m.api.spdk_wasm_lvs_get_first(); l !== 0; l = m.api.spdk_wasm_lvs_get_next(l)) out.push(l);
  return out;
}

export function lvolsOf(m: SpdkMachine, lvs: Lvs): Lvol[] {
  const out: Lvol[] = [];
  for (let l = m.api.spdk_wasm_lvol_get_first(lvs); l !== 0; l = m.api.spdk_wasm_lvol_get_next(l)) out.push(l);
  return out;
}

/** The lvol a bdev name designates: its unique id (uuid) or its alias "<lvs>/<lvol>". */
export function findLvol(m: SpdkMachine, name: string): Lvol {
  const slash = name.indexOf('/');
  if (slash > 0) {
    const l = m.api.spdk_wasm_lvol_get_by_names(name.slice(0, slash), name.slice(slash + 1));
    if (l !== 0) return l;
  }
  for (const lvs of stores(m)) {
    for (const l of lvolsOf(m, lvs)) if (str(m, m.api.spdk_wasm_lvol_unique_id(l)) === name) return l;
  }
  return 0 as Lvol;
}

function lvolOrThrow(ctx: RpcContext, method: string, field: string, name: string): Lvol {
  const l = findLvol(ctx.machine, name);
  if (l === 0) throw new RpcError(-19, `${method}: parameter '${field}': no lvol bdev named "${name}" (give its uuid or <lvs_name>/<lvol_name>)`, { method, field, errno: -19 });
  return l;
}

/** An lvol store by `uuid` or `lvs_name` (exactly one of them). */
function lvsFrom(ctx: RpcContext, method: string, p: Readonly<Record<string, JsonValue>>, uuidField: string, nameField: string): Lvs {
  const m = ctx.machine;
  const uuid = p[uuidField] as string | undefined, name = p[nameField] as string | undefined;
  if ((uuid === undefined) === (name === undefined)) throw invalidParams(method, uuidField, `or '${nameField}': give exactly one`);
  const lvs = uuid !== undefined ? m.api.spdk_wasm_lvs_get_by_uuid(uuid) : m.api.spdk_wasm_lvs_get_by_name(name!);
  if (lvs === 0) throw new RpcError(-19, `${method}: no lvol store with ${uuid !== undefined ? `uuid ${uuid}` : `name "${name}"`}`, { method, errno: -19 });
  return lvs;
}

/** The store `uuidField` or `nameField` names (as lvsFrom), or every store when neither is given. */
function storesFrom(ctx: RpcContext, method: string, p: Readonly<Record<string, JsonValue>>, uuidField: string, nameField: string): Lvs[] {
  return p[uuidField] !== undefined || p[nameField] !== undefined ? [lvsFrom(ctx, method, p, uuidField, nameField)] : stores(ctx.machine);
}

const LVS_CLEAR = { unmap: 0, write_zeroes: 1, none: 2 } as const;
const LVOL_CLEAR = { none: 1, unmap: 2, write_zeroes: 3 } as const;
const NAME_MAX = 255;
/** Linux ENOMEM (RPC error codes are negative Linux errnos, as spdk_strerror's callers send). */
const ENOMEM = 12;
/** size_in_mib × 2^20 must stay an exact integer in a double on its way to the C (≤ 2^53). */
const SIZE_IN_MIB_MAX = 2 ** 33;
const SIZE_WHY = 'the byte size, size_in_mib x 2^20, must be at most 2^53'; // SPDK_LVS_NAME_MAX / SPDK_LVOL_NAME_MAX (256 in the LH fork) minus the NUL

export const bdevMemCreate = defineMethod({
  name: 'bdev_mem_create',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, max: BDEV_NAME_MAX, doc: 'bdev name' },
    { name: 'num_blocks', type: 'uint32', required: true, min: 1, doc: 'size in blocks' },
    { name: 'block_size', type: 'uint32', choices: [512, 4096], doc: 'block size (default 4096)' },
    { name: 'unmap_zeroes', type: 'bool', doc: 'unmap zeroes the range (default true); false models a Longhorn AIO disk without fallocate' },
  ],
  handler(ctx, p) {
    const s = machineState(ctx.machine);
    const name = p['name'] as string;
    claimBdevName(ctx, this.name, name);
    const blockSize = (p['block_size'] as number | undefined) ?? 4096;
    const numBlocks = p['num_blocks'] as number;
    const disk = ctx.machine.api.spdk_wasm_mem_disk_create(numBlocks, blockSize, p['unmap_zeroes'] === false ? 0 : 1);
    if (disk === 0) {
      // The C refuses a size past size_t, and calloc fails past the linear memory: -ENOMEM, as
      // a failed allocation is upstream.
      throw new RpcError(-ENOMEM, `${this.name}: cannot allocate ${numBlocks} blocks of ${blockSize} bytes (${numBlocks * blockSize} bytes) in the machine's memory (-ENOMEM)`, { method: this.name, errno: -ENOMEM });
    }
    s.bdevs.set(name, { kind: 'mem', name, disk, blockSize, numBlocks });
    return name;
  },
  createsBdev: (p) => p['name'] as string,
  undoable: (ctx, p) => () => dropBaseBdev(ctx.machine, p['name'] as string),
});

/** Reverses a base bdev's creation (config rollback): frees or closes its disk, forgets it. */
export function dropBaseBdev(m: SpdkMachine, name: string): void {
  const s = machineState(m);
  const b = s.bdevs.get(name);
  if (b === undefined) return;
  if (b.kind === 'mem') m.api.spdk_wasm_mem_disk_free(b.disk);
  else m.api.spdk_wasm_aio_disk_close(b.disk);
  s.bdevs.delete(name);
}

/** Reverses an lvol, snapshot or clone creation: close and destroy the lvol with this uuid. */
function undoLvol(ctx: RpcContext, method: string) {
  return (result: JsonValue): void => {
    const m = ctx.machine;
    const l = findLvol(m, result as string);
    if (l === 0) return;
    if (m.api.spdk_wasm_lvol_info(l, 6) > 0) runOp(m, method, 'spdk_lvol_close', m.api.spdk_wasm_lvol_close(l));
    runOp(m, method, 'spdk_lvol_destroy', m.api.spdk_wasm_lvol_destroy(l));
  };
}

export const bdevLvolCreateLvstore = defineMethod({
  name: 'bdev_lvol_create_lvstore',
  states: RUNTIME,
  params: [
    { name: 'bdev_name', type: 'string', required: true, min: 1, doc: 'base bdev (from bdev_mem_create or bdev_aio_create)' },
    { name: 'lvs_name', type: 'string', required: true, min: 1, max: NAME_MAX, doc: 'lvol store name' },
    { name: 'cluster_sz', type: 'uint32', min: 4096, doc: 'cluster size in bytes (default 4 MiB)' },
    { name: 'clear_method', type: 'string', choices: Object.keys(LVS_CLEAR), doc: 'how the data area is cleared at creation' },
    { name: 'num_md_pages_per_cluster_ratio', type: 'uint32', min: 1, doc: 'metadata pages per 100 clusters (default 100)' },
  ],
  unsupported: { md_page_size: 'upstream after v24.09; the Longhorn fork has 4 KiB metadata pages only' },
  handler(ctx, p) {
    const m = ctx.machine;
    const s = machineState(m);
    const bdev = s.bdevs.get(p['bdev_name'] as string);
    if (bdev === undefined) throw new RpcError(-19, `${this.name}: parameter 'bdev_name': no bdev named "${p['bdev_name']}"`, { method: this.name, errno: -19 });
    if ([...s.base.values()].includes(bdev.name)) throw new RpcError(-1, `${this.name}: bdev "${bdev.name}" already holds an lvol store`, { method: this.name, errno: -1 });
    const clear = LVS_CLEAR[((p['clear_method'] as string | undefined) ?? 'unmap') as keyof typeof LVS_CLEAR];
    const clusterSz = (p['cluster_sz'] as number | undefined) ?? 0;
    const ratio = (p['num_md_pages_per_cluster_ratio'] as number | undefined) ?? 0;
    const storeName = p['lvs_name'] as string;
    const op = bdev.kind === 'aio'
      ? m.api.spdk_wasm_lvs_init_aio(bdev.disk, storeName, clusterSz, clear, ratio)
      : m.api.spdk_wasm_lvs_init(bdev.disk, storeName, clusterSz, clear, ratio);
    const lvs = runOp(m, this.name, 'spdk_lvs_init', op) as Lvs;
    s.base.set(lvs, bdev.name);
    return lvsUuid(m, lvs);
  },
  undoable: (ctx) => (result) => {
    const m = ctx.machine;
    const lvs = m.api.spdk_wasm_lvs_get_by_uuid(result as string);
    if (lvs === 0) return;
    runOp(m, 'bdev_lvol_create_lvstore', 'spdk_lvs_unload', m.api.spdk_wasm_lvs_unload(lvs));
    machineState(m).base.delete(lvs);
  },
});

export const bdevLvolGetLvstores = defineMethod({
  name: 'bdev_lvol_get_lvstores',
  states: RUNTIME,
  params: [
    { name: 'uuid', type: 'string', doc: 'only this store' },
    { name: 'lvs_name', type: 'string', doc: 'only this store' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const list = storesFrom(ctx, this.name, p, 'uuid', 'lvs_name');
    return list.map((lvs): JsonObject => ({
      uuid: lvsUuid(m, lvs),
      name: lvsName(m, lvs),
      base_bdev: machineState(m).base.get(lvs) ?? '',
      total_data_clusters: m.api.spdk_wasm_lvs_info(lvs, 1),
      free_clusters: m.api.spdk_wasm_lvs_info(lvs, 2),
      block_size: m.api.spdk_wasm_lvs_info(lvs, 3),
      cluster_size: m.api.spdk_wasm_lvs_info(lvs, 0),
    }));
  },
});

export const bdevLvolCreate = defineMethod({
  name: 'bdev_lvol_create',
  states: RUNTIME,
  params: [
    { name: 'lvol_name', type: 'string', required: true, min: 1, max: NAME_MAX, doc: 'name, unique in the store' },
    { name: 'size_in_mib', type: 'uint64', required: true, max: SIZE_IN_MIB_MAX, why: SIZE_WHY, doc: 'size in MiB (rounded up to clusters)' },
    { name: 'thin_provision', type: 'bool', doc: 'allocate clusters on first write' },
    { name: 'uuid', type: 'string', doc: 'lvol store uuid (or lvs_name)' },
    { name: 'lvs_name', type: 'string', doc: 'lvol store name (or uuid)' },
    { name: 'clear_method', type: 'string', choices: Object.keys(LVOL_CLEAR), doc: 'how freed clusters are cleared' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const lvs = lvsFrom(ctx, this.name, p, 'uuid', 'lvs_name');
    claimBdevName(ctx, this.name, `${lvsName(m, lvs)}/${p['lvol_name'] as string}`);
    const clear = p['clear_method'] === undefined ? 0 : LVOL_CLEAR[p['clear_method'] as keyof typeof LVOL_CLEAR];
    const lvol = runOp(m, this.name, 'spdk_lvol_create', m.api.spdk_wasm_lvol_create(lvs, p['lvol_name'] as string, (p['size_in_mib'] as number) * 1024 * 1024, p['thin_provision'] === true ? 1 : 0, clear)) as Lvol;
    return str(m, m.api.spdk_wasm_lvol_unique_id(lvol));
  },
  createsBdev: (p) => (p['lvs_name'] !== undefined ? `${p['lvs_name'] as string}/${p['lvol_name'] as string}` : undefined),
  undoable: (ctx) => undoLvol(ctx, 'bdev_lvol_create'),
});

const LVOL_NAME: ParamSpec = { name: 'lvol_name', type: 'string', required: true, min: 1, doc: 'bdev name (uuid) or alias <lvs>/<lvol>' };

/** spdk_lvol_create_snapshot, or with caller xattrs (name -> string value, stored with its NUL)
 *  the LH fork's spdk_lvol_create_snapshot_with_xattrs: the op handle. */
export function lvolSnapshotOp(m: SpdkMachine, lvol: Lvol, name: string, xattrs?: Readonly<Record<string, string>>): number {
  if (xattrs === undefined) return m.api.spdk_wasm_lvol_snapshot(lvol, name);
  const flat = Object.entries(xattrs).flat();
  const list = m.cstrArray(flat);
  try {
    return m.api.spdk_wasm_lvol_snapshot_xattrs(lvol, name, list.ptr, flat.length);
  } finally {
    list.free();
  }
}

/** bdev_lvol_get_xattr's read: the value up to its NUL, or the negative errno. */
export function lvolXattr(m: SpdkMachine, lvol: Lvol, name: string): string | number {
  const cap = 4096;
  const buf = m.api.spdk_wasm_malloc(cap);
  try {
    const len = m.api.spdk_wasm_lvol_get_xattr(lvol, name, buf, cap);
    if (len < 0) return len;
    const bytes = m.mem.read(buf, Math.min(len, cap));
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  } finally {
    m.api.spdk_wasm_free(buf);
  }
}

export const bdevLvolSnapshot = defineMethod({
  name: 'bdev_lvol_snapshot',
  states: RUNTIME,
  params: [
    LVOL_NAME,
    { name: 'snapshot_name', type: 'string', required: true, min: 1, max: NAME_MAX, doc: 'name of the new snapshot' },
    { name: 'xattrs', type: 'object', nullable: true, doc: 'LH fork: xattrs of the new snapshot, name -> string value (null: none)' },
  ],
  check(_ctx, p) {
    const x = p['xattrs'];
    if (!isObject(x)) return;
    for (const [k, v] of Object.entries(x)) {
      // spdk_json_strdup: strings only, and no NUL inside (the C strings would end there).
      if (k.includes('\0')) throw invalidParams(this.name, 'xattrs', `has a name with a NUL character: ${describe(k)}`);
      if (typeof v !== 'string') throw invalidParams(this.name, `xattrs.${k}`, `must be a string, got ${describe(v)}`, { got: v });
      if (v.includes('\0')) throw invalidParams(this.name, `xattrs.${k}`, `must not contain a NUL character`);
    }
  },
  handler(ctx, p) {
    const m = ctx.machine;
    const lvol = lvolOrThrow(ctx, this.name, 'lvol_name', p['lvol_name'] as string);
    claimBdevName(ctx, this.name, `${lvsName(m, m.api.spdk_wasm_lvol_store(lvol))}/${p['snapshot_name'] as string}`);
    const x = p['xattrs'];
    const xattrs = isObject(x) ? (x as Record<string, string>) : undefined;
    const call = xattrs === undefined ? 'spdk_lvol_create_snapshot' : 'spdk_lvol_create_snapshot_with_xattrs';
    const snap = runOp(m, this.name, call, lvolSnapshotOp(m, lvol, p['snapshot_name'] as string, xattrs)) as Lvol;
    return str(m, m.api.spdk_wasm_lvol_unique_id(snap));
  },
  undoable: (ctx) => undoLvol(ctx, 'bdev_lvol_snapshot'),
});

export const bdevLvolClone = defineMethod({
  name: 'bdev_lvol_clone',
  states: RUNTIME,
  params: [
    { name: 'snapshot_name', type: 'string', required: true, min: 1, doc: 'bdev name or alias of a read-only lvol' },
    { name: 'clone_name', type: 'string', required: true, min: 1, max: NAME_MAX, doc: 'name of the new clone' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const snap = lvolOrThrow(ctx, this.name, 'snapshot_name', p['snapshot_name'] as string);
    claimBdevName(ctx, this.name, `${lvsName(m, m.api.spdk_wasm_lvol_store(snap))}/${p['clone_name'] as string}`);
    const clone = runOp(m, this.name, 'spdk_lvol_create_clone', m.api.spdk_wasm_lvol_clone(snap, p['clone_name'] as string)) as Lvol;
    return str(m, m.api.spdk_wasm_lvol_unique_id(clone));
  },
  undoable: (ctx) => undoLvol(ctx, 'bdev_lvol_clone'),
});

export const bdevLvolDelete = defineMethod({
  name: 'bdev_lvol_delete',
  states: RUNTIME,
  params: [{ name: 'name', type: 'string', required: true, min: 1, doc: 'bdev name or alias' }],
  handler(ctx, p) {
    const m = ctx.machine;
    const lvol = lvolOrThrow(ctx, this.name, 'name', p['name'] as string);
    if (m.api.spdk_wasm_lvol_info(lvol, 8) > 1) {
      throw new RpcError(-1, `${this.name}: "${p['name']}" is a snapshot with more than one clone`, { method: this.name, errno: -1 });
    }
    if (m.api.spdk_wasm_lvol_info(lvol, 6) > 0) runOp(m, this.name, 'spdk_lvol_close', m.api.spdk_wasm_lvol_close(lvol));
    try {
      runOp(m, this.name, 'spdk_lvol_destroy', m.api.spdk_wasm_lvol_destroy(lvol));
    } catch (e) {
      // Leave it as it was: registered (open).
      runOp(m, this.name, 'spdk_lvol_open', m.api.spdk_wasm_lvol_open(lvol));
      throw e;
    }
    return true;
  },
});

export const bdevLvolGetLvols = defineMethod({
  name: 'bdev_lvol_get_lvols',
  states: RUNTIME,
  params: [
    { name: 'lvs_uuid', type: 'string', doc: 'only this store' },
    { name: 'lvs_name', type: 'string', doc: 'only this store' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const list = storesFrom(ctx, this.name, p, 'lvs_uuid', 'lvs_name');
    const out: JsonObject[] = [];
    for (const lvs of list) {
      for (const l of lvolsOf(m, lvs)) {
        const open = m.api.spdk_wasm_lvol_info(l, 6) > 0;
        const name = str(m, m.api.spdk_wasm_lvol_name(l));
        out.push({
          alias: `${lvsName(m, lvs)}/${name}`,
          uuid: str(m, m.api.spdk_wasm_lvol_unique_id(l)),
          name,
          creation_time: str(m, m.api.spdk_wasm_lvol_creation_time(l)),
          is_thin_provisioned: open && m.api.spdk_wasm_lvol_info(l, 2) === 1,
          is_snapshot: open && m.api.spdk_wasm_lvol_info(l, 4) === 1,
          is_clone: open && m.api.spdk_wasm_lvol_info(l, 5) === 1,
          is_esnap_clone: false,
          is_degraded: false,
          num_allocated_clusters: open ? m.api.spdk_wasm_lvol_info(l, 1) : 0,
          lvs: { name: lvsName(m, lvs), uuid: lvsUuid(m, lvs) },
        });
      }
    }
    return out;
  },
});

export const bdevLvolSetXattr = defineMethod({
  name: 'bdev_lvol_set_xattr',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, doc: 'bdev name or alias' },
    { name: 'xattr_name', type: 'string', required: true, min: 1, doc: 'attribute name' },
    { name: 'xattr_value', type: 'string', required: true, doc: 'attribute value (stored with its NUL)' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const lvol = lvolOrThrow(ctx, this.name, 'name', p['name'] as string);
    const value = new TextEncoder().encode(`${p['xattr_value'] as string}\0`);
    const buf = m.api.spdk_wasm_malloc(value.length);
    m.mem.bytes().set(value, buf);
    try {
      runOp(m, this.name, 'spdk_lvol_set_xattr', m.api.spdk_wasm_lvol_set_xattr(lvol, p['xattr_name'] as string, buf, value.length));
    } finally {
      m.api.spdk_wasm_free(buf);
    }
    return true;
  },
});

export const bdevLvolGetXattr = defineMethod({
  name: 'bdev_lvol_get_xattr',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, doc: 'bdev name or alias' },
    { name: 'xattr_name', type: 'string', required: true, min: 1, doc: 'attribute name' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const lvol = lvolOrThrow(ctx, this.name, 'name', p['name'] as string);
    const v = lvolXattr(m, lvol, p['xattr_name'] as string);
    if (typeof v === 'number') throw cCallFailed(this.name, `spdk_lvol_get_xattr(${p['xattr_name']})`, v);
    return v;
  },
});

export const bdevLvolResize = defineMethod({
  name: 'bdev_lvol_resize',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, doc: 'bdev name or alias' },
    { name: 'size_in_mib', type: 'uint64', required: true, max: SIZE_IN_MIB_MAX, why: SIZE_WHY, doc: 'new size in MiB (rounded up to clusters)' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const lvol = lvolOrThrow(ctx, this.name, 'name', p['name'] as string);
    runOp(m, this.name, 'spdk_lvol_resize', m.api.spdk_wasm_lvol_resize(lvol, (p['size_in_mib'] as number) * 1024 * 1024));
    return true;
  },
});

export const LVOL_RPC_METHODS = [
  bdevMemCreate,
  bdevLvolCreateLvstore,
  bdevLvolGetLvstores,
  bdevLvolCreate,
  bdevLvolSnapshot,
  bdevLvolClone,
  bdevLvolDelete,
  bdevLvolGetLvols,
  bdevLvolSetXattr,
  bdevLvolGetXattr,
  bdevLvolResize,
] as const;
