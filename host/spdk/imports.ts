/**
 * The TypeScript half of the seam: the WebAssembly import object of module "host" (wasm/port/host.h).
 * Decodes pointers into typed arguments, calls the machine's HostKernel, and encodes results back
 * into guest memory. Nothing here knows about TCP; nothing in the kernel knows about pointers.
 */
import * as abi from '../gen/abi.js';
import type { HostKernel, IoVec, RecvMsgResult, SockAddrIn } from '../kernel/host-kernel.js';
import type { GuestView } from './guest-memory.js';
import { createRdmaImports } from './rdma-imports.js';
import { decodeSockaddr, encodeSockaddr } from './sockaddr.js';

export interface HostServices {
  kernel: HostKernel;
  mem: GuestView;
  log(level: number, msg: string): void;
  /** A C trace point the C side has already hashed (wasm/port/trace_host.c); it crosses only
   *  while the host wants events. */
  trace(event: string, a: number, b: number, c: number, d: number): void;
}

export function decodeIovecs(mem: GuestView, iovPtr: number, count: number): IoVec[] {
  const iov: IoVec[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const p = iovPtr + i * abi.SIZEOF_iovec;
    iov[i] = { base: mem.u32(p + abi.OFFSETOF_iovec_iov_base), len: mem.u32(p + abi.OFFSETOF_iovec_iov_len) };
  }
  return iov;
}

/** Builds the `host` import object for one machine. */
export function createHostImports(s: HostServices): Record<string, (...args: number[]) => number | void> {
  const { kernel, mem } = s;
  /** C trace point names by the address of their literal, read once. */
  const traceNames = new Map<number, string>();
  const addrResult = (r: SockAddrIn | number, ptr: number, lenPtr: number): number => {
    if (typeof r === 'number') return r;
    encodeSockaddr(mem, ptr, lenPtr, r);
    return 0;
  };

  return {
    host_log: (level, msg, len) => s.log(level, new TextDecoder().decode(mem.bytes().subarray(msg, msg + len))),
    host_trace: (event, a, b, c, d) => {
      let name = traceNames.get(event);
      if (name === undefined) {
        name = mem.cstring(event, 128);
        traceNames.set(event, name);
      }
      s.trace(name, a >>> 0, b >>> 0, c >>> 0, d >>> 0);
    },

    host_socket: (domain, type, protocol) => kernel.socket(domain, type, protocol),
    host_bind: (fd, addr, len) => {
      const sa = decodeSockaddr(mem, addr, len);
      return typeof sa === 'number' ? sa : kernel.bind(fd, sa);
    },
    host_listen: (fd, backlog) => kernel.listen(fd, backlog),
    host_accept: (fd, addr, lenPtr) => {
      const r = kernel.accept(fd);
      if (typeof r === 'number') return r;
      encodeSockaddr(mem, addr, lenPtr, r.peer);
      return r.fd;
    },
    host_connect: (fd, addr, len) => {
      const sa = decodeSockaddr(mem, addr, len);
      return typeof sa === 'number' ? sa : kernel.connect(fd, sa);
    },
    host_close: (fd) => kernel.close(fd),
    host_setsockopt: (fd, level, name, val, len) => {
      if (val === 0 || len < 4) return -abi.EINVAL;
      return kernel.setsockopt(fd, level, name, mem.i32(val));
    },
    host_getsockopt: (fd, level, name, val, lenPtr) => {
      if (val === 0 || lenPtr === 0 || mem.u32(lenPtr) < 4) return -abi.EINVAL;
      const v = kernel.getsockopt(fd, level, name);
      if (v < 0) return v;
      mem.setI32(val, v);
      mem.setU32(lenPtr, 4);
      return 0;
    },
    host_getsockname: (fd, addr, lenPtr) => addrResult(kernel.getsockname(fd), addr, lenPtr),
    host_getpeername: (fd, addr, lenPtr) => addrResult(kernel.getpeername(fd), addr, lenPtr),

    host_sendmsg: (fd, msg, flags) => {
      const iov = decodeIovecs(mem, mem.u32(msg + abi.OFFSETOF_msghdr_msg_iov), mem.u32(msg + abi.OFFSETOF_msghdr_msg_iovlen));
      return kernel.sendmsg(fd, iov, flags);
    },
    host_recvmsg: (fd, msg, flags) => {
      const iov = decodeIovecs(mem, mem.u32(msg + abi.OFFSETOF_msghdr_msg_iov), mem.u32(msg + abi.OFFSETOF_msghdr_msg_iovlen));
      const r = kernel.recvmsg(fd, iov, flags);
      if (typeof r === 'number') return r;
      let outFlags = r.flags ?? 0;
      const ctl = mem.u32(msg + abi.OFFSETOF_msghdr_msg_control);
      const room = mem.u32(msg + abi.OFFSETOF_msghdr_msg_controllen);
      const need = abi.SIZEOF_cmsghdr + abi.SIZEOF_sock_extended_err;
      if (r.cmsg !== undefined) {
        if (ctl === 0 || room < need) {
          outFlags |= abi.MSG_CTRUNC;
          mem.setU32(msg + abi.OFFSETOF_msghdr_msg_controllen, 0);
        } else {
          writeErrqueueCmsg(mem, ctl, r.cmsg);
          mem.setU32(msg + abi.OFFSETOF_msghdr_msg_controllen, need);
        }
      } else {
        mem.setU32(msg + abi.OFFSETOF_msghdr_msg_controllen, 0);
      }
      mem.setI32(msg + abi.OFFSETOF_msghdr_msg_flags, outFlags);
      return r.rc;
    },
    host_readv: (fd, iov, cnt) => kernel.readv(fd, decodeIovecs(mem, iov, cnt)),
    host_recv: (fd, buf, len, flags) => kernel.recv(fd, { base: buf, len }, flags),
    host_fcntl: (fd, cmd, arg) => kernel.fcntl(fd, cmd, arg),

    host_poll: (fds, nfds, timeout) => {
      const list = [];
      for (let i = 0; i < nfds; i++) {
        const p = fds + i * abi.SIZEOF_pollfd;
        list.push({ fd: mem.i32(p + abi.OFFSETOF_pollfd_fd), events: mem.view().getInt16(p + abi.OFFSETOF_pollfd_events, true) });
      }
      const r = kernel.poll(list, timeout);
      if (typeof r === 'number') return r;
      let ready = 0;
      r.forEach((rev, i) => {
        mem.view().setInt16(fds + i * abi.SIZEOF_pollfd + abi.OFFSETOF_pollfd_revents, rev, true);
        if (rev !== 0) ready++;
      });
      return ready;
    },
    host_epoll_create1: (flags) => kernel.epollCreate1(flags),
    host_epoll_ctl: (epfd, op, fd, ev) => {
      const events = ev !== 0 ? mem.u32(ev + abi.OFFSETOF_epoll_event_events) : 0;
      const data = ev !== 0 ? mem.u32(ev + abi.OFFSETOF_epoll_event_data) : 0;
      return kernel.epollCtl(epfd, op, fd, events, data);
    },
    host_epoll_wait: (epfd, events, max, timeout) => {
      const r = kernel.epollWait(epfd, max, timeout);
      if (typeof r === 'number') return r;
      r.forEach((e, i) => {
        const p = events + i * abi.SIZEOF_epoll_event;
        mem.setU32(p + abi.OFFSETOF_epoll_event_events, e.events);
        mem.setU32(p + abi.OFFSETOF_epoll_event_data, e.data);
        mem.setU32(p + abi.OFFSETOF_epoll_event_data + 4, 0);
      });
      return r.length;
    },

    host_ifaddr: (index, namePtr, addrPtr, flagsPtr) => {
      const ifa = kernel.ifaddrs()[index];
      if (ifa === undefined) return -abi.ENOENT;
      const name = new TextEncoder().encode(ifa.name.slice(0, 15));
      const buf = new Uint8Array(16);
      buf.set(name);
      mem.write(namePtr, buf);
      encodeSockaddr(mem, addrPtr, 0, { addr: ifa.addr, port: 0 });
      mem.setU32(flagsPtr, ifa.flags);
      return 0;
    },

    host_blk_open: (path, len, flags) =>
      kernel.blkOpen?.(new TextDecoder().decode(mem.bytes().subarray(path, path + len)), flags) ?? -abi.ENOSYS,
    host_blk_info: (fd, blocklenPtr, sizePtr) => {
      const r = kernel.blkInfo?.(fd) ?? -abi.ENOSYS;
      if (typeof r === 'number') return r;
      mem.setU32(blocklenPtr, r.blocklen);
      mem.view().setFloat64(sizePtr, r.size, true);
      return 0;
    },
    host_blk_close: (fd) => kernel.blkClose?.(fd) ?? -abi.ENOSYS,
    host_blk_ring_create: (entries) => kernel.blkRingCreate?.(entries) ?? -abi.ENOSYS,
    host_blk_ring_destroy: (ring) => kernel.blkRingDestroy?.(ring) ?? -abi.ENOSYS,
    host_blk_submit: (ring, fd, op, offset, len, buf, userData) =>
      kernel.blkSubmit?.(ring, fd, op, offset, len >>> 0, buf >>> 0, userData >>> 0) ?? -abi.ENOSYS,
    host_blk_reap: (ring, cqes, max) => {
      const r = kernel.blkReap?.(ring, max >>> 0) ?? -abi.ENOSYS;
      if (typeof r === 'number') return r;
      r.forEach((c, i) => {
        const p = cqes + i * abi.SIZEOF_host_blk_cqe;
        mem.setU32(p + abi.OFFSETOF_host_blk_cqe_user_data, c.userData);
        mem.setI32(p + abi.OFFSETOF_host_blk_cqe_res, c.res);
      });
      return r.length;
    },
    host_blk_export_done: (tag, rc) => {
      kernel.blkExportDone?.(tag >>> 0, rc | 0);
    },
    ...createRdmaImports(() => kernel.rdma, mem),
  };
}

