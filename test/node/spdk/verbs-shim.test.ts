import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { Fabric } from '../../../host/net/fabric.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import { RdmaStack } from '../../../host/kernel/rdma/verbs.js';
import { World } from '../../../host/sim/world.js';
import { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';

/** One machine running the real C of wasm/port/verbs_shim.c against the emulated verbs. */
async function machine(flavor: 'release' | 'asan' = 'release') {
  const world = new World(1);
  const fabric = new Fabric(world);
  let rdma: RdmaStack | undefined;
  const m = await SpdkMachine.create({
    world,
    name: 'tgt',
    variant: await loadVariant('unpatched', flavor),
    kernel: (mem) => {
      const k = new Kernel(world, 'tgt', mem, fabric);
      k.addNetDev({ name: 'bond1', addr: '192.0.2.2' });
      rdma = new RdmaStack(k);
      rdma.addDevice('mlx5_bond_0', 'bond1');
      return k;
    },
  });
  return { m, u: m.api.spdk_wasm_ut_verbs_alloc(), rdma: rdma!, world };
}

const ALL = abi.IBV_ACCESS_LOCAL_WRITE | abi.IBV_ACCESS_REMOTE_WRITE | abi.IBV_ACCESS_REMOTE_READ;

describe('verbs shim: the C calls ibv_* and the host answers', () => {
  it.each(['release', 'asan'] as const)('device list, open, PD, MR, channel, CQ, SRQ and QP are made and torn down, leaving nothing (%s)', async (flavor) => {
    const { m, u, rdma } = await machine(flavor);
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 65536, ALL)).toBe(0);
    expect(rdma.resources()).toEqual({ contexts: 1, pds: 1, mrs: 1, cqs: 1, channels: 1, srqs: 1, qps: 1 });
    // The keys the C holds are the ones the host issued for that MR.
    const mrHandle = m.api.spdk_wasm_ut_verbs_get(u, 5);
    const lkey = m.api.spdk_wasm_ut_verbs_get(u, 1);
    const rkey = m.api.spdk_wasm_ut_verbs_get(u, 2);
    expect(lkey).not.toBe(rkey);
    expect(rdma.mr(mrHandle)).toMatchObject({ lkey, rkey, length: 65536, access: ALL });
    expect(m.api.spdk_wasm_ut_verbs_get(u, 3)).toBeGreaterThanOrEqual(0x100);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
    expect(rdma.resources()).toEqual({ contexts: 0, pds: 0, mrs: 0, cqs: 0, channels: 0, srqs: 0, qps: 0 });
  });

  it('an injected ibv_reg_mr failure reaches the C as NULL + errno; an MR past linear memory is EFAULT', async () => {
    const { m, u, rdma } = await machine();
    rdma.faults.inject('ibv_reg_mr', { errno: abi.ENOMEM });
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, ALL)).toBe(abi.ENOMEM);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
    expect(rdma.resources()).toMatchObject({ contexts: 0, pds: 0, mrs: 0 });
    rdma.faults.inject('ibv_create_cq', { errno: abi.EIO });
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, ALL)).toBe(abi.EIO);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
    // Remote write without local write: EINVAL from the host, as Linux verbs give.
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, abi.IBV_ACCESS_REMOTE_WRITE)).toBe(abi.EINVAL);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
    expect(rdma.resources()).toEqual({ contexts: 0, pds: 0, mrs: 0, cqs: 0, channels: 0, srqs: 0, qps: 0 });
  });

  it('async events reach the C with their QP; ifdown gives PORT_ERR then DEVICE_FATAL, and creation fails after it', async () => {
    const { m, u, rdma } = await machine();
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, ALL)).toBe(0);
    expect(m.api.spdk_wasm_ut_verbs_next_event(u)).toBe(-abi.EAGAIN);
    expect(m.api.spdk_wasm_ut_verbs_qp_error(u)).toBe(0);
    expect(m.api.spdk_wasm_ut_verbs_next_event(u)).toBe(abi.IBV_EVENT_QP_LAST_WQE_REACHED);
    expect(m.api.spdk_wasm_ut_verbs_event_is_our_qp(u)).toBe(1);
    // Not acked yet: the QP cannot be destroyed (rdma-core would wait for ever).
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(abi.EBUSY);
    m.api.spdk_wasm_ut_verbs_ack_event(u);
    rdma.ifdown('bond1');
    expect(m.api.spdk_wasm_ut_verbs_next_event(u)).toBe(abi.IBV_EVENT_PORT_ERR);
    m.api.spdk_wasm_ut_verbs_ack_event(u);
    expect(m.api.spdk_wasm_ut_verbs_next_event(u)).toBe(abi.IBV_EVENT_DEVICE_FATAL);
    m.api.spdk_wasm_ut_verbs_ack_event(u);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
    expect(rdma.resources()).toEqual({ contexts: 0, pds: 0, mrs: 0, cqs: 0, channels: 0, srqs: 0, qps: 0 });
    // No device listed while it is down; ifup brings it back for the next open.
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, ALL)).toBe(abi.ENODEV);
    rdma.ifup('bond1');
    expect(m.api.spdk_wasm_ut_verbs_setup(u, 4096, ALL)).toBe(0);
    expect(m.api.spdk_wasm_ut_verbs_teardown(u)).toBe(0);
  });
});
