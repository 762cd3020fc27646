/** `bdev_aio_create` on a block device of the machine's host kernel, an lvol store on it through
 *  `bdev_lvol_create_lvstore`, and `bdev_get_bdevs` reporting the AIO bdev and the lvol bdevs with
 *  driver_specific.lvol.num_allocated_clusters (vbdev_lvol_dump_info_json's shape). */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../host/kernel/blockdev-backend.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import { Fabric } from '../../../host/net/fabric.js';
import { World } from '../../../host/sim/world.js';
import { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { rpcError } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';

const MiB = 1 << 20;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Bdev = { name: string; aliases: string[]; product_name: string; block_size: number; num_blocks: number; driver_specific: Record<string, Record<string, unknown>> };

describe('bdev_aio_create and lvol bdevs in bdev_get_bdevs', () => {
  it('opens a host block device, carries an lvol store, and reports lvol bdevs with num_allocated_clusters', async () => {
    const { m, kernel } = await utMachine();
    const disk = kernel.addMemoryDisk('/dev/sdb', 16 * MiB);
    const rpc = createRpcServer(m, { state: 'runtime' });

    // The device must exist in the machine's kernel.
    const missing = rpcError(() => rpc.call('bdev_aio_create', { filename: '/dev/sdz', name: 'aio9' }));
    expect(missing.message).toMatch(/bdev_aio_create: no block device "\/dev\/sdz" in this machine's kernel \(-ENOENT\)/);
    expect(rpc.call('bdev_get_bdevs', {})).toEqual([]);
    // A block size override is not modelled.
    expect(rpcError(() => rpc.call('bdev_aio_create', { filename: '/dev/sdb', name: 'aio0', block_size: 512 })).message).toMatch(/block_size.*4096/);
    expect(rpcError(() => rpc.call('bdev_aio_create', { filename: '/dev/sdb', name: 'aio0', readonly: true })).message).toMatch(/readonly/);

    expect(rpc.call('bdev_aio_create', { filename: '/dev/sdb', name: 'aio0', block_size: 4096 })).toBe('aio0');
    expect(rpcError(() => rpc.call('bdev_aio_create', { filename: '/dev/sdb', name: 'aio0' })).message).toMatch(/already exists/);
    expect(rpc.call('bdev_get_bdevs', { name: 'aio0' })).toEqual([{
      name: 'aio0', aliases: [], product_name: 'AIO disk', block_size: 4096, num_blocks: 4096,
      supported_io_types: { read: true, write: true, flush: true, unmap: false, write_zeroes: false, reset: true, zcopy: false },
      driver_specific: { aio: { filename: '/dev/sdb', block_size_override: false, readonly: false, fallocate: false } },
    }]);

    const lvsUuid = rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'aio0', lvs_name: 'lvs0', cluster_sz: MiB }) as string;
    expect(lvsUuid).toMatch(UUID_RE);
    // The store's super block is on the host device.
    expect(new TextDecoder().decode(disk.bytes.subarray(0, 8))).toBe('SPDKBLOB');
    expect(rpc.call('bdev_lvol_get_lvstores', {})).toMatchObject([{ uuid: lvsUuid, base_bdev: 'aio0', cluster_size: MiB, block_size: 4096 }]);

    const thick = rpc.call('bdev_lvol_create', { lvol_name: 'thick', size_in_mib: 2, lvs_name: 'lvs0' }) as string;
    const thin = rpc.call('bdev_lvol_create', { lvol_name: 'thin', size_in_mib: 4, thin_provision: true, lvs_name: 'lvs0' }) as string;
    const snap = rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/thick', snapshot_name: 'snap' }) as string;

    const all = rpc.call('bdev_get_bdevs', {}) as Bdev[];
    expect(all.map((b) => b.name)).toEqual(['aio0', thick, thin, snap]);
    const by = Object.fromEntries(all.map((b) => [b.aliases[0] ?? b.name, b]));
    // After the snapshot the origin is a thin clone of it (its clusters moved to the snapshot).
    expect(by['lvs0/thick']).toMatchObject({
      name: thick, product_name: 'Logical Volume', block_size: 4096, num_blocks: 512,
      driver_specific: { lvol: { lvol_store_uuid: lvsUuid, base_bdev: 'aio0', thin_provision: true, num_allocated_clusters: 0, snapshot: false, clone: true, base_snapshot: 'snap', esnap_clone: false } },
    });
    expect(by['lvs0/thin']!.driver_specific['lvol']).toEqual({ lvol_store_uuid: lvsUuid, base_bdev: 'aio0', thin_provision: true, num_allocated_clusters: 0, snapshot: false, clone: false, esnap_clone: false });
    expect(by['lvs0/thin']!.num_blocks).toBe(1024);
    expect(by['lvs0/snap']!.driver_specific['lvol']).toMatchObject({ num_allocated_clusters: 2, snapshot: true, clone: false, clones: ['thick'] });
    // The same object by name or alias; the counts agree with bdev_lvol_get_lvols.
    expect(rpc.call('bdev_get_bdevs', { name: 'lvs0/snap' })).toEqual([by['lvs0/snap']]);
    expect(rpc.call('bdev_get_bdevs', { name: snap })).toEqual([by['lvs0/snap']]);
    const lvols = rpc.call('bdev_lvol_get_lvols', {}) as { uuid: string; num_allocated_clusters: number }[];
    for (const l of lvols) expect((rpc.call('bdev_get_bdevs', { name: l.uuid }) as Bdev[])[0]!.driver_specific['lvol']!['num_allocated_clusters']).toBe(l.num_allocated_clusters);

    // A deleted lvol is no longer a bdev; the base device stays.
    expect(rpc.call('bdev_lvol_delete', { name: 'lvs0/thin' })).toBe(true);
    expect(rpcError(() => rpc.call('bdev_get_bdevs', { name: thin })).message).toMatch(/names no bdev/);
    expect((rpc.call('bdev_get_bdevs', {}) as Bdev[]).map((b) => b.name)).toEqual(['aio0', thick, snap]);
  });

  it('waits for the host block I/O of a real kernel device (virtual time passes)', async () => {
    const world = new World(7);
    const fabric = new Fabric(world);
    let kernel: Kernel | undefined;
    const m = await SpdkMachine.create({
      world,
      name: 'node',
      variant: await loadVariant('unpatched', 'release'),
      kernel: (mem) => (kernel = new Kernel(world, 'node', mem, fabric)),
    });
    world.add(m);
    kernel!.blk.addDevice('/dev/sdb', new MemoryBackend(world, 8 * MiB, { latencyUs: 50, discardZeroes: true }));
    const rpc = createRpcServer(m, { state: 'runtime' });
    expect(rpc.call('bdev_aio_create', { filename: '/dev/sdb', name: 'aio0' })).toBe('aio0');
    const t0 = world.now;
    rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'aio0', lvs_name: 'lvs0', cluster_sz: MiB });
    expect(world.now).toBeGreaterThan(t0);
    const vol = rpc.call('bdev_lvol_create', { lvol_name: 'v', size_in_mib: 3, lvs_name: 'lvs0' }) as string;
    expect((rpc.call('bdev_get_bdevs', { name: vol }) as Bdev[])[0]!.driver_specific['lvol']!['num_allocated_clusters']).toBe(3);
  });
});
