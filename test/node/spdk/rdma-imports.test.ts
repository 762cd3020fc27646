import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { GuestView } from '../../../host/spdk/guest-memory.js';
import { createRdmaImports, MAX_CHAIN } from '../../../host/spdk/rdma-imports.js';
import { fill, pattern, runUntil } from '../kernel/net-harness.js';
import { connectRc, makeRdmaNet } from '../kernel/rdma-harness.js';

/** Writes one struct ibv_sge at p. */
function sge(mem: GuestView, p: number, addr: number, length: number, lkey: number): void {
  mem.setU32(p + abi.OFFSETOF_ibv_sge_addr, addr);
  mem.setU32(p + abi.OFFSETOF_ibv_sge_addr + 4, 0);
  mem.setU32(p + abi.OFFSETOF_ibv_sge_length, length);
  mem.setU32(p + abi.OFFSETOF_ibv_sge_lkey, lkey);
}

function sendWr(mem: GuestView, p: number, o: { wrId: number; next: number; sg: number; nsge: number; opcode: number; flags: number; raddr?: number; rkey?: number }): void {
  mem.write(p, new Uint8Array(abi.SIZEOF_ibv_send_wr));
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_wr_id, o.wrId);
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_wr_id + 4, 1); // high half: wr_id is 64 bits
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_next, o.next);
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_sg_list, o.sg);
  mem.setI32(p + abi.OFFSETOF_ibv_send_wr_num_sge, o.nsge);
  mem.setI32(p + abi.OFFSETOF_ibv_send_wr_opcode, o.opcode);
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_send_flags, o.flags);
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_wr_rdma_remote_addr, o.raddr ?? 0);
  mem.setU32(p + abi.OFFSETOF_ibv_send_wr_wr_rdma_rkey, o.rkey ?? 0);
}

