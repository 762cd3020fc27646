/**
 * The NVMe-oF RDMA target on the real C with a scripted host over the emulated verbs: connect,
 * Fabrics Connect, Identify (RDMA WRITE to the host), an I/O queue with WRITE (RDMA READ from the
 * host) and READ back; device removal and its teardown order; bad private data and bad capsules
 * (a reject or an error completion, never a crash: the asan flavor reports nothing);
 * determinism. The seed-002 bugs are in rdma-target-bugs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { HostQpair, keyedSgl, makeRdmaTarget, RDMA_ERR, requestPrivateData, type RdmaTarget } from './rdma-target-harness.js';
import { connectData, connectSqe, identify, OPC, propertySet, rd16, readSqe, SC, sqe, writeSqe } from '../../../host/fuzz/pdu.js';

/** Replaces the SQE's SGL (bytes 24..39). */
function withSgl(s: Uint8Array, sgl: Uint8Array): Uint8Array {
  const out = s.slice();
  out.set(sgl, 24);
  return out;
}

function adminConnect(h: HostQpair): number {
  const cpl = h.exchange(new Uint8Array([...connectSqe(1), ...connectData()]));
  expect(cpl.sc).toBe(0);
  return cpl.cdw0 & 0xffff;
}

describe('NVMe-oF RDMA target: a host connects and does I/O', () => {
  it.each(['release', 'asan'] as const)('admin Connect in the capsule, Identify by RDMA WRITE, WRITE by RDMA READ and READ back (%s)', async (flavor) => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor, seed: 1 });
    const admin = new HostQpair(t, 0x100000);
    expect(admin.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    // The accept's private data: recfmt 0 and the controller's receive queue size.
    const acc = admin.events.find((e) => e.type === abi.RDMA_CM_EVENT_ESTABLISHED)!;
    expect(acc).toBeDefined();
    const cntlid = adminConnect(admin);
    expect(admin.exchange(propertySet(2, 0x14, 1)).sc).toBe(0);
    const idBuf = admin.dataBase;
    const id = admin.exchange(withSgl(identify(3, 1), keyedSgl(idBuf, 4096, admin.rkey)));
    expect(id.sc).toBe(0);
    const subnqn = new TextDecoder().decode(t.memIni.u8.subarray(idBuf + 768, idBuf + 768 + 26));
    expect(subnqn).toBe('nqn.2016-06.io.spdk:cnode1');

    const io = new HostQpair(t, 0x200000);
    expect(io.connect(requestPrivateData({ qid: 1 })).type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    const c = io.exchange(new Uint8Array([...connectSqe(1, { qid: 1 }), ...connectData({ cntlid })]));
    expect(c.sc).toBe(0);
    const data = io.dataBase;
    for (let i = 0; i < 8192; i++) t.memIni.u8[data + i] = (i * 13 + 5) & 0xff;
    expect(io.exchange(withSgl(writeSqe(2, 8, 16), keyedSgl(data, 8192, io.rkey))).sc).toBe(0);
    t.memIni.u8.fill(0, data + 0x10000, data + 0x10000 + 8192);
    expect(io.exchange(withSgl(readSqe(3, 8, 16), keyedSgl(data + 0x10000, 8192, io.rkey))).sc).toBe(0);
    expect([...t.memIni.u8.subarray(data + 0x10000, data + 0x10000 + 8192)]).toEqual([...t.memIni.u8.subarray(data, data + 8192)]);
    expect(t.crashed).toBe(false);
    expect(t.qpairs().map((q) => q.qid).sort()).toEqual([0, 1]);
  });
});

describe('device removal: the teardown order of spec 5.4 (8(b) 1)', () => {
  it('ifdown with a connected qpair: qpair, then each poller (destroy_cb), then the device with its map and PD; the port waits in retry_ports', async () => {
    const t = await makeRdmaTarget({ variant: 'patched', flavor: 'asan', seed: 2 });
    const h = new HostQpair(t, 0x100000);
    expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    adminConnect(h);
    const order: string[] = [];
    t.m.onTrace = (ev) => {
      if (/^(nvmf_rdma_qpair_destroy|nvmf_rdma_poller_destroy|destroy_ib_device|nvmf_rdma_handle_device_removal)$/.test(ev)) order.push(ev);
    };
    const pdsBefore = t.rt.counters.pdsFreed;
    t.ifdownAndSettle();
    t.m.onTrace = undefined;
    expect(order[0]).toBe('nvmf_rdma_handle_device_removal');
    expect(order.indexOf('nvmf_rdma_qpair_destroy')).toBeLessThan(order.lastIndexOf('nvmf_rdma_poller_destroy'));
    expect(order.filter((e) => e === 'nvmf_rdma_poller_destroy')).toHaveLength(2);
    expect(order[order.length - 1]).toBe('destroy_ib_device');
    const ev = t.evidence();
    expect(ev).toMatchObject({ removals: 1, removalsDone: 1, pollersFreed: 2, devicesDestroyed: 1, qpairsFreed: 1, portsRemoved: 1 });
    expect(t.pollers()).toEqual([]);
    expect(t.qpairs()).toEqual([]);
    expect(t.ports()).toEqual([{ retry: 1, svc: 4420, device: 0 }]);
    expect(t.rt.counters.pdsFreed - pdsBefore).toBe(1);
    expect(t.rt.resources()).toMatchObject({ pds: 0, mrs: 0, cqs: 0, srqs: 0, qps: 0 });
    expect(t.mapsAlive()).toBe(0);
    expect(t.logs(/Port 192\.0\.2\.2:4420 on device mlx5_bond_0 is being removed\./)).toHaveLength(1);
    expect(t.rt.cm.wouldBlock).toBe(0);
    // While the device is gone the rescan finds nothing and the listen fails; no crash.
    t.runFor(200_000);
    expect(t.evidence().rescans).toBeGreaterThan(10);
    expect(t.listening()).toBe(false);
    t.ifup();
    t.runUntil(() => t.listening(), 100_000, 'port back');
    expect(t.logs(/Port 192\.0\.2\.2:4420 come back/)).toHaveLength(1);
  });

  it('a port down without device removal (PORT_ERR only) changes nothing', async () => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'release', seed: 2, removedWithNetdev: false });
    t.ifdown();
    t.runFor(100_000);
    expect(t.evidence().removals).toBe(0);
    expect(t.devices()[0]!.needDestroy).toBe(0);
    expect(t.listening()).toBe(true);
    expect(t.logs(/Async event 10 on device mlx5_bond_0/)).toHaveLength(1);
  });
});

