/**
 * The target's JSON-RPC methods (lib/nvmf/nvmf_rpc.c, bdev_malloc_rpc.c, bdev_rpc.c) on a real
 * machine: an SPDK JSON config describing an NVMe/TCP target, loaded as `spdk_tgt --json` reads
 * it, then read back with nvmf_get_subsystems / nvmf_get_transports / bdev_get_bdevs; a host
 * connecting through it shows in nvmf_subsystem_get_qpairs; bad parameters name their field.
 */
import { describe, expect, it } from 'vitest';
import { JsonConfigError, loadJsonConfig } from '../../../host/spdk/json-config.js';
import { type JsonValue } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { rpcError } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';
import { TargetHarness } from '../../../host/fuzz/target-harness.node.js';

const NQN = 'nqn.2016-06.io.spdk:cnode1';

/** An NVMe/TCP target as SPDK's docs and save_config write it (zcopy, ack_timeout set). */
const TARGET = `{
  "subsystems": [
    {
      "subsystem": "sock",
      "config": [
        { "method": "sock_impl_set_options", "params": { "impl_name": "posix", "enable_zerocopy_send_server": true, "zerocopy_threshold": 0 } }
      ]
    },
    {
      "subsystem": "bdev",
      "config": [
        { "method": "bdev_malloc_create", "params": { "name": "Malloc0", "num_blocks": 65536, "block_size": 512, "physical_block_size": 512, "optimal_io_boundary": 0, "md_size": 0, "dif_type": 0, "dif_is_head_of_md": false } },
        { "method": "bdev_malloc_create", "params": { "name": "Malloc1", "num_blocks": 1024, "block_size": 4096 } },
        { "method": "bdev_wait_for_examine" }
      ]
    },
    {
      "subsystem": "nvmf",
      "config": [
        {
          "method": "nvmf_create_transport",
          "params": {
            "trtype": "TCP", "max_queue_depth": 128, "max_io_qpairs_per_ctrlr": 127, "in_capsule_data_size": 4096,
            "max_io_size": 131072, "io_unit_size": 131072, "max_aq_depth": 128, "num_shared_buffers": 511,
            "buf_cache_size": 4294967295, "dif_insert_or_strip": false, "zcopy": true, "c2h_success": true,
            "sock_priority": 0, "abort_timeout_sec": 1, "ack_timeout": 2000, "data_wr_pool_size": 0
          }
        },
        { "method": "nvmf_create_subsystem", "params": { "nqn": "${NQN}", "allow_any_host": false, "serial_number": "SPDK00000000000001", "model_number": "SPDK bdev Controller", "max_namespaces": 32, "min_cntlid": 1, "max_cntlid": 65519, "ana_reporting": false } },
        { "method": "nvmf_subsystem_add_listener", "params": { "nqn": "${NQN}", "listen_address": { "trtype": "TCP", "adrfam": "IPv4", "traddr": "192.0.2.1", "trsvcid": "4420" }, "secure_channel": false } },
        { "method": "nvmf_subsystem_add_ns", "params": { "nqn": "${NQN}", "namespace": { "nsid": 1, "bdev_name": "Malloc0" } } },
        { "method": "nvmf_subsystem_add_ns", "params": { "nqn": "${NQN}", "namespace": { "bdev_name": "Malloc1" } } },
        { "method": "nvmf_subsystem_add_host", "params": { "nqn": "${NQN}", "host": "nqn.2014-08.org.nvmexpress:uuid:host1" } }
      ]
    }
  ]
}`;

async function server() {
  const { m } = await utMachine('unpatched');
  return createRpcServer(m);
}

