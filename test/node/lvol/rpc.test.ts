/** The lvol JSON-RPC methods (host/spdk/rpc/lvol.ts) with SPDK's names, parameters and result
 *  shapes, on a bdev_mem_create base device. */
import { describe, expect, it } from 'vitest';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { machineState } from '../../../host/spdk/rpc/lvol.js';
import { same } from '../blob/bs-harness.js';
import { utMachine } from '../support/ut.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function server() {
  const { m } = await utMachine();
  const rpc = createRpcServer(m, { state: 'runtime' });
  return { m, rpc };
}

/** The bytes of a bdev_mem_create device, now (a function to call before and after). */
function memImage(m: SpdkMachine, name: string): () => Uint8Array {
  const b = machineState(m).bdevs.get(name);
  if (b?.kind !== 'mem') throw new Error(`${name} is not a mem bdev`);
  return () => m.mem.read(m.api.spdk_wasm_mem_disk_buffer(b.disk), b.numBlocks * b.blockSize);
}

describe('lvol RPC methods', () => {
  it('create_lvstore, get_lvstores, create, snapshot, clone, get_lvols, xattrs, delete', async () => {
    const { rpc } = await server();
    expect(rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 16384, block_size: 4096 })).toBe('Mem0');
    const lvsUuid = rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1048576 }) as string;
    expect(lvsUuid).toMatch(UUID_RE);
    expect(rpc.call('bdev_lvol_get_lvstores', {})).toEqual([{ uuid: lvsUuid, name: 'lvs0', base_bdev: 'Mem0', total_data_clusters: 63, free_clusters: 63, block_size: 4096, cluster_size: 1048576 }]);
    expect(rpc.call('bdev_lvol_get_lvstores', { lvs_name: 'lvs0' })).toHaveLength(1);

    const vol = rpc.call('bdev_lvol_create', { lvol_name: 'vol', size_in_mib: 8, thin_provision: true, lvs_name: 'lvs0' }) as string;
    expect(vol).toMatch(UUID_RE);
    const thick = rpc.call('bdev_lvol_create', { lvol_name: 'thick', size_in_mib: 2, uuid: lvsUuid, clear_method: 'write_zeroes' });
    expect(rpc.call('bdev_lvol_get_lvstores', { uuid: lvsUuid })).toMatchObject([{ free_clusters: 61 }]);

    expect(rpc.call('bdev_lvol_set_xattr', { name: 'lvs0/vol', xattr_name: 'user_created', xattr_value: 'abc123' })).toBe(true);
    expect(rpc.call('bdev_lvol_get_xattr', { name: vol, xattr_name: 'user_created' })).toBe('abc123');

    const snap = rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/vol', snapshot_name: 'snap' }) as string;
    const clone = rpc.call('bdev_lvol_clone', { snapshot_name: snap, clone_name: 'clone' }) as string;
    const lvols = rpc.call('bdev_lvol_get_lvols', { lvs_name: 'lvs0' }) as Record<string, unknown>[];
    const by = Object.fromEntries(lvols.map((l) => [l['name'] as string, l]));
    expect(Object.keys(by).sort()).toEqual(['clone', 'snap', 'thick', 'vol']);
    expect(by['vol']).toEqual({ alias: 'lvs0/vol', uuid: vol, name: 'vol', creation_time: '1970-01-01T00:00:00Z', is_thin_provisioned: true, is_snapshot: false, is_clone: true, is_esnap_clone: false, is_degraded: false, num_allocated_clusters: 0, lvs: { name: 'lvs0', uuid: lvsUuid } });
    expect(by['snap']).toMatchObject({ uuid: snap, is_snapshot: true, is_clone: false });
    expect(by['clone']).toMatchObject({ uuid: clone, is_clone: true });
    expect(by['thick']).toMatchObject({ uuid: thick, is_thin_provisioned: false, num_allocated_clusters: 2 });

    // a snapshot with two clones cannot be deleted; after one clone goes it merges into the other
    expect(() => rpc.call('bdev_lvol_delete', { name: 'lvs0/snap' })).toThrow(/more than one clone/);
    expect(rpc.call('bdev_lvol_delete', { name: clone })).toBe(true);
    expect(rpc.call('bdev_lvol_delete', { name: 'lvs0/snap' })).toBe(true);
    expect((rpc.call('bdev_lvol_get_lvols', {}) as unknown[]).length).toBe(2);
  });

  it('bdev_lvol_snapshot with xattrs (LH fork): set on the snapshot at its creation, read back by bdev_lvol_get_xattr', async () => {
    const { m, rpc } = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 4096 });
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1048576 });
    rpc.call('bdev_lvol_create', { lvol_name: 'head', size_in_mib: 4, thin_provision: true, lvs_name: 'lvs0' });
    m.world.at(3_600e6, 'test.clock', () => {});
    m.world.run(() => false, 3_600e6);
    const xattrs = { longhorn_backing_image_checksum: 'ab'.repeat(64), longhorn_backing_image_uuid: 'bi-1', longhorn_backing_image_prepare_state: 'ready' };
    const snap = rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/head', snapshot_name: 'bi-snap', xattrs }) as string;
    for (const [k, v] of Object.entries(xattrs)) expect(rpc.call('bdev_lvol_get_xattr', { name: snap, xattr_name: k })).toBe(v);
    expect(rpc.call('bdev_lvol_get_xattr', { name: 'lvs0/bi-snap', xattr_name: 'creation_time' })).toBe('1970-01-01T01:00:00Z');
    const lvols = rpc.call('bdev_lvol_get_lvols', {}) as { name: string; creation_time: string }[];
    expect(lvols.find((l) => l.name === 'bi-snap')?.creation_time).toBe('1970-01-01T01:00:00Z');
    expect(lvols.find((l) => l.name === 'head')?.creation_time).toBe('1970-01-01T00:00:00Z');
    // read-only snapshot: the lvol layer refuses later edits
    expect(() => rpc.call('bdev_lvol_set_xattr', { name: snap, xattr_name: 'longhorn_backing_image_prepare_state', xattr_value: 'x' })).toThrow(/-EPERM/);
    // null and {} are no xattrs, as SPDK's decoder treats them
    expect(rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/head', snapshot_name: 's2', xattrs: null })).toMatch(UUID_RE);
    expect(rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/head', snapshot_name: 's3', xattrs: {} })).toMatch(UUID_RE);
  });

  it('bdev_lvol_snapshot xattrs errors name the field and change nothing', async () => {
    const { m, rpc } = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 4096 });
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1048576 });
    rpc.call('bdev_lvol_create', { lvol_name: 'head', size_in_mib: 2, lvs_name: 'lvs0' });
    const image = memImage(m, 'Mem0');
    const before = image();
    const err = (xattrs: unknown) => {
      const r = JSON.parse(rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bdev_lvol_snapshot', params: { lvol_name: 'lvs0/head', snapshot_name: 'snap', xattrs } }))!);
      return r.error as { code: number; message: string; data?: { field?: string } };
    };
    expect(err('checksum=abc')).toMatchObject({ code: -32602, data: { field: 'xattrs' } });
    expect(err('checksum=abc').message).toMatch(/'xattrs' must be an object, got string/);
    expect(err([['a', 'b']]).message).toMatch(/'xattrs' must be an object, got array/);
    expect(err({ longhorn_backing_image_checksum: 5 })).toMatchObject({ code: -32602, data: { field: 'xattrs.longhorn_backing_image_checksum' } });
    expect(err({ ok: 'x', nested: { a: 'b' } }).message).toMatch(/'xattrs.nested' must be a string, got object/);
    expect(err({ ok: 'x\u0000y' }).message).toMatch(/'xattrs.ok' must not contain a NUL/);
    // names the lvol library owns: spdk_lvol_create_snapshot_with_xattrs says -EINVAL
    expect(err({ checksum: 'abc' }).message).toMatch(/spdk_lvol_create_snapshot_with_xattrs failed: -EINVAL/);
    expect(err({ creation_time: '2025-01-01T00:00:00Z' }).message).toMatch(/-EINVAL/);
    expect(same(image(), before)).toBe(true);
    expect((rpc.call('bdev_lvol_get_lvols', {}) as unknown[]).length).toBe(1);
  });

  it('bdev_lvol_resize: grows and shrinks; a snapshot (read-only) is -EPERM with the device unchanged', async () => {
    const { m, rpc } = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 4096 });
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1048576 });
    rpc.call('bdev_lvol_create', { lvol_name: 'vol', size_in_mib: 2, lvs_name: 'lvs0' });
    expect(rpc.call('bdev_lvol_resize', { name: 'lvs0/vol', size_in_mib: 5 })).toBe(true);
    expect(rpc.call('bdev_lvol_get_lvstores', {})).toMatchObject([{ free_clusters: 10 }]);
    rpc.call('bdev_lvol_create', { lvol_name: 'thick', size_in_mib: 1, lvs_name: 'lvs0' });
    const snap = rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/vol', snapshot_name: 'snap' }) as string;
    const image = memImage(m, 'Mem0');
    const before = image();
    for (const size of [1, 0, 8]) {
      const r = JSON.parse(rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bdev_lvol_resize', params: { name: snap, size_in_mib: size } }))!);
      expect(r.error.message).toMatch(/bdev_lvol_resize: spdk_lvol_resize failed: -EPERM/);
    }
    expect(() => rpc.call('bdev_lvol_resize', { name: 'lvs0/thick', size_in_mib: 1000 })).toThrow(/-ENOSPC/);
    expect(() => rpc.call('bdev_lvol_resize', { name: 'lvs0/nope', size_in_mib: 1 })).toThrow(/no lvol bdev/);
    expect(() => rpc.call('bdev_lvol_resize', { name: 'lvs0/vol', size_in_mib: -1 })).toThrow(/'size_in_mib'/);
    expect(same(image(), before)).toBe(true);
    // the head (a clone now) shrinks: its parent's clusters stay with the snapshot
    expect(rpc.call('bdev_lvol_resize', { name: 'lvs0/vol', size_in_mib: 1 })).toBe(true);
    expect(rpc.call('bdev_lvol_get_lvstores', {})).toMatchObject([{ free_clusters: 9 }]);
  });

  it('errors: SPDK names, JSON-RPC error objects, nothing changed', async () => {
    const { rpc } = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 4096 });
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1048576 });
    rpc.call('bdev_lvol_create', { lvol_name: 'a', size_in_mib: 1, lvs_name: 'lvs0' });
    const resp = (text: string) => JSON.parse(rpc.handle(text)!);
    const dup = resp('{"jsonrpc":"2.0","id":1,"method":"bdev_lvol_create","params":{"lvol_name":"a","size_in_mib":1,"lvs_name":"lvs0"}}');
    // The alias lvs0/a is a taken bdev name: -EEXIST, as vbdev_lvol answers with spdk_strerror.
    expect(dup.error.code).toBe(-17);
    expect(dup.error.message).toMatch(/"lvs0\/a" is already an alias of bdev .*-EEXIST/);
    expect(resp(`{"jsonrpc":"2.0","id":2,"method":"bdev_lvol_create","params":{"lvol_name":"${'x'.repeat(256)}","size_in_mib":1,"lvs_name":"lvs0"}}`).error.message).toMatch(/lvol_name/);
    expect(resp('{"jsonrpc":"2.0","id":3,"method":"bdev_lvol_create","params":{"lvol_name":"b","size_in_mib":1}}').error.message).toMatch(/give exactly one/);
    expect(resp('{"jsonrpc":"2.0","id":4,"method":"bdev_lvol_create_lvstore","params":{"bdev_name":"nope","lvs_name":"x"}}').error.message).toMatch(/no bdev named "nope"/);
    expect(resp('{"jsonrpc":"2.0","id":5,"method":"bdev_lvol_delete","params":{"name":"lvs0/missing"}}').error.message).toMatch(/no lvol bdev/);
    expect(resp('{"jsonrpc":"2.0","id":6,"method":"bdev_lvol_get_xattr","params":{"name":"lvs0/a","xattr_name":"nope"}}').error.message).toMatch(/-ENOENT/);
    expect((rpc.call('bdev_lvol_get_lvols', {}) as unknown[]).length).toBe(1);
    expect(rpc.call('rpc_get_methods', {})).toEqual(expect.arrayContaining(['bdev_lvol_create_lvstore', 'bdev_lvol_get_lvstores', 'bdev_lvol_create', 'bdev_lvol_snapshot', 'bdev_lvol_clone', 'bdev_lvol_delete', 'bdev_lvol_get_lvols', 'bdev_lvol_set_xattr', 'bdev_lvol_get_xattr', 'bdev_lvol_resize', 'bdev_mem_create']));
  });
});
