/**
 * module/bdev/malloc/bdev_malloc_rpc.c and lib/bdev/bdev_rpc.c: `bdev_malloc_create`,
 * `bdev_get_bdevs` and `bdev_wait_for_examine` (SPDK_RPC_RUNTIME), on the C bdev layer through
 * wasm/api/spdk_wasm_nvmf.c. Metadata, DIF and explicit UUIDs are not modelled: those parameters
 * accept only what `save_config` writes for a plain malloc bdev, or are refused with the reason.
 *
 * module/bdev/aio/bdev_aio_rpc.c: `bdev_aio_create` opens a block device of the machine's host
 * kernel through the AIO-like device (wasm/api/spdk_wasm_blockdev.c, wasm/module/blob/aio); it is
 * a base for `bdev_lvol_create_lvstore` (host/spdk/rpc/lvol.ts), not a bdev of the C bdev layer.
 * `bdev_get_bdevs` also reports these AIO bdevs, the lvol bdevs (vbdev_lvol's
 * driver_specific.lvol, with num_allocated_clusters) and the NVMe bdevs of attached controllers
 * (bdev-nvme.ts).
 */
import type { SpdkMachine } from '../machine.js';
import { BDEV, bdevExists, cString } from './shared.js';
import { nvmeBdevs } from './bdev-nvme.js';
import { dropBaseBdev, findLvol, lvolsOf, lvsName, lvsUuid, machineState, str, stores, type BaseBdev } from './lvol.js';
import { cCallFailed, defineMethod, errnoName, invalidParams, RpcError, RUNTIME, type JsonObject, type JsonValue, type RpcContext } from '../jsonrpc.js';
import { BDEV_NAME_MAX, bdevHolding, claimBdevName, setBdevLister } from './bdev-namespace.js';
import type { Ptr } from '../../gen/spdk-api.js';

export function bdevNames(ctx: RpcContext): string[] {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const n = cString(ctx, ctx.machine.api.spdk_wasm_bdev_name(i, 0));
    if (n === undefined || n === '') return out;
    out.push(n);
  }
}

export const bdevMallocCreate = defineMethod({
  name: 'bdev_malloc_create',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', min: 1, max: BDEV_NAME_MAX, doc: 'bdev name (default MallocN)' },
    { name: 'num_blocks', type: 'uint64', required: true, min: 1, max: 0xffffffff, doc: 'size in blocks' },
    { name: 'block_size', type: 'uint32', required: true, min: 512, max: 65536, doc: 'block size in bytes (a multiple of 512)' },
    { name: 'physical_block_size', type: 'uint32', choices: [0, 512, 4096], why: 'reported only', doc: 'physical block size' },
    { name: 'optimal_io_boundary', type: 'uint32', choices: [0], why: 'I/O splitting is not modelled', doc: 'split boundary in blocks' },
    { name: 'md_size', type: 'uint32', choices: [0], why: 'metadata is not modelled', doc: 'metadata bytes per block' },
    { name: 'md_interleave', type: 'bool', choices: [false], why: 'metadata is not modelled', doc: 'interleaved metadata' },
    { name: 'dif_type', type: 'uint32', choices: [0], why: 'DIF is not modelled', doc: 'protection information type' },
    { name: 'dif_is_head_of_md', type: 'bool', choices: [false], why: 'DIF is not modelled', doc: 'DIF placement' },
  ],
  unsupported: { uuid: 'bdev UUIDs are not modelled' },
  check(_ctx, p) {
    const bs = p['block_size'] as number;
    if (bs % 512 !== 0) throw invalidParams(this.name, 'block_size', `must be a multiple of 512, got ${bs}`, { got: bs });
    const bytes = (p['num_blocks'] as number) * bs;
    if (bytes > 1 << 30) throw invalidParams(this.name, 'num_blocks', `gives ${bytes} bytes; the model's malloc bdevs hold at most 1 GiB`, { got: p['num_blocks'] as number });
  },
  handler(ctx, p) {
    let name = p['name'] as string | undefined;
    if (name === undefined) {
      for (let i = 0; ; i++) if (bdevHolding(ctx, `Malloc${i}`) === undefined) {
        name = `Malloc${i}`;
        break;
      }
    }
    claimBdevName(ctx, this.name, name);
    const rc = ctx.machine.api.spdk_wasm_bdev_malloc_create(name, p['num_blocks'] as number, p['block_size'] as number);
    if (rc < 0) throw cCallFailed(this.name, `create_malloc_disk(${name})`, rc);
    return name;
  },
  createsBdev: (p) => p['name'] as string | undefined,
});

/** Emscripten's errno values used here. */
const ENOENT = 44;

