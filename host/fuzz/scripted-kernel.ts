/**
 * A scripted HostKernel for unit tests of the real C: SPDK's MOCK_SET / MOCK_ENQUEUE role.
 * Every call is recorded. Return values come from, in order: a value queued with `enqueue(fn, ...)`,
 * a value fixed with `set(fn, v)`, or a plausible default (sendmsg accepts everything, connect
 * succeeds at once, the error queue is empty). Zero-copy notifications are queued per fd with
 * `notify(fd, lo, hi)` and make epoll report EPOLLERR, as Linux does.
 */
import * as abi from '../gen/abi.js';
import { BlockLayer } from '../kernel/blockdev.js';
import { MemoryBackend, type MemoryBackendOptions } from '../kernel/blockdev-backend.js';
import { IMMEDIATE } from '../kernel/blockdev-wait.js';
import type { BlkCompletion, BlkInfo, EpollEventOut, HostKernel, IfAddr, IoVec, PollFd, RecvMsgResult, SockAddrIn, SockExtendedErr } from '../kernel/host-kernel.js';
import type { GuestView } from '../spdk/guest-memory.js';

export interface Call {
  fn: string;
  fd: number;
  flags?: number;
  /** sendmsg and readv: the iovecs and total length offered. */
  iov?: IoVec[];
  offered?: number;
  rc: unknown;
}

type Scripted = number | SockExtendedErr;

export class ScriptedKernel implements HostKernel {
  readonly calls: Call[] = [];
  /** Interfaces reported by getifaddrs(); the default is one non-loopback NIC. */
  ifs: IfAddr[] = [{ name: 'eth0', addr: '192.0.2.1', flags: abi.IFF_UP | abi.IFF_RUNNING }];
  local: SockAddrIn = { addr: '192.0.2.1', port: 40000 };
  private readonly fixed = new Map<string, Scripted>();
  private readonly queued = new Map<string, Scripted[]>();
  private readonly errqueue = new Map<number, SockExtendedErr[]>();
  private readonly rx = new Map<number, Uint8Array[]>();
  private readonly epolls = new Map<number, Map<number, { events: number; data: number }>>();
  private readonly opts = new Map<string, number>();
  private readonly pendingAccept: number[] = [];
  private nextFd = 3;
  mem: GuestView | undefined;

  set(fn: string, v: Scripted): void {
    this.fixed.set(fn, v);
  }

  enqueue(fn: string, ...vs: Scripted[]): void {
    const q = this.queued.get(fn) ?? [];
    q.push(...vs);
    this.queued.set(fn, q);
  }

  clear(fn: string): void {
    this.fixed.delete(fn);
    this.queued.delete(fn);
  }

  /** Queues a zero-copy completion [lo, hi] on fd's error queue. */
  notify(fd: number, lo: number, hi: number, code = 0): void {
    const q = this.errqueue.get(fd) ?? [];
    q.push({ ee_errno: 0, ee_origin: abi.SO_EE_ORIGIN_ZEROCOPY, ee_type: 0, ee_code: code, ee_info: lo >>> 0, ee_data: hi >>> 0 });
    this.errqueue.set(fd, q);
  }

  /** Makes bytes readable on fd. */
  pushRx(fd: number, data: Uint8Array): void {
    const q = this.rx.get(fd) ?? [];
    q.push(data);
    this.rx.set(fd, q);
  }

  /** Makes the listening socket `fd` have one connection to accept. */
  pushAccept(): void {
    this.pendingAccept.push(this.nextFd++);
  }

  sendCalls(): Call[] {
    return this.calls.filter((c) => c.fn === 'sendmsg');
  }

  /** Data reads (readv, and recv/recvmsg without MSG_PEEK or MSG_ERRQUEUE, which log as readv). */
  readCalls(): Call[] {
    return this.calls.filter((c) => c.fn === 'readv');
  }

  errqueueReads(): Call[] {
    return this.calls.filter((c) => c.fn === 'recvmsg' && ((c.flags ?? 0) & abi.MSG_ERRQUEUE) !== 0);
  }