function writeErrqueueCmsg(mem: GuestView, ctl: number, c: NonNullable<RecvMsgResult['cmsg']>): void {
  mem.setU32(ctl + abi.OFFSETOF_cmsghdr_cmsg_len, abi.SIZEOF_cmsghdr + abi.SIZEOF_sock_extended_err);
  mem.setI32(ctl + abi.OFFSETOF_cmsghdr_cmsg_level, c.level);
  mem.setI32(ctl + abi.OFFSETOF_cmsghdr_cmsg_type, c.type);
  const e = ctl + abi.SIZEOF_cmsghdr;
  const dv = mem.view();
  dv.setUint32(e + abi.OFFSETOF_sock_extended_err_ee_errno, c.err.ee_errno, true);
  dv.setUint8(e + abi.OFFSETOF_sock_extended_err_ee_origin, c.err.ee_origin);
  dv.setUint8(e + abi.OFFSETOF_sock_extended_err_ee_type, c.err.ee_type);
  dv.setUint8(e + abi.OFFSETOF_sock_extended_err_ee_code, c.err.ee_code);
  dv.setUint8(e + abi.OFFSETOF_sock_extended_err_ee_code + 1, 0);
  dv.setUint32(e + abi.OFFSETOF_sock_extended_err_ee_info, c.err.ee_info >>> 0, true);
  dv.setUint32(e + abi.OFFSETOF_sock_extended_err_ee_data, c.err.ee_data >>> 0, true);
}
