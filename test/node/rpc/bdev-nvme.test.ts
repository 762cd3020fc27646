/**
 * bdev_nvme_attach_controller (module/bdev/nvme/bdev_nvme_rpc.c) end to end: a target machine set up
 * from an SPDK JSON config (malloc bdevs, TCP transport, subsystem with two namespaces, listener,
 * allowed host) and an initiator machine whose JSON-RPC attaches to it over the emulated wire. The
 * answer names the bdevs as SPDK does (<name>n<nsid>), bdev_get_bdevs then lists each namespace
 * with its size, I/O through Nvme0n1 lands in the target's Malloc0 and reads back, the target sees
 * the host's qpairs; bad parameters are JSON-RPC errors naming the field.
 */
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../../host/scenarios/contract.js';
import { buildTestbed, type Testbed } from '../../../host/scenarios/testbed.js';
import { ATTACH, NVME_HOST_IP, NVME_TARGET_IP } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import { loadJsonConfig } from '../../../host/spdk/json-config.js';
import type { RpcServer } from '../../../host/spdk/jsonrpc.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { fill, io } from '../nvme/support.js';

const NQN = 'nqn.2016-06.io.spdk:cnode1';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:host1';

const TARGET = JSON.stringify({
  subsystems: [
    { subsystem: 'sock', config: [{ method: 'sock_impl_set_options', params: { impl_name: 'posix', enable_zerocopy_send_server: true, zerocopy_threshold: 0 } }] },
    {
      subsystem: 'bdev',
      config: [
        { method: 'bdev_malloc_create', params: { name: 'Malloc0', num_blocks: 8192, block_size: 512 } },
        { method: 'bdev_malloc_create', params: { name: 'Malloc1', num_blocks: 1024, block_size: 4096 } },
        { method: 'bdev_wait_for_examine' },
      ],
    },
    {
      subsystem: 'nvmf',
      config: [
        { method: 'nvmf_create_transport', params: { trtype: 'TCP', max_queue_depth: 128, in_capsule_data_size: 4096, max_io_size: 131072, io_unit_size: 131072, zcopy: false } },
        { method: 'nvmf_create_subsystem', params: { nqn: NQN, allow_any_host: false, serial_number: 'SPDK00000000000001', model_number: 'SPDK bdev Controller' } },
        { method: 'nvmf_subsystem_add_listener', params: { nqn: NQN, listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: NVME_TARGET_IP, trsvcid: '4420' } } },
        { method: 'nvmf_subsystem_add_ns', params: { nqn: NQN, namespace: { nsid: 1, bdev_name: 'Malloc0' } } },
        { method: 'nvmf_subsystem_add_ns', params: { nqn: NQN, namespace: { nsid: 2, bdev_name: 'Malloc1' } } },
        { method: 'nvmf_subsystem_add_host', params: { nqn: NQN, host: HOSTNQN } },
      ],
    },
  ],
});

interface Bed {
  tb: Testbed;
  tgt: RpcServer;
  ini: RpcServer;
}

async function bed(): Promise<Bed> {
  const opts: RunOptions = { variant: 'unpatched', flavor: 'release', seed: 3, params: {}, load: loadVariant };
  const tb = await buildTestbed(opts, {
    mss: 1448, latencyUs: 20, jitterUs: 0, lossPpm: 0, tsoBytes: 65536,
    machines: [{ name: 'host', ip: NVME_HOST_IP }, { name: 'target', ip: NVME_TARGET_IP }],
  });
  const tgt = createRpcServer(tb.machine('target'));
  loadJsonConfig(tgt, TARGET);
  const ini = createRpcServer(tb.machine('host'));
  ini.call('framework_start_init');
  return { tb, tgt, ini };
}

interface NvmeBdev {
  name: string;
  product_name: string;
  block_size: number;
  num_blocks: number;
  driver_specific: { nvme: { trid: Record<string, string>; ctrlr_data: { cntlid: number; model_number: string; serial_number: string; subnqn: string }; ns_data: { id: number } }[] };
}

const ATTACH_PARAMS = { name: 'Nvme0', trtype: 'TCP', adrfam: 'IPv4', traddr: NVME_TARGET_IP, trsvcid: '4420', subnqn: NQN, hostnqn: HOSTNQN, hdgst: true, ddgst: true };