  private next(fn: string): Scripted | undefined {
    const q = this.queued.get(fn);
    if (q !== undefined && q.length > 0) return q.shift();
    return this.fixed.get(fn);
  }

  private log<T>(fn: string, fd: number, rc: T, extra: Partial<Call> = {}): T {
    this.calls.push({ fn, fd, rc, ...extra });
    return rc;
  }

  private num(fn: string, fallback: number): number {
    const v = this.next(fn);
    return typeof v === 'number' ? v : fallback;
  }

  socket(): number {
    return this.log('socket', -1, this.num('socket', this.nextFd++));
  }
  bind(fd: number): number {
    return this.log('bind', fd, this.num('bind', 0));
  }
  listen(fd: number): number {
    return this.log('listen', fd, this.num('listen', 0));
  }
  accept(fd: number): { fd: number; peer: SockAddrIn } | number {
    const v = this.next('accept');
    if (typeof v === 'number') return this.log('accept', fd, v);
    const nfd = this.pendingAccept.shift();
    if (nfd === undefined) return this.log('accept', fd, -abi.EAGAIN);
    return this.log('accept', fd, { fd: nfd, peer: { addr: '192.0.2.2', port: 50000 } });
  }
  connect(fd: number): number {
    return this.log('connect', fd, this.num('connect', 0));
  }
  close(fd: number): number {
    return this.log('close', fd, this.num('close', 0));
  }
  setsockopt(fd: number, level: number, name: number, value: number): number {
    this.opts.set(`${fd}/${level}/${name}`, value);
    return this.log('setsockopt', fd, this.num('setsockopt', 0), { flags: name });
  }
  getsockopt(fd: number, level: number, name: number): number {
    const v = this.opts.get(`${fd}/${level}/${name}`) ?? 0;
    return this.log('getsockopt', fd, this.num('getsockopt', level === abi.SOL_SOCKET && name === abi.SO_ERROR ? 0 : v));
  }
  /** The value the C set with setsockopt, if any. */
  sockopt(fd: number, level: number, name: number): number | undefined {
    return this.opts.get(`${fd}/${level}/${name}`);
  }
  getsockname(fd: number): SockAddrIn | number {
    return this.log('getsockname', fd, this.local);
  }
  getpeername(fd: number): SockAddrIn | number {
    return this.log('getpeername', fd, { addr: '192.0.2.2', port: 4420 });
  }
  sendmsg(fd: number, iov: IoVec[], flags: number): number {
    const offered = iov.reduce((s, v) => s + v.len, 0);
    const v = this.num('sendmsg', offered);
    const rc = v < 0 ? v : Math.min(v, offered);
    return this.log('sendmsg', fd, rc, { flags, iov, offered });
  }
  recvmsg(fd: number, iov: IoVec[], flags: number): RecvMsgResult | number {
    if ((flags & abi.MSG_ERRQUEUE) === 0) return this.log('recvmsg', fd, this.readv(fd, iov), { flags });
    const v = this.next('recvmsg');
    if (typeof v === 'number') return this.log('recvmsg', fd, v, { flags });
    const e = v ?? this.errqueue.get(fd)?.shift();
    if (e === undefined) return this.log('recvmsg', fd, -abi.EAGAIN, { flags });
    return this.log('recvmsg', fd, { rc: 0, cmsg: { level: abi.SOL_IP, type: abi.IP_RECVERR, err: e } }, { flags });
  }
  readv(fd: number, iov: IoVec[]): number {
    const offered = iov.reduce((s, v) => s + v.len, 0);
    const fixed = this.next('readv');
    if (typeof fixed === 'number') return this.log('readv', fd, fixed, { iov, offered });
    const q = this.rx.get(fd);
    if (q === undefined || q.length === 0) return this.log('readv', fd, -abi.EAGAIN, { iov, offered });
    let n = 0;
    for (const v of iov) {
      let off = 0;
      while (off < v.len && q.length > 0) {
        const head = q[0]!;
        const take = Math.min(head.length, v.len - off);
        this.mem!.write(v.base + off, head.subarray(0, take));
        off += take;
        n += take;
        if (take === head.length) q.shift();
        else q[0] = head.subarray(take);
      }
    }
    return this.log('readv', fd, n, { iov, offered });
  }
  recv(fd: number, buf: IoVec, flags: number): number {
    const q = this.rx.get(fd);
    if ((flags & abi.MSG_PEEK) !== 0) return this.log('recv', fd, q !== undefined && q.length > 0 ? 1 : -abi.EAGAIN);
    return this.readv(fd, [buf]);
  }
  fcntl(fd: number, cmd: number): number {
    return this.log('fcntl', fd, cmd === abi.F_GETFL ? 0 : 0);
  }
  poll(fds: PollFd[]): number[] | number {
    return fds.map((p) => (p.events & abi.POLLOUT) !== 0 ? abi.POLLOUT : 0);
  }
  epollCreate1(): number {
    const fd = this.nextFd++;
    this.epolls.set(fd, new Map());
    return this.log('epoll_create1', fd, fd);
  }
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number {
    const set = this.epolls.get(epfd);
    if (set === undefined) return -abi.EBADF;
    if (op === abi.EPOLL_CTL_DEL) set.delete(fd);
    else set.set(fd, { events, data });
    return this.log('epoll_ctl', fd, 0, { flags: op });
  }
  epollWait(epfd: number, maxEvents: number): EpollEventOut[] | number {
    const set = this.epolls.get(epfd);
    if (set === undefined) return -abi.EBADF;
    const out: EpollEventOut[] = [];
    for (const [fd, reg] of set) {
      let ev = 0;
      if ((this.errqueue.get(fd)?.length ?? 0) > 0) ev |= abi.EPOLLERR;
      if ((reg.events & abi.EPOLLIN) !== 0 && (this.rx.get(fd)?.length ?? 0) > 0) ev |= abi.EPOLLIN;
      if (ev !== 0 && out.length < maxEvents) out.push({ events: ev, data: reg.data });
    }
    return out;
  }
  ifaddrs(): IfAddr[] {
    return this.ifs;
  }