export const bdevAioCreate = defineMethod({
  name: 'bdev_aio_create',
  states: RUNTIME,
  params: [
    { name: 'filename', type: 'string', required: true, min: 1, doc: "path of a block device in the machine's host kernel (e.g. /dev/sdb)" },
    { name: 'name', type: 'string', required: true, min: 1, max: BDEV_NAME_MAX, doc: 'bdev name' },
    { name: 'block_size', type: 'uint32', doc: "block size; 0 or the device's logical block size (an override is not modelled)" },
    { name: 'readonly', type: 'bool', choices: [false], why: 'the AIO-like device always opens O_RDWR', doc: 'open read-only' },
    { name: 'fallocate', type: 'bool', doc: 'UNMAP/WRITE_ZEROES via fallocate (default false, as Longhorn creates its AIO disks: unmap then changes nothing)' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const name = p['name'] as string;
    const filename = p['filename'] as string;
    const s = machineState(m);
    claimBdevName(ctx, this.name, name);
    const fallocate = p['fallocate'] === true;
    const disk = m.api.spdk_wasm_aio_disk_open(filename, fallocate ? 1 : 0);
    if (disk === 0) {
      const line = [...m.logLines].reverse().find((l) => l.includes(`bdev_aio_create ${filename}:`));
      const rc = Number(/: (-?\d+)\s*$/.exec(line ?? '')?.[1] ?? -ENOENT);
      const why = Math.abs(rc) === ENOENT ? `no block device "${filename}" in this machine's kernel` : `cannot open "${filename}"`;
      throw new RpcError(-32602, `${this.name}: ${why} (-${errnoName(rc)})`, { method: this.name, filename, errno: -Math.abs(rc) });
    }
    const blockSize = m.api.spdk_wasm_aio_disk_counter(disk, 8);
    const size = m.api.spdk_wasm_aio_disk_counter(disk, 7);
    const want = p['block_size'] as number | undefined;
    if (want !== undefined && want !== 0 && want !== blockSize) {
      m.api.spdk_wasm_aio_disk_close(disk);
      throw invalidParams(this.name, 'block_size', `${want} differs from the logical block size ${blockSize} of ${filename}; a block size override is not modelled`, { got: want });
    }
    s.bdevs.set(name, { kind: 'aio', name, disk, blockSize, numBlocks: Math.floor(size / blockSize), filename, fallocate });
    return name;
  },
  createsBdev: (p) => p['name'] as string,
  undoable: (ctx, p) => () => dropBaseBdev(ctx.machine, p['name'] as string),
});

type Lvol = Ptr<'spdk_lvol'>;

function aioBdevs(m: SpdkMachine): Extract<BaseBdev, { kind: 'aio' }>[] {
  return [...machineState(m).bdevs.values()].filter((b): b is Extract<BaseBdev, { kind: 'aio' }> => b.kind === 'aio');
}

function memBdevs(m: SpdkMachine): Extract<BaseBdev, { kind: 'mem' }>[] {
  return [...machineState(m).bdevs.values()].filter((b): b is Extract<BaseBdev, { kind: 'mem' }> => b.kind === 'mem');
}

/** A bdev_mem_create disk as bdev_get_bdevs shows it (the model's stand-in, in malloc's shape). */
function memBdevJson(b: Extract<BaseBdev, { kind: 'mem' }>): JsonObject {
  return {
    name: b.name,
    aliases: [],
    product_name: 'Memory disk',
    block_size: b.blockSize,
    num_blocks: b.numBlocks,
    supported_io_types: { read: true, write: true, flush: true, unmap: true, write_zeroes: true, reset: false, zcopy: false } as JsonValue,
    driver_specific: {},
  };
}

/** The registered lvol bdevs: open lvols (vbdev_lvol registers a bdev per open lvol). */
function lvolBdevs(m: SpdkMachine): Lvol[] {
  return stores(m).flatMap((lvs) => lvolsOf(m, lvs)).filter((l) => m.api.spdk_wasm_lvol_info(l, 6) > 0);
}

function aioBdevJson(b: Extract<BaseBdev, { kind: 'aio' }>): JsonObject {
  return {
    name: b.name,
    aliases: [],
    product_name: 'AIO disk',
    block_size: b.blockSize,
    num_blocks: b.numBlocks,
    supported_io_types: { read: true, write: true, flush: true, unmap: b.fallocate, write_zeroes: b.fallocate, reset: true, zcopy: false } as JsonValue,
    driver_specific: { aio: { filename: b.filename, block_size_override: false, readonly: false, fallocate: b.fallocate } },
  };
}

/** vbdev_lvol's bdev: name = unique id, alias <lvs>/<lvol>, driver_specific.lvol as
 *  vbdev_lvol_dump_info_json writes it. */
function lvolBdevJson(m: SpdkMachine, l: Lvol): JsonObject {
  const info = (f: number) => m.api.spdk_wasm_lvol_info(l, f);
  const lvs = m.api.spdk_wasm_lvol_store(l);
  const blockSize = m.api.spdk_wasm_lvs_info(lvs, 3);
  const readOnly = info(3) === 1;
  const snapshot = info(4) === 1;
  const clone = info(5) === 1;
  const lvolName = (x: Lvol) => str(m, m.api.spdk_wasm_lvol_name(x));
  const lvol: JsonObject = {
    lvol_store_uuid: lvsUuid(m, lvs),
    base_bdev: machineState(m).base.get(lvs) ?? '',
    thin_provision: info(2) === 1,
    num_allocated_clusters: info(1),
    snapshot,
    clone,
  };
  if (clone) {
    const parent = m.api.spdk_wasm_lvol_parent(l);
    if (parent !== 0) lvol['base_snapshot'] = lvolName(parent);
  }
  if (snapshot) {
    const clones: string[] = [];
    for (let i = 0; ; i++) {
      const c = m.api.spdk_wasm_lvol_clone_at(l, i);
      if (c === 0) break;
      clones.push(lvolName(c));
    }
    lvol['clones'] = clones;
  }
  lvol['esnap_clone'] = false;
  const uuid = str(m, m.api.spdk_wasm_lvol_uuid(l));
  return {
    name: str(m, m.api.spdk_wasm_lvol_unique_id(l)),
    aliases: [`${lvsName(m, lvs)}/${lvolName(l)}`],
    product_name: 'Logical Volume',
    block_size: blockSize,
    num_blocks: Math.floor(info(10) / blockSize),
    ...(uuid !== '' ? { uuid } : {}),
    supported_io_types: { read: true, write: !readOnly, flush: true, unmap: !readOnly, write_zeroes: !readOnly, reset: true, zcopy: false } as JsonValue,
    driver_specific: { lvol },
  };
}

export const bdevGetBdevs = defineMethod({
  name: 'bdev_get_bdevs',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', min: 1, doc: 'only this bdev' },
    { name: 'timeout', type: 'uint64', doc: 'ms to wait for the bdev to appear (examine is synchronous here)' },
  ],
  handler(ctx, p) {
    const m = ctx.machine;
    const want = p['name'] as string | undefined;
    if (want !== undefined && !bdevExists(ctx, want)) {
      const base = machineState(m).bdevs.get(want);
      if (base?.kind === 'aio') return [aioBdevJson(base)];
      if (base?.kind === 'mem') return [memBdevJson(base)];
      const l = findLvol(m, want);
      if (l !== 0 && m.api.spdk_wasm_lvol_info(l, 6) > 0) return [lvolBdevJson(m, l)];
      const nvme = nvmeBdevs(ctx).filter((b) => b['name'] === want);
      if (nvme.length > 0) return nvme;
      throw invalidParams(this.name, 'name', `names no bdev: "${want}"`, { got: want });
    }
    const c = cBdevs(ctx, want !== undefined ? [want] : bdevNames(ctx));
    if (want !== undefined) return c;
    return [...c, ...otherBdevs(ctx)];
  },
});

