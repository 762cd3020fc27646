/**
 * Seed 002 (spdk#3655, spdk#3662): the NVMe-oF RDMA target while its NIC goes down and up, on the
 * real C. Unpatched on the asan flavor each window ends in the AddressSanitizer report upstream's
 * core dumps point at; patched the same sequence completes and the teardown is whole. Also
 * 59e7d68afd (no listen on a dying device), ten ifdown/ifup cycles, and an MR registration
 * failure on ifup (clean on both trees). Spec: shared/spec/nvmf-tcp-rdma.md 5.4, 5.5, 8(b).
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { DEV, HostQpair, makeRdmaTarget, RDMA_ERR, TGT_IP, type RdmaTarget } from './rdma-target-harness.js';
import { connectSqe, connectData, rd16 } from '../../../host/fuzz/pdu.js';

/** ifdown, teardown, ifup with every poller creation failing at ibv_create_cq: the device comes
 *  back and listens, but no poll group has a poller for it. */
async function deviceBackWithoutPollers(t: RdmaTarget): Promise<void> {
  t.ifdownAndSettle();
  t.rt.faults.inject('ibv_create_cq', { errno: abi.ENOMEM, count: 2 });
  t.ifup();
  t.runUntil(() => t.listening(), 1_000_000, 'port back');
  t.runUntil(() => t.evidence().pollerCreateFailed >= 2, 1_000_000, 'both registrations failed');
}

describe('spdk#3655: a qpair that failed to join a poll group is destroyed with a NULL poller', () => {
  it('unpatched (asan): "No poller found for device." then a null-pointer-dereference in nvmf_rdma_qpair_process_pending', async () => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'asan', seed: 3 });
    await deviceBackWithoutPollers(t);
    expect(t.pollers()).toEqual([]);
    expect(t.devices()).toHaveLength(1);
    const h = new HostQpair(t, 0x100000);
    expect(() => h.connect(undefined, 500_000)).toThrow(/target crashed/);
    expect(t.crashed).toBe(true);
    const c = t.m.crash!;
    expect(c.kind).toBe('asan');
    expect(c.message).toMatch(/AddressSanitizer: null-pointer-dereference/);
    expect(c.cStack).toContain('nvmf_rdma_qpair_process_pending');
    // Reached from the close of the qpair (the drain may be inlined into it).
    expect(c.cStack.join(' ')).toMatch(/nvmf_rdma_(destroy_drained_qpair|close_qpair)/);
    expect(t.logs(/No poller found for device\./)).toHaveLength(1);
    expect(t.logs(/Unable to add the qpair to a poll group\./)).toHaveLength(1);
  });

  it('patched (asan): the same connect is rejected and its qpair freed; no report', async () => {
    const t = await makeRdmaTarget({ variant: 'patched', flavor: 'asan', seed: 3 });
    await deviceBackWithoutPollers(t);
    const h = new HostQpair(t, 0x100000);
    const e = h.connect(undefined, 500_000);
    expect(t.crashed).toBe(false);
    expect(e.type).toBe(abi.RDMA_CM_EVENT_REJECTED);
    expect(rd16(e.privateData, 2)).toBe(RDMA_ERR.NO_RESOURCES);
    const ev = t.evidence();
    expect(ev).toMatchObject({ noPollerFound: 1, addFailed: 1, qpairsCreated: 1, qpairsFreed: 1 });
    expect(t.qpairs()).toEqual([]);
  });
});

type WindowOp = 'ibv_create_cq' | 'ibv_create_srq' | 'ibv_reg_mr';

/** ifdown, teardown, ifup; the first poller creation fails at `op`, and inside that call the
 *  device dies again (IBV_EVENT_DEVICE_FATAL, CM DEVICE_REMOVAL) and the acceptor runs: the
 *  removal captures the half-made poller that the failure is about to free (spec 5.5). With
 *  ibv_reg_mr it is the registration of the poller's receive resources that fails (the map then
 *  has no translation for them: "No translation", spec 5.4). */
