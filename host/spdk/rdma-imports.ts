/**
 * The verbs and RDMA-CM half of the seam: imports host_ibv_* and host_rdma_* that the C's
 * libc-shaped wrappers (the model's libibverbs/librdmacm) call with handles and pointers. Decodes
 * work-request lists, SGEs and connection parameters at the offsets abi.def gives, calls the
 * machine's RdmaStack and writes completions, events and keys back. A machine without RDMA
 * answers -ENODEV. Work-request lists longer than MAX_CHAIN are refused (a loop in `next`).
 */
import * as abi from '../gen/abi.js';
import type { RdmaStack } from '../kernel/rdma/verbs.js';
import type { RecvWr, SendWr, Sge } from '../kernel/rdma/verbs-objects.js';
import type { GuestView } from './guest-memory.js';
import { decodeSockaddr, encodeSockaddr } from './sockaddr.js';

export const MAX_CHAIN = 4096;

function u64(mem: GuestView, p: number): number {
  return mem.u32(p) + mem.u32(p + 4) * 2 ** 32;
}

function setU64(mem: GuestView, p: number, v: number): void {
  mem.setU32(p, v % 2 ** 32);
  mem.setU32(p + 4, Math.floor(v / 2 ** 32));
}

function decodeSges(mem: GuestView, list: number, n: number): Sge[] {
  const out: Sge[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = list + i * abi.SIZEOF_ibv_sge;
    out[i] = { addr: u64(mem, p + abi.OFFSETOF_ibv_sge_addr), length: mem.u32(p + abi.OFFSETOF_ibv_sge_length), lkey: mem.u32(p + abi.OFFSETOF_ibv_sge_lkey) };
  }
  return out;
}

/** The ibv_send_wr chain at `wr`, or -EINVAL for a negative SGE count or a looping chain. */
export function decodeSendWrs(mem: GuestView, wr: number): SendWr[] | number {
  const out: SendWr[] = [];
  for (let p = wr; p !== 0; p = mem.u32(p + abi.OFFSETOF_ibv_send_wr_next)) {
    const n = mem.i32(p + abi.OFFSETOF_ibv_send_wr_num_sge);
    if (n < 0 || out.length >= MAX_CHAIN) return -abi.EINVAL;
    out.push({
      wrId: u64(mem, p + abi.OFFSETOF_ibv_send_wr_wr_id),
      opcode: mem.i32(p + abi.OFFSETOF_ibv_send_wr_opcode),
      sendFlags: mem.u32(p + abi.OFFSETOF_ibv_send_wr_send_flags),
      sgList: decodeSges(mem, mem.u32(p + abi.OFFSETOF_ibv_send_wr_sg_list), n),
      remoteAddr: u64(mem, p + abi.OFFSETOF_ibv_send_wr_wr_rdma_remote_addr),
      rkey: mem.u32(p + abi.OFFSETOF_ibv_send_wr_wr_rdma_rkey),
    });
  }
  return out;
}

export function decodeRecvWrs(mem: GuestView, wr: number): RecvWr[] | number {
  const out: RecvWr[] = [];
  for (let p = wr; p !== 0; p = mem.u32(p + abi.OFFSETOF_ibv_recv_wr_next)) {
    const n = mem.i32(p + abi.OFFSETOF_ibv_recv_wr_num_sge);
    if (n < 0 || out.length >= MAX_CHAIN) return -abi.EINVAL;
    out.push({ wrId: u64(mem, p + abi.OFFSETOF_ibv_recv_wr_wr_id), sgList: decodeSges(mem, mem.u32(p + abi.OFFSETOF_ibv_recv_wr_sg_list), n) });
  }
  return out;
}

function decodeCaps(mem: GuestView, cap: number) {
  return {
    maxSendWr: mem.u32(cap + abi.OFFSETOF_ibv_qp_cap_max_send_wr),
    maxRecvWr: mem.u32(cap + abi.OFFSETOF_ibv_qp_cap_max_recv_wr),
    maxSendSge: mem.u32(cap + abi.OFFSETOF_ibv_qp_cap_max_send_sge),
    maxRecvSge: mem.u32(cap + abi.OFFSETOF_ibv_qp_cap_max_recv_sge),
  };
}

/** Private data and retry counts of a struct rdma_conn_param (NULL: none). */
function decodeConnParam(mem: GuestView, p: number): { data: Uint8Array; retry: number; rnr: number } {
  if (p === 0) return { data: new Uint8Array(0), retry: 7, rnr: 7 };
  const dv = mem.view();
  const ptr = mem.u32(p + abi.OFFSETOF_rdma_conn_param_private_data);
  const len = dv.getUint8(p + abi.OFFSETOF_rdma_conn_param_private_data_len);
  return {
    data: ptr === 0 ? new Uint8Array(0) : mem.read(ptr, len),
    retry: Math.min(7, dv.getUint8(p + abi.OFFSETOF_rdma_conn_param_retry_count)),
    rnr: Math.min(7, dv.getUint8(p + abi.OFFSETOF_rdma_conn_param_rnr_retry_count)),
  };
}

