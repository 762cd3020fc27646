/** One bdev namespace across every bdev kind (lib/bdev's name tree): a second bdev of any kind
 *  with a taken name or alias fails with -EEXIST; memory disks are listed by bdev_get_bdevs. */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { rpcError } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';

async function server() {
  const { m } = await utMachine();
  return createRpcServer(m, { state: 'runtime' });
}

const names = (list: JsonValue) => (list as { name: string }[]).map((b) => b.name).sort();

describe('bdev namespace', () => {
  it('a mem disk appears in bdev_get_bdevs, alone and in the full list', async () => {
    const rpc = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 256, block_size: 4096 });
    expect(rpc.call('bdev_get_bdevs', { name: 'Mem0' })).toMatchObject([{ name: 'Mem0', block_size: 4096, num_blocks: 256 }]);
    expect(names(rpc.call('bdev_get_bdevs', {}))).toEqual(['Mem0']);
  });

  it('every create kind refuses every taken name with -EEXIST, and creates nothing', async () => {
    const rpc = await server();
    rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 4096, block_size: 4096 });
    rpc.call('bdev_malloc_create', { name: 'Mal0', num_blocks: 16, block_size: 512 });
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1 << 20 });
    const uuid = rpc.call('bdev_lvol_create', { lvs_name: 'lvs0', lvol_name: 'vol', size_in_mib: 1, thin_provision: true }) as string;
    const before = names(rpc.call('bdev_get_bdevs', {}));
    for (const taken of ['Mem0', 'Mal0', uuid, 'lvs0/vol']) {
      for (const [method, params] of [
        ['bdev_mem_create', { name: taken, num_blocks: 16 }],
        ['bdev_malloc_create', { name: taken, num_blocks: 16, block_size: 512 }],
        ['bdev_aio_create', { name: taken, filename: '/dev/none' }],
      ] as const) {
        const e = rpcError(() => rpc.call(method, params));
        expect(e.code, `${method} ${taken}`).toBe(-17);
        expect(e.message).toMatch(/-EEXIST/);
      }
    }
    // An lvol, snapshot or clone whose alias would be a taken name.
    expect(rpcError(() => rpc.call('bdev_lvol_create', { lvs_name: 'lvs0', lvol_name: 'vol', size_in_mib: 1 })).code).toBe(-17);
    expect(rpcError(() => rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/vol', snapshot_name: 'vol' })).code).toBe(-17);
    expect(names(rpc.call('bdev_get_bdevs', {}))).toEqual(before);
  });

  it('bdev_malloc_create without a name skips names taken by any kind', async () => {
    const rpc = await server();
    rpc.call('bdev_mem_create', { name: 'Malloc0', num_blocks: 16, block_size: 4096 });
    expect(rpc.call('bdev_malloc_create', { num_blocks: 16, block_size: 512 })).toBe('Malloc1');
  });

  it('names are 1..255 characters for every create kind', async () => {
    const rpc = await server();
    for (const [method, params] of [
      ['bdev_mem_create', { num_blocks: 16 }],
      ['bdev_malloc_create', { num_blocks: 16, block_size: 512 }],
      ['bdev_aio_create', { filename: '/dev/none' }],
    ] as const) {
      expect(rpcError(() => rpc.call(method, { ...params, name: '' })).message).toMatch(/'name' must be string of length 1\.\.255/);
      expect(rpcError(() => rpc.call(method, { ...params, name: 'n'.repeat(256) })).message).toMatch(/'name' must be string of length 1\.\.255/);
    }
    expect(rpc.call('bdev_mem_create', { name: 'n'.repeat(255), num_blocks: 16 })).toBe('n'.repeat(255));
  });
});