describe('bdev_nvme_attach_controller over the emulated wire', () => {
  it('attaches to a JSON-configured target: Nvme0n1/Nvme0n2 listed with their sizes, I/O lands in Malloc0', async () => {
    const { tb, tgt, ini } = await bed();
    const host = tb.machine('host');
    const target = tb.machine('target');
    const res = JSON.parse(ini.handle(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'bdev_nvme_attach_controller', params: ATTACH_PARAMS }))!);
    expect(res).toEqual({ jsonrpc: '2.0', id: 7, result: ['Nvme0n1'] });
    const listed = (): NvmeBdev[] => (ini.call('bdev_get_bdevs') as unknown as NvmeBdev[]).filter((b) => b.name.startsWith('Nvme0'));
    expect(listed()).toEqual([]); // nothing before the controller is up
    // The namespaces are known once the admin queue is up; the I/O qpair follows.
    tb.runUntil(() => listed().length === 2, tb.world.now + 5e6);
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(0, 0) === ATTACH.READY, tb.world.now + 5e6);
    const bdevs = listed();
    expect(bdevs.map((b) => [b.name, b.product_name, b.block_size, b.num_blocks])).toEqual([
      ['Nvme0n1', 'NVMe disk', 512, 8192],
      ['Nvme0n2', 'NVMe disk', 4096, 1024],
    ]);
    const nvme = bdevs[0]!.driver_specific.nvme[0]!;
    expect(nvme.trid).toEqual({ trtype: 'TCP', adrfam: 'IPv4', traddr: NVME_TARGET_IP, trsvcid: '4420', subnqn: NQN });
    expect(nvme.ctrlr_data).toMatchObject({ model_number: 'SPDK bdev Controller', serial_number: 'SPDK00000000000001', subnqn: NQN });
    expect(bdevs.map((b) => b.driver_specific.nvme[0]!.ns_data.id)).toEqual([1, 2]);
    expect(ini.call('bdev_get_bdevs', { name: 'Nvme0n2' })).toEqual([bdevs[1]]);

    // The target sees the host: one controller, its admin and I/O qpair, digests on.
    const qps = tgt.call('nvmf_subsystem_get_qpairs', { nqn: NQN }) as { cntlid: number; qid: number; state: string; peer_address: { traddr: string } }[];
    expect(qps.map((q) => [q.qid, q.state, q.peer_address.traddr])).toEqual([[0, 'enabled', NVME_HOST_IP], [1, 'enabled', NVME_HOST_IP]]);
    expect(nvme.ctrlr_data.cntlid).toBe(qps[0]!.cntlid);

    // I/O through Nvme0n1: 64 KiB written at LBA 64 is in Malloc0's bytes, and reads back.
    const p = { tb, host, id: 0 };
    const buf = host.call('malloc', 65536);
    const want = fill(host, buf, 65536, 11);
    expect(io(p, true, buf, 64, 128)).toBe(0);
    const disk = target.api.spdk_wasm_bdev_malloc_buf('Malloc0');
    expect(Buffer.compare(Buffer.from(target.mem.read(disk + 64 * 512, 65536)), Buffer.from(want))).toBe(0);
    host.mem.bytes().fill(0, buf, buf + 65536);
    expect(io(p, false, buf, 64, 128)).toBe(0);
    expect(Buffer.compare(Buffer.from(host.mem.read(buf, 65536)), Buffer.from(want))).toBe(0);
  });

  it('a host the subsystem does not allow: the controller fails and no bdev appears', async () => {
    const { tb, ini } = await bed();
    expect(ini.call('bdev_nvme_attach_controller', { ...ATTACH_PARAMS, hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:stranger' })).toEqual(['Nvme0n1']);
    const host = tb.machine('host');
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(0, 0) === ATTACH.FAILED, tb.world.now + 5e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(0, 0)).toBe(ATTACH.FAILED);
    expect((ini.call('bdev_get_bdevs') as { name: string }[]).map((b) => b.name)).toEqual([]);
  });

  it('bad parameters are JSON-RPC errors (-32602) naming the field; nothing is attached', async () => {
    const { ini } = await bed();
    const err = (params: Record<string, unknown>): { code: number; message: string } => {
      const r = JSON.parse(ini.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bdev_nvme_attach_controller', params }))!);
      expect(r.result).toBeUndefined();
      return r.error;
    };
    const without = (k: string): Record<string, unknown> => Object.fromEntries(Object.entries(ATTACH_PARAMS).filter(([key]) => key !== k));
    const cases: [Record<string, unknown>, RegExp][] = [
      [without('name'), /'name' is required/],
      [without('traddr'), /'traddr' is required/],
      [without('trtype'), /'trtype' is required/],
      [{ ...ATTACH_PARAMS, trsvcid: '70000' }, /'trsvcid' must be a port number/],
      [{ ...ATTACH_PARAMS, adrfam: 'IPv6' }, /'adrfam' must be one of/],
      [{ ...ATTACH_PARAMS, hdgst: 'yes' }, /'hdgst' must be a bool/],
      [{ ...ATTACH_PARAMS, hostnqn: 'host1' }, /'hostnqn'/],
      [{ ...ATTACH_PARAMS, reconnect_delay_sec: 4000 }, /'reconnect_delay_sec'/],
      [{ ...ATTACH_PARAMS, ctrlr_loss_timeout_sec: -2 }, /'ctrlr_loss_timeout_sec'/],
      [{ ...ATTACH_PARAMS, psk: 'NVMeTLSkey-1:01:...' }, /'psk' is not supported/],
      [{ ...ATTACH_PARAMS, bogus: 1 }, /'bogus' is unknown/],
    ];
    for (const [params, re] of cases) {
      const e = err(params);
      expect(e.code).toBe(-32602);
      expect(e.message).toMatch(re);
    }
    expect(ini.machine.api.spdk_wasm_nvme_ctrlr_field(0, 0)).toBeLessThan(0); // no controller
    ini.call('bdev_nvme_attach_controller', ATTACH_PARAMS);
    const dup = err(ATTACH_PARAMS);
    expect([dup.code, dup.message]).toEqual([-32602, expect.stringMatching(/'name' names a controller that already exists/)]);
  });
});
