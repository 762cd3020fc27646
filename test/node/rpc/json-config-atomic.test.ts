/** A JSON config that fails anywhere changes nothing: bdevs, lvol stores, sock options and the
 *  RPC state read back exactly as before. Regression: a duplicate bdev name in the file left the
 *  entries before it applied. */
import { describe, expect, it } from 'vitest';
import { JsonConfigError, loadJsonConfig } from '../../../host/spdk/json-config.js';
import type { JsonValue, RpcServer } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { thrownBy } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';

function state(rpc: RpcServer) {
  const runtime = rpc.state === 'runtime';
  return {
    rpc: rpc.state,
    sock: rpc.call('sock_impl_get_options', { impl_name: 'posix' }),
    bdevs: runtime ? rpc.call('bdev_get_bdevs', {}) : null,
    lvstores: runtime ? rpc.call('bdev_lvol_get_lvstores', {}) : null,
    lvols: runtime ? rpc.call('bdev_lvol_get_lvols', {}) : null,
  };
}

const sock = { subsystem: 'sock', config: [{ method: 'sock_impl_set_options', params: { impl_name: 'posix', zerocopy_threshold: 4096 } }] };
const mem = (name: string, num_blocks = 4096) => ({ method: 'bdev_mem_create', params: { name, num_blocks, block_size: 4096 } });

function failing(rpc: RpcServer, config: JsonValue, msg: RegExp): void {
  const before = state(rpc);
  const e = thrownBy(JsonConfigError, () => loadJsonConfig(rpc, config));
  expect(e.message).toMatch(msg);
  expect(state(rpc)).toEqual(before);
}

describe('JSON config: all or nothing', () => {
  it('a duplicate bdev name in the file is refused before anything is applied', async () => {
    const { m } = await utMachine();
    const rpc = createRpcServer(m);
    failing(rpc, { subsystems: [sock, { subsystem: 'bdev', config: [mem('A'), mem('B'), { method: 'bdev_malloc_create', params: { name: 'A', num_blocks: 8, block_size: 512 } }] }] },
      /config\[2\] method "bdev_malloc_create": bdev name "A" is also registered by subsystem "bdev" config\[0\] \(-EEXIST\)/);
  });

  it('a name taken by an existing bdev (any kind, lvol aliases too) is refused up front', async () => {
    const { m } = await utMachine();
    const rpc = createRpcServer(m, { state: 'runtime' });
    loadJsonConfig(rpc, { subsystems: [{ subsystem: 'bdev', config: [mem('Mem0'), { method: 'bdev_lvol_create_lvstore', params: { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1 << 20 } }, { method: 'bdev_lvol_create', params: { lvs_name: 'lvs0', lvol_name: 'v', size_in_mib: 1 } }] }] });
    failing(rpc, { subsystems: [{ subsystem: 'bdev', config: [mem('X'), mem('Mem0')] }] }, /taken by the existing bdev "Mem0"/);
    failing(rpc, { subsystems: [{ subsystem: 'bdev', config: [mem('X'), { method: 'bdev_lvol_create', params: { lvs_name: 'lvs0', lvol_name: 'v', size_in_mib: 1 } }] }] }, /"lvs0\/v" is taken/);
  });

  it('a call that fails while applying rolls back every call before it, framework_start_init included', async () => {
    const { m } = await utMachine();
    const rpc = createRpcServer(m);
    failing(rpc, {
      subsystems: [sock, {
        subsystem: 'bdev',
        config: [
          mem('Mem0'),
          { method: 'bdev_lvol_create_lvstore', params: { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1 << 20 } },
          { method: 'bdev_lvol_create', params: { lvs_name: 'lvs0', lvol_name: 'v', size_in_mib: 2 } },
          { method: 'bdev_lvol_snapshot', params: { lvol_name: 'lvs0/v', snapshot_name: 's' } },
          // 64 MiB does not fit the 16 MiB store: -ENOSPC from the C, after six calls (sock, framework_start_init, four bdev calls).
          { method: 'bdev_lvol_create', params: { lvs_name: 'lvs0', lvol_name: 'big', size_in_mib: 64 } },
        ],
      }],
    }, /failed \(the 6 call\(s\) applied before it were rolled back\).*ENOSPC/);
    expect(rpc.state).toBe('startup');
    // And the same file without its bad entry then loads.
    loadJsonConfig(rpc, { subsystems: [sock, { subsystem: 'bdev', config: [mem('Mem0'), { method: 'bdev_lvol_create_lvstore', params: { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: 1 << 20 } }] }] });
    expect(rpc.call('bdev_lvol_get_lvstores', {})).toMatchObject([{ name: 'lvs0', base_bdev: 'Mem0' }]);
  });
});
