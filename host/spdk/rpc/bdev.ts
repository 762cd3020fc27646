/**
 * module/bdev/malloc/bdev_malloc_rpc.c and lib/bdev/bdev_rpc.c: `bdev_malloc_create`,
 * `bdev_get_bdevs` and `bdev_wait_for_examine` (SPDK_RPC_RUNTIME), on the C bdev layer through
 * wasm/api/spdk_wasm_nvmf.c. Metadata, DIF and explicit UUIDs are not modelled: those parameters
 * accept only what `save_config` writes for a plain malloc bdev, or are refused with the reason.
 */
import { cString } from './nvmf.js';
import { cCallFailed, defineMethod, invalidParams, RUNTIME, type JsonObject, type JsonValue, type RpcContext } from '../jsonrpc.js';

/** spdk_wasm_bdev_get fields. */
const BDEV = { blockSize: 0, numBlocks: 1, zcopy: 2 } as const;

export function bdevNames(ctx: RpcContext): string[] {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const n = cString(ctx, ctx.machine.api.spdk_wasm_bdev_name(i, 0));
    if (n === undefined || n === '') return out;
    out.push(n);
  }
}

export function bdevExists(ctx: RpcContext, name: string): boolean {
  return ctx.machine.api.spdk_wasm_bdev_get(name, BDEV.blockSize) >= 0;
}

export const bdevMallocCreate = defineMethod({
  name: 'bdev_malloc_create',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', min: 1, max: 255, doc: 'bdev name (default MallocN)' },
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
      const names = new Set(bdevNames(ctx));
      for (let i = 0; ; i++) if (!names.has(`Malloc${i}`)) {
        name = `Malloc${i}`;
        break;
      }
    }
    if (bdevExists(ctx, name)) throw invalidParams(this.name, 'name', `names a bdev that already exists: "${name}"`, { got: name });
    const rc = ctx.machine.api.spdk_wasm_bdev_malloc_create(name, p['num_blocks'] as number, p['block_size'] as number);
    if (rc < 0) throw cCallFailed(this.name, `create_malloc_disk(${name})`, rc);
    return name;
  },
});

export const bdevGetBdevs = defineMethod({
  name: 'bdev_get_bdevs',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', min: 1, doc: 'only this bdev' },
    { name: 'timeout', type: 'uint64', doc: 'ms to wait for the bdev to appear (examine is synchronous here)' },
  ],
  handler(ctx, p) {
    const want = p['name'] as string | undefined;
    if (want !== undefined && !bdevExists(ctx, want)) throw invalidParams(this.name, 'name', `names no bdev: "${want}"`, { got: want });
    const names = want !== undefined ? [want] : bdevNames(ctx);
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
  },
});

export const bdevWaitForExamine = defineMethod({
  name: 'bdev_wait_for_examine',
  states: RUNTIME,
  params: [],
  handler() {
    // Examine runs synchronously when a bdev registers: there is nothing to wait for.
    return true;
  },
});

export const BDEV_RPC_METHODS = [bdevMallocCreate, bdevGetBdevs, bdevWaitForExamine] as const;