/** Every bdev outside the C bdev layer: memory and AIO disks, lvols, NVMe namespaces. */
function otherBdevs(ctx: RpcContext): JsonObject[] {
  const m = ctx.machine;
  return [...memBdevs(m).map(memBdevJson), ...aioBdevs(m).map(aioBdevJson), ...lvolBdevs(m).map((l) => lvolBdevJson(m, l)), ...nvmeBdevs(ctx)];
}

setBdevLister((ctx) => [...cBdevs(ctx, bdevNames(ctx)), ...otherBdevs(ctx)].map((b) => ({ name: b['name'] as string, aliases: b['aliases'] as string[] })));

/** The C bdev layer's bdevs (malloc) of these names. */
function cBdevs(ctx: RpcContext, names: string[]): JsonObject[] {
  return names.map((name): JsonObject => {
    const get = (f: number): number => ctx.machine.api.spdk_wasm_bdev_get(name, f);
    const idx = bdevNames(ctx).indexOf(name);
    const zcopy = get(BDEV.zcopy) === 1;
    return {
      name,
      aliases: [],
      product_name: cString(ctx, ctx.machine.api.spdk_wasm_bdev_name(idx, 1)) ?? '',
      block_size: get(BDEV.blockSize),
      num_blocks: get(BDEV.numBlocks),
      supported_io_types: { read: true, write: true, flush: true, unmap: false, write_zeroes: false, reset: false, zcopy } as JsonValue,
      driver_specific: {},
    };
  });
}

export const bdevWaitForExamine = defineMethod({
  name: 'bdev_wait_for_examine',
  states: RUNTIME,
  params: [],
  handler() {
    // Examine runs synchronously when a bdev registers: there is nothing to wait for.
    return true;
  },
});

export const BDEV_RPC_METHODS = [bdevMallocCreate, bdevAioCreate, bdevGetBdevs, bdevWaitForExamine] as const;