async function removalInsidePollerCreation(t: RdmaTarget, op: WindowOp = 'ibv_create_cq'): Promise<void> {
  t.ifdownAndSettle();
  t.rt.faults.inject(op, {
    errno: abi.EIO,
    // The new device's map registers every range there is first; those must succeed.
    skip: op === 'ibv_reg_mr' ? t.view.memory().registered : 0,
    before: () => {
      t.rt.deviceFatal(DEV);
      t.m.api.spdk_wasm_nvmf_rdma_accept_poll();
    },
  });
  t.ifup();
  t.runUntil(() => (t.rt.faults.fired.get(op) ?? 0) >= 1, 1_000_000, 'the re-entrant failure');
}

const WINDOW_OPS: WindowOp[] = ['ibv_create_cq', 'ibv_create_srq', 'ibv_reg_mr'];

describe('spdk#3662: the removal of a poller that a failed creation already freed', () => {
  it.each(WINDOW_OPS)('unpatched (asan), %s fails: heap-use-after-free in _nvmf_rdma_remove_poller_in_group', async (op) => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'asan', seed: 4 });
    await removalInsidePollerCreation(t, op);
    t.runFor(100_000);
    expect(t.crashed).toBe(true);
    const c = t.m.crash!;
    expect(c.kind).toBe('asan');
    expect(c.message).toMatch(/AddressSanitizer: heap-use-after-free/);
    expect(c.cStack[0]).toBe('_nvmf_rdma_remove_poller_in_group');
    expect(c.asanReport).toMatch(/freed by thread/);
  });

  it.each(WINDOW_OPS)('patched (asan), %s fails: only the callback runs, the device is torn down once, nothing leaks, and the next ifup recovers', async (op) => {
    const t = await makeRdmaTarget({ variant: 'patched', flavor: 'asan', seed: 4 });
    await removalInsidePollerCreation(t, op);
    t.runUntil(() => t.devices().length === 0, 1_000_000, 'teardown of the second incarnation');
    t.runFor(50_000);
    expect(t.crashed).toBe(false);
    let ev = t.evidence();
    expect(ev.removals).toBe(2);
    expect(ev.removalsDone).toBe(2);
    expect(ev.pollersFreed).toBe(ev.pollersCreated);
    expect(t.rt.resources()).toMatchObject({ pds: 0, mrs: 0, cqs: 0, srqs: 0, qps: 0 });
    expect(t.mapsAlive()).toBe(0);
    expect(t.ports()).toEqual([{ retry: 1, svc: 4420, device: 0 }]);
    // The NIC flaps once more and comes back for good.
    t.rt.ifdown('bond1');
    t.rt.ifup('bond1');
    t.runUntil(() => t.listening() && t.pollers().length === 2, 1_000_000, 'recovery');
    const h = new HostQpair(t, 0x100000);
    expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    ev = t.evidence();
    expect(ev.pollersCreated - ev.pollersFreed).toBe(2);
  });
});

describe('59e7d68afd: nvmf_rdma_listen refuses a device that is being destroyed', () => {
  it.each([
    ['unpatched', 0],
    ['patched', -abi.EINVAL],
  ] as const)('%s: listen while the device has need_destroy returns %d', async (variant, want) => {
    const t = await makeRdmaTarget({ variant, flavor: 'asan', seed: 5, listen: false });
    expect(t.m.api.spdk_wasm_nvmf_rdma_ut_listen_while_dying(TGT_IP, '4421')).toBe(want);
    expect(t.ports().filter((p) => p.retry === 0).length).toBe(want === 0 ? 1 : 0);
    expect(t.devices()[0]!.needDestroy).toBe(0); // the test entry put the marks back
    expect(t.crashed).toBe(false);
  });
});

/** One cycle: ifdown, teardown, down for downUs, ifup, port back; a host connects an admin queue
 *  and sends the Fabrics Connect. */
function cycle(t: RdmaTarget, n: number, downUs: number): { backAfterUs: number; cntlid: number } {
  t.ifdownAndSettle();
  expect(t.ports().every((p) => p.retry === 1)).toBe(true);
  t.runFor(downUs);
  t.ifup();
  const up = t.world.now;
  t.runUntil(() => t.listening() && t.pollers().length === 2, 1_000_000, `port back after ifup ${n}`);
  const backAfterUs = t.world.now - up;
  const h = new HostQpair(t, 0x100000 + (n % 4) * 0x80000);
  expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
  const cpl = h.exchange(new Uint8Array([...connectSqe(1), ...connectData()]));
  expect(cpl.sc).toBe(0);
  return { backAfterUs, cntlid: cpl.cdw0 & 0xffff };
}

