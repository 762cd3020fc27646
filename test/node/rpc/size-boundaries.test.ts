/** Every size parameter of every create RPC at its boundaries, on both flavors: each value either
 *  works or fails with a JSON-RPC error naming it (never -32603, never a crash), and the machine
 *  still answers afterwards (ASan reporting nothing: a report crashes the machine). Regression:
 *  bdev_mem_create of >= 4 GiB was accepted and the lvstore on it wrote outside the allocation. */
import { describe, expect, it } from 'vitest';
import { JSONRPC_ERROR, type JsonValue, type RpcServer } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { utMachine } from '../support/ut.js';

const BLOCK = 4096;
/** 0, 1, block_size-1, 2^31, 2^32-1, 2^32, 2^53, and past every integer type. */
const BOUNDARIES = [0, 1, BLOCK - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 64, 1e300];

type Outcome = { ok: true; result: JsonValue } | { ok: false; code: number; message: string };

let seq = 0;
function call(rpc: RpcServer, method: string, params: Record<string, JsonValue>): Outcome {
  const text = rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: ++seq, method, params }));
  const res = JSON.parse(text!) as { result?: JsonValue; error?: { code: number; message: string } };
  return res.error === undefined ? { ok: true, result: res.result! } : { ok: false, code: res.error.code, message: res.error.message };
}

/** Works, or a clean error: not the internal error a crash or an exception becomes. */
function clean(o: Outcome, what: string): Outcome {
  if (!o.ok) {
    expect(o.code, `${what}: ${o.message}`).not.toBe(JSONRPC_ERROR.INTERNAL_ERROR);
    expect(o.message, what).not.toMatch(/crashed|internal error/);
  }
  return o;
}

/** A further RPC works and the machine is not crashed. */
function usable(rpc: RpcServer, what: string): void {
  const o = call(rpc, 'bdev_get_bdevs', {});
  expect(o.ok, `${what}: bdev_get_bdevs afterwards`).toBe(true);
  expect(call(rpc, 'bdev_lvol_get_lvstores', {}).ok, what).toBe(true);
}

/** One machine per flavor with a small lvstore (Mem0/lvs0) and a thin lvol to snapshot. */
async function fixture(flavor: 'release' | 'asan') {
  const { m } = await utMachine('patched', flavor);
  const rpc = createRpcServer(m, { state: 'runtime' });
  expect(call(rpc, 'bdev_mem_create', { name: 'Mem0', num_blocks: 4096, block_size: BLOCK }).ok).toBe(true);
  expect(call(rpc, 'bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1 << 20 }).ok).toBe(true);
  expect(call(rpc, 'bdev_lvol_create', { lvs_name: 'lvs0', lvol_name: 'base', size_in_mib: 4, thin_provision: true }).ok).toBe(true);
  return { m, rpc };
}

describe.each(['release', 'asan'] as const)('size boundaries of the create RPCs (%s)', (flavor) => {
  it('bdev_mem_create and bdev_malloc_create: num_blocks x block_size', async () => {
    const { rpc } = await fixture(flavor);
    let n = 0;
    for (const v of BOUNDARIES) {
      for (const [method, params] of [
        ['bdev_mem_create', { num_blocks: v, block_size: BLOCK }],
        ['bdev_mem_create', { num_blocks: v, block_size: 512 }],
        ['bdev_mem_create', { num_blocks: 1, block_size: v }],
        ['bdev_malloc_create', { num_blocks: v, block_size: BLOCK }],
        ['bdev_malloc_create', { num_blocks: 1, block_size: v }],
      ] as const) {
        const name = `B${n++}`;
        const what = `${method} ${JSON.stringify(params)}`;
        const o = clean(call(rpc, method, { name, ...params }), what);
        const bytes = (params.num_blocks as number) * (params.block_size as number);
        // Sizes the 2 GiB linear memory cannot hold are refused, never accepted and truncated.
        if (bytes >= 2 ** 31 || bytes === 0) expect(o.ok, what).toBe(false);
        if (o.ok) {
          // What was created is what bdev_get_bdevs reports, and an lvstore on it works.
          const listed = call(rpc, 'bdev_get_bdevs', { name });
          expect(listed.ok && (listed.result as { num_blocks: number }[])[0]!.num_blocks, what).toBe(params.num_blocks);
          if (method === 'bdev_mem_create') clean(call(rpc, 'bdev_lvol_create_lvstore', { bdev_name: name, lvs_name: `s${name}`, cluster_sz: 4096 }), `lvstore on ${what}`);
        }
        usable(rpc, what);
      }
    }
  }, 120_000);

  it('bdev_lvol_create_lvstore: cluster_sz and num_md_pages_per_cluster_ratio', async () => {
    const { rpc } = await fixture(flavor);
    let n = 0;
    for (const v of BOUNDARIES) {
      for (const params of [{ cluster_sz: v }, { cluster_sz: 1 << 20, num_md_pages_per_cluster_ratio: v }] as Record<string, JsonValue>[]) {
        const base = `L${n++}`;
        expect(call(rpc, 'bdev_mem_create', { name: base, num_blocks: 2048, block_size: BLOCK }).ok).toBe(true);
        const what = `bdev_lvol_create_lvstore ${JSON.stringify(params)}`;
        clean(call(rpc, 'bdev_lvol_create_lvstore', { bdev_name: base, lvs_name: `s${base}`, ...params }), what);
        usable(rpc, what);
      }
    }
  }, 120_000);

  it('bdev_lvol_create, bdev_lvol_resize, then bdev_lvol_snapshot and bdev_lvol_clone of what was made', async () => {
    const { rpc } = await fixture(flavor);
    let n = 0;
    for (const v of BOUNDARIES) {
      for (const thin of [true, false]) {
        const name = `v${n++}`;
        const what = `bdev_lvol_create size_in_mib ${v} thin ${thin}`;
        const o = clean(call(rpc, 'bdev_lvol_create', { lvs_name: 'lvs0', lvol_name: name, size_in_mib: v, thin_provision: thin }), what);
        // A thick lvol larger than the 15 MiB store cannot be made.
        if (!thin && v > 15) expect(o.ok, what).toBe(false);
        usable(rpc, what);
        if (!o.ok) continue;
        const snap = clean(call(rpc, 'bdev_lvol_snapshot', { lvol_name: `lvs0/${name}`, snapshot_name: `${name}s` }), `snapshot of ${what}`);
        if (snap.ok) clean(call(rpc, 'bdev_lvol_clone', { snapshot_name: `lvs0/${name}s`, clone_name: `${name}c` }), `clone of ${what}`);
        usable(rpc, `snapshot/clone of ${what}`);
      }
      const what = `bdev_lvol_resize size_in_mib ${v}`;
      const r = clean(call(rpc, 'bdev_lvol_resize', { name: 'lvs0/base', size_in_mib: v }), what);
      if (v > 2 ** 33) expect(r.ok, what).toBe(false);
      usable(rpc, what);
    }
    // Still a working store: after deleting what was made, a small lvol can be made.
    for (const l of (call(rpc, 'bdev_lvol_get_lvols', {}) as { ok: true; result: { alias: string }[] }).result.reverse()) {
      call(rpc, 'bdev_lvol_delete', { name: l.alias });
    }
    const after = call(rpc, 'bdev_lvol_create', { lvs_name: 'lvs0', lvol_name: 'after', size_in_mib: 1, thin_provision: true });
    expect(after, JSON.stringify(after)).toMatchObject({ ok: true });
  }, 120_000);
});