  // ---- block devices: a real BlockLayer whose commands complete at once (no world here) ----

  /** The block layer behind the blk* calls; add devices with addMemoryDisk. A value queued with
   *  enqueue('blkOpen' | 'blkSubmit', rc) is returned instead of calling it (MOCK_ENQUEUE). */
  readonly blk: BlockLayer = (() => {
    const self = this;
    return new BlockLayer(IMMEDIATE, { get mem() { return self.mem; } });
  })();

  /** A memory-backed block device at `path`; returns the backend (its `bytes` are the disk). */
  addMemoryDisk(path: string, size: number, opts: MemoryBackendOptions = {}): MemoryBackend {
    const b = new MemoryBackend(IMMEDIATE, size, opts);
    this.blk.addDevice(path, b);
    return b;
  }

  blkOpen(path: string, flags: number): number {
    return this.log('blkOpen', -1, this.num('blkOpen', NaN) || this.blk.blkOpen(path, flags), { flags });
  }
  blkInfo(fd: number): BlkInfo | number {
    return this.blk.blkInfo(fd);
  }
  blkClose(fd: number): number {
    return this.log('blkClose', fd, this.blk.blkClose(fd));
  }
  blkRingCreate(entries: number): number {
    return this.blk.blkRingCreate(entries);
  }
  blkRingDestroy(ring: number): number {
    return this.blk.blkRingDestroy(ring);
  }
  blkSubmit(ring: number, fd: number, op: number, offset: number, len: number, buf: number, userData: number): number {
    const v = this.next('blkSubmit');
    const rc = typeof v === 'number' ? v : this.blk.blkSubmit(ring, fd, op, offset, len, buf, userData);
    return this.log('blkSubmit', fd, rc, { flags: op, offered: len });
  }
  blkReap(ring: number, max: number): BlkCompletion[] | number {
    return this.blk.blkReap(ring, max);
  }
  blkExportDone(tag: number, rc: number): void {
    this.log('blkExportDone', tag, rc);
    this.blk.blkExportDone(tag, rc);
  }
}
