/**
 * HostKernel: the TypeScript side of the one seam (docs/architecture.md, decision 3).
 *
 * The C model calls libc-shaped wrappers (wasm/port/posix_shim.c) that forward to WebAssembly imports
 * of module "host"; host/spdk/imports.ts decodes their pointers and calls one of these typed methods.
 * Every method returns a value >= 0 on success or a negative errno, numbered as emscripten's libc
 * numbers them (import the names from host/gen/abi.ts, never write numbers by hand).
 *
 * Two implementations exist: the emulated Linux kernel (host/kernel/kernel.ts), one per machine, and
 * the scripted kernel of the unit tests (test/node/support/scripted-kernel.ts), which plays SPDK's
 * MOCK_SET / MOCK_ENQUEUE role.
 */
import type { RdmaStack } from './rdma/verbs.js';

/** IPv4 socket address; `addr` is dotted quad. */
export interface SockAddrIn {
  addr: string;
  port: number;
}

/** One iovec of guest memory: a byte address in the machine's linear memory and a length. */
export interface IoVec {
  base: number;
  len: number;
}

/** struct sock_extended_err, as carried by an error-queue message. */
export interface SockExtendedErr {
  ee_errno: number;
  ee_origin: number;
  ee_type: number;
  ee_code: number;
  ee_info: number;
  ee_data: number;
}

/** Result of recvmsg(): bytes read, plus the control message when one was delivered. */
export interface RecvMsgResult {
  rc: number;
  cmsg?: { level: number; type: number; err: SockExtendedErr };
  flags?: number;
}

export interface EpollEventOut {
  events: number;
  /** epoll_data as registered (wasm32: data.ptr, a 32-bit address). */
  data: number;
}

export interface PollFd {
  fd: number;
  events: number;
}

export interface IfAddr {
  name: string;
  addr: string;
  flags: number;
}

/** Access to a machine's linear memory. `bytes()` must be called again after any call into C,
 *  because memory growth replaces the underlying buffer. */
export interface GuestMemory {
  bytes(): Uint8Array;
}

export interface HostKernel {
  /** Set by world events that change the kernel (host/kernel/kernel.ts); a kernel without it is
   *  taken as always changed, so its machine is polled every round. */
  touched?: boolean;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: SockAddrIn): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number): { fd: number; peer: SockAddrIn } | number;
  connect(fd: number, addr: SockAddrIn): number;
  close(fd: number): number;
  /** Every option SPDK sets is an int. */
  setsockopt(fd: number, level: number, name: number, value: number): number;
  /** Returns the option's int value (>= 0) or a negative errno. */
  getsockopt(fd: number, level: number, name: number): number;
  getsockname(fd: number): SockAddrIn | number;
  getpeername(fd: number): SockAddrIn | number;
  /** iov addresses point into guest memory. MSG_ZEROCOPY sends must not copy here (decision 6). */
  sendmsg(fd: number, iov: IoVec[], flags: number): number;
  recvmsg(fd: number, iov: IoVec[], flags: number): RecvMsgResult | number;
  readv(fd: number, iov: IoVec[]): number;
  recv(fd: number, buf: IoVec, flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  /** Returns revents per entry, or a negative errno. Timeouts are not waited for (timeout 0 only). */
  poll(fds: PollFd[], timeoutMs: number): number[] | number;
  epollCreate1(flags: number): number;
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number;
  epollWait(epfd: number, maxEvents: number, timeoutMs: number): EpollEventOut[] | number;
  ifaddrs(): IfAddr[];

  // Host block devices (optional: a kernel without them answers -ENOSYS at the seam). Descriptors
  // and rings as in host/kernel/blockdev.ts; offsets and lengths in bytes; buf is a guest address.
  blkOpen?(path: string, flags: number): number;
  blkInfo?(fd: number): BlkInfo | number;
  blkClose?(fd: number): number;
  blkRingCreate?(entries: number): number;
  blkRingDestroy?(ring: number): number;
  blkSubmit?(ring: number, fd: number, op: number, offset: number, len: number, buf: number, userData: number): number;
  /** Completions ready on the ring (at most max), never waiting. */
  blkReap?(ring: number, max: number): BlkCompletion[] | number;
  /** The C completed a request the kernel submitted to exposed SPDK storage. */
  blkExportDone?(tag: number, rc: number): void;

  /** Verbs and RDMA-CM (host/kernel/rdma/verbs.ts); without it host_ibv_* and host_rdma_*
   *  answer -ENODEV (host/spdk/rdma-imports.ts). */
  readonly rdma?: RdmaStack | undefined;
}

export interface BlkInfo {
  blocklen: number;
  /** Bytes. */
  size: number;
}

/** One ring completion: the submitter's user_data and bytes done or a negative errno. */
export interface BlkCompletion {
  userData: number;
  res: number;
}