describe('NVMe-oF target JSON-RPC', () => {
  it('loads an SPDK JSON config describing a target and nvmf_get_subsystems reports it', async () => {
    const s = await server();
    const report = loadJsonConfig(s, TARGET);
    expect(report.state).toBe('runtime');
    expect(report.applied.map((a) => a.method)).toContain('nvmf_subsystem_add_host');
    expect(s.call('nvmf_get_subsystems')).toEqual([{
      nqn: NQN,
      subtype: 'NVMe',
      listen_addresses: [{ trtype: 'TCP', adrfam: 'IPv4', traddr: '192.0.2.1', trsvcid: '4420' }],
      allow_any_host: false,
      hosts: [{ nqn: 'nqn.2014-08.org.nvmexpress:uuid:host1' }],
      serial_number: 'SPDK00000000000001',
      model_number: 'SPDK bdev Controller',
      max_namespaces: 32,
      min_cntlid: 1,
      max_cntlid: 65519,
      namespaces: [{ nsid: 1, bdev_name: 'Malloc0', name: 'Malloc0' }, { nsid: 2, bdev_name: 'Malloc1', name: 'Malloc1' }],
    }]);
    const [t] = s.call('nvmf_get_transports') as JsonValue[];
    expect(t).toMatchObject({ trtype: 'TCP', max_queue_depth: 128, in_capsule_data_size: 4096, max_io_size: 131072, zcopy: true, c2h_success: true, ack_timeout: 2000, num_shared_buffers: 511 });
    const bdevs = s.call('bdev_get_bdevs') as { name: string; block_size: number; num_blocks: number; supported_io_types: { zcopy: boolean } }[];
    expect(bdevs.map((b) => [b.name, b.block_size, b.num_blocks, b.supported_io_types.zcopy])).toEqual([['Malloc0', 512, 65536, true], ['Malloc1', 4096, 1024, true]]);
    expect(s.call('bdev_get_bdevs', { name: 'Malloc1' })).toHaveLength(1);
    // ack_timeout reached the listen socket as TCP_USER_TIMEOUT.
    expect((s.machine.kernel as unknown as { calls: { fn: string; flags?: number }[] }).calls.some((c) => c.fn === 'setsockopt' && c.flags === 18)).toBe(true);
  });

  it('a bad config names the subsystem, the entry, the method and the field, and changes nothing', async () => {
    const s = await server();
    const bad = TARGET.replace('"trsvcid": "4420" }', '"trsvcid": "99999" }');
    let err: unknown;
    try {
      loadJsonConfig(s, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonConfigError);
    expect((err as Error).message).toMatch(/nvmf.*config\[2\].*nvmf_subsystem_add_listener.*listen_address\.trsvcid/);
    expect(s.machine.api.spdk_wasm_nvmf_subsystem_count()).toBe(0);
  });

  it('errors name the field: unknown, missing, out of range, wrong type, nested, absent objects', async () => {
    const s = await server();
    s.call('framework_start_init');
    expect(rpcError(() => s.call('nvmf_create_transport', { trtype: 'RDMA' })).message).toMatch(/'trtype' must be "TCP"/);
    expect(rpcError(() => s.call('nvmf_create_transport', { trtype: 'TCP', max_queue_depth: 1 })).message).toMatch(/'max_queue_depth'/);
    expect(rpcError(() => s.call('nvmf_create_transport', { trtype: 'TCP', zcopy: 'yes' })).message).toMatch(/'zcopy' must be a bool/);
    expect(rpcError(() => s.call('nvmf_create_transport', { trtype: 'TCP', psk: 'x' })).message).toMatch(/'psk' is not supported/);
    s.call('nvmf_create_transport', { trtype: 'tcp' });
    expect(rpcError(() => s.call('nvmf_create_transport', { trtype: 'TCP' })).message).toMatch(/'trtype' names a transport that already exists/);
    expect(rpcError(() => s.call('nvmf_create_subsystem', {})).message).toMatch(/'nqn' is required/);
    expect(rpcError(() => s.call('nvmf_create_subsystem', { nqn: 'iqn.2001-04.com.example' })).message).toMatch(/'nqn' must be an NQN/);
    expect(rpcError(() => s.call('nvmf_create_subsystem', { nqn: NQN, serial_number: 'x'.repeat(21) })).message).toMatch(/'serial_number'/);
    s.call('nvmf_create_subsystem', { nqn: NQN, allow_any_host: true });
    expect(rpcError(() => s.call('nvmf_create_subsystem', { nqn: NQN })).message).toMatch(/'nqn' names a subsystem that already exists/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'Nope' } })).message).toMatch(/'namespace\.bdev_name' names no bdev/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { nsid: 1 } })).message).toMatch(/'namespace\.bdev_name' is required/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'M', bogus: 1 } })).message).toMatch(/'namespace\.bogus' is unknown/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_ns', { nqn: 'nqn.2016-06.io.spdk:none', namespace: { bdev_name: 'M' } })).message).toMatch(/'nqn' names no subsystem/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_listener', { nqn: NQN, listen_address: { trtype: 'TCP', adrfam: 'IPv6', traddr: '::1' } })).message).toMatch(/'listen_address\.adrfam' must be one of "IPv4"/);
    expect(rpcError(() => s.call('nvmf_subsystem_add_listener', { nqn: NQN, listen_address: 'x' })).message).toMatch(/'listen_address' must be an object/);
    expect(rpcError(() => s.call('bdev_malloc_create', { num_blocks: 8, block_size: 1000 })).message).toMatch(/'block_size' must be a multiple of 512/);
    expect(rpcError(() => s.call('bdev_malloc_create', { block_size: 512 })).message).toMatch(/'num_blocks' is required/);
    expect(s.call('bdev_malloc_create', { num_blocks: 8, block_size: 512 })).toBe('Malloc0');
    expect(rpcError(() => s.call('bdev_malloc_create', { name: 'Malloc0', num_blocks: 8, block_size: 512 }))).toMatchObject({ code: -17, message: expect.stringMatching(/bdev "Malloc0" already exists \(-EEXIST\)/) });
    expect(s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'Malloc0', nsid: 5 } })).toBe(5);
    expect(rpcError(() => s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'Malloc0', nsid: 5 } })).message).toMatch(/'namespace\.nsid' is invalid or already in use/);
    expect(rpcError(() => s.call('bdev_get_bdevs', { name: 'Nope' })).message).toMatch(/'name' names no bdev/);
    expect(rpcError(() => s.call('bdev_nvme_attach_controller', { name: 'Nvme0', trtype: 'TCP', traddr: '192.0.2.1', subnqn: 'bad' })).message).toMatch(/'subnqn'/);
    expect(rpcError(() => s.call('bdev_nvme_attach_controller', { name: 'Nvme0', trtype: 'RDMA', traddr: '192.0.2.1' })).message).toMatch(/'trtype' must be "TCP"/);
  });

  it('nvmf_subsystem_get_qpairs lists a connected host\'s admin and I/O qpairs with their addresses', async () => {
    const h = await TargetHarness.create();
    const s = createRpcServer(h.m, { state: 'runtime' });
    const { cntlid } = h.adminQueue();
    h.ioQueue(cntlid, 1);
    const qps = s.call('nvmf_subsystem_get_qpairs', { nqn: NQN }) as { cntlid: number; qid: number; state: string; listen_address: { traddr: string }; peer_address: { traddr: string } }[];
    expect(qps.map((q) => [q.cntlid, q.qid, q.state])).toEqual([[cntlid, 0, 'enabled'], [cntlid, 1, 'enabled']]);
    expect(qps[0]!.listen_address.traddr).toBe('192.0.2.1');
    expect(qps[0]!.peer_address.traddr).toBe('192.0.2.2');
  });

  it('nvmf_delete_subsystem removes a subsystem with its namespaces and listeners; unknown NQN and connected controllers are refused', async () => {
    const s = await server();
    loadJsonConfig(s, TARGET);
    expect(() => s.call('nvmf_delete_subsystem', { nqn: 'nqn.2016-06.io.spdk:none' })).toThrow(/nvmf_delete_subsystem: parameter 'nqn' names no subsystem/);
    expect(s.call('nvmf_delete_subsystem', { nqn: NQN })).toBe(true);
    expect(s.call('nvmf_get_subsystems')).toEqual([]);
    // the bdevs its namespaces held are free again, and the NQN can be created anew on the same port
    expect(s.call('nvmf_create_subsystem', { nqn: NQN, allow_any_host: true })).toBe(true);
    expect(s.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'Malloc0' } })).toBe(1);
    expect(s.call('nvmf_subsystem_add_listener', { nqn: NQN, listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: '192.0.2.1', trsvcid: '4420' } })).toBe(true);

    const h = await TargetHarness.create();
    const t = createRpcServer(h.m, { state: 'runtime' });
    h.adminQueue();
    expect(() => t.call('nvmf_delete_subsystem', { nqn: NQN })).toThrow(/spdk_nvmf_subsystem_destroy\(nqn.2016-06.io.spdk:cnode1\) failed: -EBUSY/);
    expect((t.call('nvmf_get_subsystems') as unknown[]).length).toBe(1);
  });
});