type Imports = Record<string, (...args: number[]) => number | void>;

/** The imports over one stack. Nothing here touches `rdma` before a call, so the names can be
 *  listed without one. */
function table(rdma: RdmaStack, mem: GuestView): Imports {
  const posted = (r: { rc: number; bad: number }, badPtr: number): number => {
    if (r.rc < 0 && badPtr !== 0) mem.setI32(badPtr, r.bad);
    return r.rc;
  };
  return {
    host_ibv_device_name: (index, namePtr) => {
      const d = rdma.deviceList()[index];
      if (d === undefined) return -abi.ENOENT;
      const buf = new Uint8Array(64);
      buf.set(new TextEncoder().encode(d.name.slice(0, 63)));
      mem.write(namePtr, buf);
      return 0;
    },
    host_ibv_open_device: (name) => rdma.openDevice(mem.cstring(name, 64)),
    host_ibv_close_device: (ctx) => rdma.closeDevice(ctx),
    host_ibv_async_fd: (ctx) => rdma.asyncFd(ctx),
    host_ibv_query_device: (ctx, limPtr) => {
      const a = rdma.queryDevice(ctx);
      if (typeof a === 'number') return a;
      [a.maxQp, a.maxQpWr, a.maxSge, a.maxCqe, a.maxMr, a.maxSrq, a.maxSrqWr].forEach((x, i) => mem.setI32(limPtr + 4 * i, x));
      return 0;
    },
    host_ibv_get_async_event: (ctx, typePtr, elementPtr) => {
      const ev = rdma.getAsyncEvent(ctx);
      if (typeof ev === 'number') return ev;
      mem.setU32(typePtr, ev.type);
      mem.setU32(elementPtr, ev.element);
      return 0;
    },
    host_ibv_ack_async_event: (ctx, element) => rdma.ackAsyncEvent(ctx, element),
    host_ibv_alloc_pd: (ctx) => rdma.allocPd(ctx),
    host_ibv_dealloc_pd: (pd) => rdma.deallocPd(pd),
    host_ibv_reg_mr: (pd, addr, len, access, keysPtr) => {
      const mr = rdma.regMr(pd, addr >>> 0, len, access);
      if (typeof mr === 'number') return mr;
      mem.setU32(keysPtr, mr.lkey);
      mem.setU32(keysPtr + 4, mr.rkey);
      return mr.handle;
    },
    host_ibv_dereg_mr: (mr) => rdma.deregMr(mr),
    host_ibv_create_comp_channel: (ctx, fdPtr) => {
      const h = rdma.createCompChannel(ctx);
      if (h > 0) mem.setI32(fdPtr, rdma.channelFd(h));
      return h;
    },
    host_ibv_destroy_comp_channel: (ch) => rdma.destroyCompChannel(ch),
    host_ibv_create_cq: (ctx, cqe, ch) => rdma.createCq(ctx, cqe, ch),
    host_ibv_destroy_cq: (cq) => rdma.destroyCq(cq),
    host_ibv_poll_cq: (cq, max, wcPtr) => {
      const r = rdma.pollCq(cq, max);
      if (typeof r === 'number') return r;
      r.forEach((wc, i) => {
        const p = wcPtr + i * abi.SIZEOF_ibv_wc;
        mem.write(p, new Uint8Array(abi.SIZEOF_ibv_wc));
        setU64(mem, p + abi.OFFSETOF_ibv_wc_wr_id, wc.wrId);
        mem.setU32(p + abi.OFFSETOF_ibv_wc_status, wc.status);
        mem.setU32(p + abi.OFFSETOF_ibv_wc_opcode, wc.opcode);
        mem.setU32(p + abi.OFFSETOF_ibv_wc_byte_len, wc.byteLen);
        mem.setU32(p + abi.OFFSETOF_ibv_wc_qp_num, wc.qpNum);
      });
      return r.length;
    },
    host_ibv_req_notify_cq: (cq) => rdma.reqNotifyCq(cq),
    host_ibv_create_srq: (pd, maxWr, maxSge) => rdma.createSrq(pd, maxWr, maxSge),
    host_ibv_destroy_srq: (srq) => rdma.destroySrq(srq),
    host_ibv_post_srq_recv: (srq, wr, badPtr) => {
      const wrs = decodeRecvWrs(mem, wr);
      return typeof wrs === 'number' ? wrs : posted(rdma.postSrqRecv(srq, wrs), badPtr);
    },
    host_ibv_create_qp: (pd, sendCq, recvCq, srq, capPtr, sqSigAll, qpNumPtr) => {
      const qp = rdma.createQp(pd, { sendCq, recvCq, srq, caps: decodeCaps(mem, capPtr), sqSigAll: sqSigAll !== 0 });
      if (typeof qp === 'number') return qp;
      mem.setU32(qpNumPtr, qp.qpNum);
      return qp.handle;
    },
    host_ibv_destroy_qp: (qp) => rdma.destroyQp(qp),
    host_ibv_modify_qp_err: (qp) => rdma.modifyQpToError(qp),
    host_ibv_qp_state: (qp) => rdma.qp(qp)?.state ?? -abi.EBADF,
    host_ibv_post_send: (qp, wr, badPtr) => {
      const wrs = decodeSendWrs(mem, wr);
      return typeof wrs === 'number' ? wrs : posted(rdma.postSend(qp, wrs), badPtr);
    },
    host_ibv_post_recv: (qp, wr, badPtr) => {
      const wrs = decodeRecvWrs(mem, wr);
      return typeof wrs === 'number' ? wrs : posted(rdma.postRecv(qp, wrs), badPtr);
    },

    host_rdma_device_context: (index) => rdma.cm.devices()[index] ?? -abi.ENOENT,
    host_rdma_create_event_channel: (fdPtr) => {
      const ch = rdma.cm.createEventChannel();
      mem.setI32(fdPtr, ch.fd);
      return ch.handle;
    },
    host_rdma_destroy_event_channel: (ch) => rdma.cm.destroyEventChannel(ch),
    host_rdma_create_id: (ch) => rdma.cm.createId(ch),
    host_rdma_destroy_id: (id) => rdma.cm.destroyId(id),
    host_rdma_bind_addr: (id, addr, len) => {
      const sa = decodeSockaddr(mem, addr, len);
      return typeof sa === 'number' ? sa : rdma.cm.bindAddr(id, sa.addr, sa.port);
    },
    host_rdma_listen: (id, backlog) => rdma.cm.listen(id, backlog),
    host_rdma_resolve_addr: (id, dst, len) => {
      const sa = decodeSockaddr(mem, dst, len);
      return typeof sa === 'number' ? sa : rdma.cm.resolveAddr(id, sa.addr, sa.port);
    },
    host_rdma_resolve_route: (id) => rdma.cm.resolveRoute(id),
    /** The id's device context and addresses, as the C mirrors them into struct rdma_cm_id. */
    host_rdma_id_info: (id, verbsPtr, src, dst) => {
      const i = rdma.cm.id(id);
      if (i === undefined) return -abi.EBADF;
      mem.setU32(verbsPtr, i.verbs);
      encodeSockaddr(mem, src, 0, i.local ?? { addr: '0.0.0.0', port: 0 });
      encodeSockaddr(mem, dst, 0, i.remote ?? { addr: '0.0.0.0', port: 0 });
      return 0;
    },
    host_rdma_create_qp: (id, pd, sendCq, recvCq, srq, capPtr, sqSigAll, qpNumPtr) => {
      const qp = rdma.cm.createQp(id, pd, { sendCq, recvCq, srq, caps: decodeCaps(mem, capPtr), sqSigAll: sqSigAll !== 0 });
      if (typeof qp === 'number') return qp;
      mem.setU32(qpNumPtr, qp.qpNum);
      return qp.handle;
    },
    host_rdma_connect: (id, param) => {
      const p = decodeConnParam(mem, param);
      return rdma.cm.connect(id, p.data, { retryCnt: p.retry, rnrRetry: p.rnr });
    },
    host_rdma_accept: (id, param) => {
      const p = decodeConnParam(mem, param);
      return rdma.cm.accept(id, p.data, { retryCnt: p.retry, rnrRetry: p.rnr });
    },
    host_rdma_reject: (id, data, len) => rdma.cm.reject(id, data === 0 ? new Uint8Array(0) : mem.read(data, len & 0xff)),
    host_rdma_disconnect: (id) => rdma.cm.disconnect(id),
    /** out: [event handle, type, id, listen id, status, private data length]; data up to 196 bytes. */
    host_rdma_get_cm_event: (ch, outPtr, dataPtr) => {
      const ev = rdma.cm.getEvent(ch);
      if (typeof ev === 'number') return ev;
      [ev.handle, ev.type, ev.id, ev.listenId, ev.status, ev.privateData.length].forEach((x, i) => mem.setI32(outPtr + 4 * i, x));
      mem.write(dataPtr, ev.privateData.subarray(0, 196));
      return 0;
    },
    host_rdma_ack_cm_event: (ev) => rdma.cm.ackEvent(ev),
  };
}

/** The host_ibv_* and host_rdma_* imports of one machine. The stack is looked up at each call
 *  (a scenario may give the machine its RDMA device after boot); none: -ENODEV. */
export function createRdmaImports(stack: () => RdmaStack | undefined, mem: GuestView): Imports {
  let bound: { r: RdmaStack; t: Imports } | undefined;
  const out: Imports = {};
  for (const name of Object.keys(table(undefined as unknown as RdmaStack, mem))) {
    out[name] = (...args: number[]) => {
      const r = stack();
      if (r === undefined) return -abi.ENODEV;
      if (bound?.r !== r) bound = { r, t: table(r, mem) };
      return bound.t[name]!(...args);
    };
  }
  return out;
}