describe('ten ifdown/ifup cycles with a connected host (spec 8(b) 1, 5, 7)', () => {
  it.each(['patched', 'unpatched'] as const)('%s (asan): every cycle tears down and recovers; pollers freed once, no PD or MR leaks', async (variant) => {
    const t = await makeRdmaTarget({ variant, flavor: 'asan', seed: 10 });
    const first = new HostQpair(t, 0x300000);
    expect(first.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    for (let n = 0; n < 10; n++) {
      const r = cycle(t, n, 1_000_000);
      expect(r.backAfterUs).toBeLessThanOrEqual(30_000); // within a few 10 ms accept polls
      expect(t.crashed).toBe(false);
    }
    const ev = t.evidence();
    expect(ev.removals).toBe(10);
    expect(ev.removalsDone).toBe(10);
    expect(ev.portsRemoved).toBe(10);
    expect(ev.portsBack).toBe(10);
    expect(ev.pollersCreated - ev.pollersFreed).toBe(2);
    expect(ev.devicesCreated - ev.devicesDestroyed).toBe(1);
    expect(t.devices()).toHaveLength(1);
    expect(t.mapsAlive()).toBe(1);
    // The host's view: one PD of the live device; its MRs are the live map's (one per
    // registered range), nothing of the ten dead incarnations.
    const res = t.rt.resources();
    expect(res.pds).toBe(1);
    expect(res.mrs).toBe(t.view.memory().registered);
    expect(t.rt.counters.pdsAllocated - t.rt.counters.pdsFreed).toBe(1);
    expect(t.logs(/Port 192\.0\.2\.2:4420 come back/)).toHaveLength(10);
    expect(t.logs(/Port 192\.0\.2\.2:4420 on device mlx5_bond_0 is being removed\./)).toHaveLength(10);
  }, 300_000);
});

describe('MR registration failure on ifup (spec 5.4, 8(b) 6): a clean failure on both trees', () => {
  it.each(['unpatched', 'patched'] as const)('%s (asan): the memory map fails, no device or poller is published, the port waits in retry_ports; a later rescan recovers', async (variant) => {
    const t = await makeRdmaTarget({ variant, flavor: 'asan', seed: 6 });
    t.ifdownAndSettle();
    t.rt.faults.inject('ibv_reg_mr', { errno: abi.ENOMEM, count: Infinity });
    t.ifup();
    t.runFor(100_000);
    expect(t.crashed).toBe(false);
    const ev = t.evidence();
    expect(ev.createDeviceFailed).toBeGreaterThanOrEqual(5); // one per accept poll, every 10 ms
    expect(t.logs(/Unable to allocate memory map for listen address/).length).toBe(ev.createDeviceFailed);
    expect(t.devices()).toEqual([]);
    expect(t.pollers()).toEqual([]);
    expect(t.ports()).toEqual([{ retry: 1, svc: 4420, device: 0 }]);
    expect(t.rt.resources()).toMatchObject({ pds: 0, mrs: 0 });
    t.rt.faults.clear('ibv_reg_mr');
    t.runUntil(() => t.listening() && t.pollers().length === 2, 100_000, 'recovery');
    const h = new HostQpair(t, 0x100000);
    expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
  });

  it.each(['unpatched', 'patched'] as const)('%s (asan): a partial failure (the map misses the pollers\' new memory: "No translation") fails poller creation cleanly', async (variant) => {
    const t = await makeRdmaTarget({ variant, flavor: 'asan', seed: 7 });
    t.ifdownAndSettle();
    // The new map registers every range there is now; the next registration (the first
    // poller's receive resources) fails and the map is left without a translation for it.
    t.rt.faults.inject('ibv_reg_mr', { errno: abi.ENOMEM, skip: t.view.memory().registered, count: 1 });
    t.ifup();
    t.runUntil(() => t.evidence().pollerCreateFailed >= 1, 1_000_000, 'poller creation failure');
    t.runFor(50_000);
    expect(t.crashed).toBe(false);
    expect(t.logs(/No MR covers/).length).toBeGreaterThan(0);
    const ev = t.evidence();
    expect(ev.pollersCreated - ev.pollersFreed).toBe(t.pollers().length);
    expect(t.pollers()).toHaveLength(1);
  });
});