describe('rdma imports: the seam decodes what the C passes', () => {
  it('an ibv_send_wr chain (WRITE then signaled SEND) moves bytes; ibv_poll_cq writes struct ibv_wc', () => {
    const net = makeRdmaNet(41);
    const p = connectRc(net);
    const mem = new GuestView(() => net.memIni.u8.buffer as ArrayBuffer);
    const imp = createRdmaImports(() => net.ri, mem);
    fill(net.memIni, 0x4000, pattern(512, 2));
    net.rt.postRecv(p.tgt.qp.handle, [{ wrId: 1, sgList: [{ addr: 0x9000, length: 64, lkey: p.tgt.lkey }] }]);
    sge(mem, 0x100, 0x4000, 512, p.ini.lkey);
    sge(mem, 0x110, 0x4000, 16, p.ini.lkey);
    sendWr(mem, 0x200, { wrId: 7, next: 0x300, sg: 0x100, nsge: 1, opcode: abi.IBV_WR_RDMA_WRITE, flags: 0, raddr: 0x8000, rkey: p.tgt.rkey });
    sendWr(mem, 0x300, { wrId: 8, next: 0, sg: 0x110, nsge: 1, opcode: abi.IBV_WR_SEND, flags: abi.IBV_SEND_SIGNALED });
    expect(imp['host_ibv_post_send']!(p.ini.qp.handle, 0x200, 0x400)).toBe(0);
    let n = 0;
    runUntil(net, () => (n = imp['host_ibv_poll_cq']!(p.ini.cq, 4, 0x1000) as number) > 0);
    expect(n).toBe(1);
    expect(mem.u32(0x1000 + abi.OFFSETOF_ibv_wc_wr_id)).toBe(8);
    expect(mem.u32(0x1000 + abi.OFFSETOF_ibv_wc_wr_id + 4)).toBe(1);
    expect(mem.u32(0x1000 + abi.OFFSETOF_ibv_wc_status)).toBe(abi.IBV_WC_SUCCESS);
    expect(mem.u32(0x1000 + abi.OFFSETOF_ibv_wc_opcode)).toBe(abi.IBV_WC_SEND);
    expect(mem.u32(0x1000 + abi.OFFSETOF_ibv_wc_qp_num)).toBe(p.ini.qp.qpNum);
    expect([...net.memTgt.u8.subarray(0x8000, 0x8200)]).toEqual([...pattern(512, 2)]);
  });

  it('bad input: a looping chain or negative num_sge is EINVAL with nothing posted; a machine without RDMA answers ENODEV', () => {
    const net = makeRdmaNet(42);
    const p = connectRc(net);
    const mem = new GuestView(() => net.memIni.u8.buffer as ArrayBuffer);
    const imp = createRdmaImports(() => net.ri, mem);
    sge(mem, 0x100, 0, 8, p.ini.lkey);
    sendWr(mem, 0x200, { wrId: 1, next: 0x200, sg: 0x100, nsge: 1, opcode: abi.IBV_WR_SEND, flags: 0 });
    expect(imp['host_ibv_post_send']!(p.ini.qp.handle, 0x200, 0)).toBe(-abi.EINVAL);
    sendWr(mem, 0x200, { wrId: 1, next: 0, sg: 0x100, nsge: -1, opcode: abi.IBV_WR_SEND, flags: 0 });
    expect(imp['host_ibv_post_send']!(p.ini.qp.handle, 0x200, 0)).toBe(-abi.EINVAL);
    expect(p.ini.qp.outstanding).toBe(0);
    expect(MAX_CHAIN).toBeGreaterThan(1000);
    // ibv_reg_mr past the end of linear memory: EFAULT, as Linux gives.
    expect(imp['host_ibv_reg_mr']!(p.ini.pd, net.memIni.u8.length - 16, 4096, abi.IBV_ACCESS_LOCAL_WRITE, 0x500)).toBe(-abi.EFAULT);
    const none = createRdmaImports(() => undefined, mem);
    expect(none['host_ibv_open_device']!(0)).toBe(-abi.ENODEV);
    expect(Object.keys(none)).toContain('host_rdma_get_cm_event');
  });

  it('rdma_get_cm_event hands the event, its ids and private data to the C', () => {
    const net = makeRdmaNet(43);
    const mem = new GuestView(() => net.memTgt.u8.buffer as ArrayBuffer);
    const imp = createRdmaImports(() => net.rt, mem);
    const ch = imp['host_rdma_create_event_channel']!(0x10) as number;
    expect(ch).toBeGreaterThan(0);
    expect(mem.i32(0x10)).toBeGreaterThanOrEqual(3);
    expect(imp['host_rdma_get_cm_event']!(ch, 0x100, 0x200)).toBe(-abi.EAGAIN);
    // Listen through the seam with a struct sockaddr_in, then connect from the initiator.
    const id = imp['host_rdma_create_id']!(ch) as number;
    const sa = new Uint8Array(abi.SIZEOF_sockaddr_in);
    const dv = new DataView(sa.buffer);
    dv.setUint16(abi.OFFSETOF_sockaddr_in_sin_family, abi.AF_INET, true);
    dv.setUint16(abi.OFFSETOF_sockaddr_in_sin_port, 4420, false);
    sa.set([192, 0, 2, 2], abi.OFFSETOF_sockaddr_in_sin_addr);
    mem.write(0x40, sa);
    expect(imp['host_rdma_bind_addr']!(id, 0x40, abi.SIZEOF_sockaddr_in)).toBe(0);
    expect(imp['host_rdma_listen']!(id, 8)).toBe(0);
    const ich = net.ri.cm.createEventChannel().handle;
    const iid = net.ri.cm.createId(ich);
    net.ri.cm.resolveAddr(iid, '192.0.2.2', 4420);
    runUntil(net, () => typeof net.ri.cm.getEvent(ich) !== 'number');
    net.ri.cm.resolveRoute(iid);
    runUntil(net, () => typeof net.ri.cm.getEvent(ich) !== 'number');
    const ctx = net.ri.cm.id(iid)!.verbs;
    const pd = net.ri.allocPd(ctx);
    const cq = net.ri.createCq(ctx, 8);
    net.ri.cm.createQp(iid, pd, { sendCq: cq, recvCq: cq, caps: { maxSendWr: 2, maxRecvWr: 2, maxSendSge: 1, maxRecvSge: 1 } });
    net.ri.cm.connect(iid, new Uint8Array([5, 6, 7, 8]));
    runUntil(net, () => imp['host_rdma_get_cm_event']!(ch, 0x100, 0x200) === 0);
    const [evh, type, child, listen, status, len] = [0, 1, 2, 3, 4, 5].map((i) => mem.i32(0x100 + 4 * i));
    expect([type, listen, status, len]).toEqual([abi.RDMA_CM_EVENT_CONNECT_REQUEST, id, 0, 4]);
    expect([...mem.read(0x200, 4)]).toEqual([5, 6, 7, 8]);
    expect(imp['host_rdma_destroy_id']!(child!)).toBe(-abi.EBUSY);
    expect(imp['host_rdma_ack_cm_event']!(evh!)).toBe(0);
    expect(imp['host_rdma_id_info']!(child!, 0x300, 0x310, 0x320)).toBe(0);
    expect(mem.u32(0x300)).toBe(net.rt.cm.devices()[0]);
    expect(imp['host_rdma_destroy_id']!(child!)).toBe(0);
  });
});