describe('bad input: malformed RDMA-CM private data is rejected with the transport error', () => {
  it.each([
    ['8 bytes of private data', requestPrivateData({ len: 8 }), RDMA_ERR.PRIVATE_DATA_LENGTH],
    ['no private data', new Uint8Array(0), RDMA_ERR.PRIVATE_DATA_LENGTH],
    ['recfmt 1', requestPrivateData({ recfmt: 1 }), RDMA_ERR.RECFMT],
    ['hrqsize 0', requestPrivateData({ hrqsize: 0 }), RDMA_ERR.HRQSIZE],
  ])('%s: REJECTED with the transport error in its private data, nothing kept (asan)', async (_what, pd, sts) => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'asan', seed: 8 });
    const h = new HostQpair(t, 0x100000);
    const e = h.connect(pd);
    expect(e.type).toBe(abi.RDMA_CM_EVENT_REJECTED);
    expect(rd16(e.privateData, 0)).toBe(0);
    expect(rd16(e.privateData, 2)).toBe(sts);
    expect(t.evidence()).toMatchObject({ connectsRejected: 1, qpairsCreated: 0 });
    expect(t.qpairs()).toEqual([]);
    expect(t.rt.cm.wouldBlock).toBe(0);
    // The listener still takes a good connect.
    expect(new HostQpair(t, 0x200000).connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    expect(t.crashed).toBe(false);
    expect(t.m.crash).toBeUndefined();
  });
});

describe('bad input: malformed capsules and SGLs get an error completion (asan reports nothing)', () => {
  const cases: [string, (h: HostQpair) => Uint8Array, number][] = [
    ['a 10-byte capsule', () => new Uint8Array(10).fill(0xee), SC.INVALID_FIELD],
    ['a vendor-specific SGL type', () => withSgl(connectSqe(1), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0xf0])), 0x11],
    ['in-capsule data past the capsule', () => withSgl(connectSqe(1), new Uint8Array([0, 0x10, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0x01])), 0x16],
    ['an SGL naming more in-capsule data than arrived', () => connectSqe(1), 0x0f],
    ['a keyed SGL over max_io_size', (h) => withSgl(sqe(OPC.WRITE, 9, { nsid: 1, cdw12: 0 }), keyedSgl(h.dataBase, 0x800000 - 1, h.rkey)), 0x0f],
  ];
  it.each(cases)('%s', async (_what, build, sc) => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'asan', seed: 9 });
    const h = new HostQpair(t, 0x100000);
    expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    const cpl = h.exchange(build(h));
    expect(cpl.sc).toBe(sc);
    expect(t.evidence().capsulesRejected).toBe(1);
    // The qpair still works: a good Connect succeeds.
    expect(h.exchange(new Uint8Array([...connectSqe(2), ...connectData()])).sc).toBe(0);
    expect(t.crashed).toBe(false);
    expect(t.m.crash).toBeUndefined();
  });

  it('a keyed SGL with a bad rkey: the RDMA READ fails, the qpair is torn down, the target goes on', async () => {
    const t = await makeRdmaTarget({ variant: 'unpatched', flavor: 'asan', seed: 9 });
    const h = new HostQpair(t, 0x100000);
    expect(h.connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    const cntlid = adminConnect(h);
    expect(cntlid).toBeGreaterThan(0);
    h.send(withSgl(connectSqe(5), keyedSgl(h.dataBase, 1024, h.rkey ^ 0x5a5a)));
    t.runUntil(() => t.qpairs().length === 0, 2_000_000, 'qpair torn down');
    expect(t.evidence().wcErrors).toBeGreaterThan(0);
    expect(t.crashed).toBe(false);
    expect(new HostQpair(t, 0x200000).connect().type).toBe(abi.RDMA_CM_EVENT_ESTABLISHED);
    expect(t.m.crash).toBeUndefined();
  });
});

describe('determinism', () => {
  async function run(seed: number): Promise<[string, string]> {
    const t: RdmaTarget = await makeRdmaTarget({ variant: 'patched', flavor: 'release', seed });
    const h = new HostQpair(t, 0x100000);
    h.connect();
    adminConnect(h);
    for (let i = 0; i < 3; i++) {
      t.ifdownAndSettle();
      t.runFor(300_000);
      t.ifup();
      t.runUntil(() => t.listening() && t.pollers().length === 2, 1_000_000);
      new HostQpair(t, 0x200000 + i * 0x40000).connect();
    }
    return [t.world.trace.digest(), JSON.stringify(t.evidence())];
  }

  it('the same seed gives the same trace hash and evidence', async () => {
    const a = await run(21);
    const b = await run(21);
    expect(a).toEqual(b);
  });
});
