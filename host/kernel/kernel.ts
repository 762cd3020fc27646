/**
 * The emulated Linux kernel of one machine (HostKernel, decision 3): descriptor table, TCP
 * sockets, epoll, NICs. Every call returns >= 0 or a negative errno in emscripten's numbering.
 */
import * as abi from '../gen/abi.js';
import type { Touchable, World } from '../sim/world.js';
import type { Prng } from '../sim/prng.js';
import { NetDev, type NetDevOptions } from '../net/netdev.js';
import type { Fabric } from '../net/fabric.js';
import type {
  BlkCompletion, BlkInfo, EpollEventOut, GuestMemory, HostKernel, IfAddr, IoVec, PollFd, RecvMsgResult, SockAddrIn,
} from './host-kernel.js';
import { FdTable } from './fd-table.js';
import { Epoll, type Pollable } from './epoll.js';
import { TcpSocket } from './tcp-socket.js';
import { socketInfo, type SocketInfo } from './socket-info.js';
import * as tcp from './tcp-calls.js';
import { TcpStack } from './tcp-stack.js';
import { getOption, setOption } from './sockopt.js';
import { BlockLayer } from './blockdev.js';
import type { RdmaStack } from './rdma/verbs.js';
import type { KernelFile } from './kernel-file.js';

export type { KernelFile } from './kernel-file.js';


type File =
  | { kind: 'tcp'; sock: TcpSocket; flags: number }
  | { kind: 'epoll'; ep: Epoll; flags: number }
  | { kind: 'file'; file: KernelFile; flags: number };

export interface KernelStats {
  machine: string;
  sockets: SocketInfo[];
  devs: { name: string; addr: string; up: boolean; queued: number; txFrames: number; txBytes: number; txDropped: number; rxFrames: number; rxBytes: number; rxDropped: number }[];
  totals: {
    retransmits: number;
    rtoFired: number;
    bytesOut: number;
    bytesIn: number;
    zcIds: number;
    zcNotified: number;
    rstsSent: number;
    aborts: number;
    abortsUserTimeout: number;
    abortsRetries2: number;
  };
}

/** EPOLL* and POLL* bits are the same numbers on Linux, but translate rather than assume. */
const POLL_MAP: [number, number][] = [
  [abi.EPOLLIN, abi.POLLIN],
  [abi.EPOLLOUT, abi.POLLOUT],
  [abi.EPOLLERR, abi.POLLERR],
  [abi.EPOLLHUP, abi.POLLHUP],
];

export class Kernel implements HostKernel, Touchable {
  /** Set by the world events that change this kernel (segments in, timers, NIC completions); the
   *  machine clears it when it polls (SpdkMachine.pollOnce). */
  touched = true;
  private readonly fds = new FdTable<File>();
  private readonly devs: NetDev[] = [];
  readonly tcp: TcpStack;
  readonly rng: Prng;
  /** Block devices and their page cache (host/kernel/blockdev.ts). */
  readonly blk: BlockLayer;
  /** Verbs and RDMA-CM, once a scenario gives this machine an RDMA device (rdma/verbs.ts). */
  rdma: RdmaStack | undefined;
  /** Counters of sockets whose fd is closed, so totals survive close(). */
  private readonly closedTotals = { retransmits: 0, rtoFired: 0, bytesOut: 0, bytesIn: 0, zcIds: 0, zcNotified: 0 };

  constructor(
    readonly world: World,
    readonly machine: string,
    readonly memory: GuestMemory,
    readonly fabric: Fabric,
  ) {
    this.rng = world.rng.fork();
    this.tcp = new TcpStack(world, machine, memory, this.rng, this.devs, this);
    this.blk = new BlockLayer(world, { mem: memory, record: (ev, f) => world.record(machine, ev, f) });
    this.addNetDev({ name: 'lo', addr: '127.0.0.1', loopback: true });
  }

  /** Adds a NIC to this machine (registered on the fabric; cable it with fabric.connect). */
  addNetDev(opts: NetDevOptions): NetDev {
    if (this.devs.some((d) => d.name === opts.name)) throw new Error(`${this.machine}: netdev ${opts.name} exists`);
    const dev = new NetDev(this.world, this.fabric, this.machine, opts, this);
    this.fabric.register(dev);
    dev.receiver = this.tcp.input;
    this.devs.push(dev);
    return dev;
  }

  dev(name: string): NetDev {
    const d = this.devs.find((x) => x.name === name);
    if (d === undefined) throw new Error(`${this.machine}: no netdev ${name}`);
    return d;
  }

  /** Gives `file` a descriptor (poll, epoll and close see it like any other fd). */
  openFile(file: KernelFile): number {
    return this.fds.alloc({ kind: 'file', file, flags: 0 });
  }

  /** The socket behind `fd`, for scenarios and tests (read its state, set knobs). */
  sock(fd: number): TcpSocket | undefined {
    const f = this.fds.get(fd);
    return f?.kind === 'tcp' ? f.sock : undefined;
  }

  sockInfo(fd: number): SocketInfo | undefined {
    return infoOf(this.sock(fd));
  }

  /** Fault knob: the next `count` MSG_ZEROCOPY sends on `fd` fail with ENOBUFS. */
  injectZerocopyNobufs(fd: number, count: number): void {
    const s = this.sock(fd);
    if (s === undefined) throw new Error(`${this.machine}: fd ${fd} is not a socket`);
    s.zc.nobufs = count;
  }

  /** Test knob: the next zero-copy id of `fd` (to exercise wrap-around at 2^32). */
  setZerocopyKey(fd: number, key: number): void {
    const s = this.sock(fd);
    if (s === undefined) throw new Error(`${this.machine}: fd ${fd} is not a socket`);
    s.zc.key = key >>> 0;
  }

  stats(): KernelStats {
    const sockets: SocketInfo[] = [];
    for (const [, f] of this.fds.entries()) if (f.kind === 'tcp') sockets.push(socketInfo(f.sock));
    const totals = { ...this.closedTotals, rstsSent: this.tcp.rstsSent, aborts: this.tcp.aborts, abortsUserTimeout: this.tcp.abortsUserTimeout, abortsRetries2: this.tcp.abortsRetries2 };
    for (const s of sockets) {
      totals.retransmits += s.retransmits;
      totals.rtoFired += s.rtoFired;
      totals.bytesOut += s.bytesOut;
      totals.bytesIn += s.bytesIn;
      totals.zcIds += s.zcIds;
      totals.zcNotified += s.zcNotified;
    }
    return {
      machine: this.machine,
      sockets,
      devs: this.devs.map((d) => ({ name: d.name, addr: d.addr, up: d.up, queued: d.queued, ...d.counters })),
      totals,
    };
  }

  /** Flat numeric counters (kernel totals and per-NIC), for run reports. */
  /** Bytes of guest memory [addr, addr + len) the send queues of live connections still
   *  reference: a buffer the application reuses while this is non-zero may still go on the wire. */
  pinnedBytes(addr: number, len: number): number {
    let n = 0;
    for (const s of this.tcp.connections()) if (!s.done) n += s.sb.refBytes(addr, len);
    return n;
  }

  counters(): Record<string, number> {
    const st = this.stats();
    const out: Record<string, number> = { ...st.totals, sockets: st.sockets.length };
    for (const d of st.devs) {
      out[`${d.name}.txFrames`] = d.txFrames;
      out[`${d.name}.txBytes`] = d.txBytes;
      out[`${d.name}.txDropped`] = d.txDropped;
      out[`${d.name}.rxFrames`] = d.rxFrames;
      out[`${d.name}.rxDropped`] = d.rxDropped;
    }
    return out;
  }

  // ---- HostKernel ----

  socket(domain: number, type: number, protocol: number): number {
    if (domain !== abi.AF_INET) return -abi.EOPNOTSUPP; // IPv4 only in this model
    const base = type & ~(abi.SOCK_NONBLOCK | abi.SOCK_CLOEXEC);
    if (base !== abi.SOCK_STREAM) return -abi.EOPNOTSUPP;
    if (protocol !== 0 && protocol !== abi.IPPROTO_TCP) return -abi.EOPNOTSUPP;
    const sock = new TcpSocket(this.tcp);
    const fd = this.fds.alloc({ kind: 'tcp', sock, flags: type & abi.SOCK_NONBLOCK ? abi.O_NONBLOCK : 0 });
    sock.fd = fd;
    this.world.record(this.machine, 'socket', { fd });
    return fd;
  }

  private tcpOf(fd: number): TcpSocket | number {
    const f = this.fds.get(fd);
    if (f === undefined) return -abi.EBADF;
    if (f.kind !== 'tcp') return -abi.ENOTSOCK;
    return f.sock;
  }

  bind(fd: number, addr: SockAddrIn): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    if (s.local !== undefined) return -abi.EINVAL;
    return this.tcp.bind(s, addr.addr, addr.port);
  }

  listen(fd: number, backlog: number): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    if (s.state === 'LISTEN') {
      s.backlog = Math.max(0, backlog);
      return 0;
    }
    if (s.state !== 'CLOSE' || s.everConnected) return -abi.EINVAL;
    if (s.local === undefined) {
      const rc = this.tcp.bind(s, '0.0.0.0', 0);
      if (rc < 0) return rc;
    }
    const rc = this.tcp.listen(s);
    if (rc < 0) return rc;
    s.state = 'LISTEN';
    s.backlog = Math.max(0, Math.min(backlog, 4096));
    this.world.record(this.machine, 'listen', { fd, port: s.local!.port });
    return 0;
  }

  accept(fd: number): { fd: number; peer: SockAddrIn } | number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    if (s.state !== 'LISTEN') return -abi.EINVAL;
    const ch = s.acceptQ.shift();
    if (ch === undefined) return -abi.EAGAIN;
    const nfd = this.fds.alloc({ kind: 'tcp', sock: ch, flags: 0 });
    ch.fd = nfd;
    this.world.record(this.machine, 'accept', { fd, newfd: nfd, peer: `${ch.remote!.addr}:${ch.remote!.port}` });
    return { fd: nfd, peer: { ...ch.remote! } };
  }

  connect(fd: number, addr: SockAddrIn): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return tcp.connect(s, addr);
  }

  close(fd: number): number {
    const f = this.fds.delete(fd);
    if (f === undefined) return -abi.EBADF;
    for (const [, g] of this.fds.entries()) if (g.kind === 'epoll') g.ep.forget(fd);
    this.world.record(this.machine, 'close', { fd });
    if (f.kind === 'tcp') {
      const i = socketInfo(f.sock);
      const t = this.closedTotals;
      t.retransmits += i.retransmits;
      t.rtoFired += i.rtoFired;
      t.bytesOut += i.bytesOut;
      t.bytesIn += i.bytesIn;
      t.zcIds += i.zcIds;
      t.zcNotified += i.zcNotified;
      tcp.close(f.sock);
    }
    if (f.kind === 'file') f.file.closed();
    return 0;
  }

  /** shutdown(2); not part of HostKernel (SPDK does not call it) but scenarios may. */
  shutdown(fd: number, how: 'rd' | 'wr' | 'rdwr'): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return tcp.shutdown(s, how);
  }

  setsockopt(fd: number, level: number, name: number, value: number): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return setOption(s, level, name, value);
  }

  getsockopt(fd: number, level: number, name: number): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return getOption(s, level, name);
  }

  getsockname(fd: number): SockAddrIn | number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return s.local === undefined ? { addr: '0.0.0.0', port: 0 } : { ...s.local };
  }

  getpeername(fd: number): SockAddrIn | number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    if (s.remote === undefined || !s.synchronized || s.state === 'CLOSE') return -abi.ENOTCONN;
    return { ...s.remote };
  }

  sendmsg(fd: number, iov: IoVec[], flags: number): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return tcp.sendmsg(s, iov, flags);
  }

  recvmsg(fd: number, iov: IoVec[], flags: number): RecvMsgResult | number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    if (flags & abi.MSG_ERRQUEUE) {
      const err = s.errq.pop();
      if (err === undefined) return -abi.EAGAIN;
      this.world.record(this.machine, 'errqueue.read', { fd, lo: err.ee_info, hi: err.ee_data, code: err.ee_code });
      return { rc: 0, cmsg: { level: abi.SOL_IP, type: abi.IP_RECVERR, err }, flags: abi.MSG_ERRQUEUE };
    }
    const rc = tcp.read(s, iov, (flags & abi.MSG_PEEK) !== 0);
    return rc < 0 ? rc : { rc };
  }

  readv(fd: number, iov: IoVec[]): number {
    const s = this.tcpOf(fd);
    if (typeof s === 'number') return s;
    return tcp.read(s, iov, false);
  }

  recv(fd: number, buf: IoVec, flags: number): number {
    const r = this.recvmsg(fd, [buf], flags & ~abi.MSG_ERRQUEUE);
    return typeof r === 'number' ? r : r.rc;
  }

  fcntl(fd: number, cmd: number, arg: number): number {
    const f = this.fds.get(fd);
    if (f === undefined) return -abi.EBADF;
    if (cmd === abi.F_GETFL) return f.flags;
    if (cmd === abi.F_SETFL) {
      // Only O_NONBLOCK is recorded; every call is non-blocking in this model anyway.
      f.flags = arg & abi.O_NONBLOCK;
      return 0;
    }
    return -abi.EINVAL;
  }

  poll(fds: PollFd[], timeoutMs: number): number[] | number {
    void timeoutMs; // nothing blocks: time moves only between calls (decision 5)
    return fds.map((p) => {
      if (p.fd < 0) return 0;
      const f = this.fds.get(p.fd);
      if (f === undefined) return abi.POLLNVAL;
      const m = f.kind === 'tcp' ? f.sock.pollMask() : f.kind === 'epoll' ? f.ep.pollMask() : f.file.pollMask();
      let r = 0;
      for (const [e, q] of POLL_MAP) if (m & e) r |= q;
      return r & (p.events | abi.POLLERR | abi.POLLHUP);
    });
  }

  epollCreate1(flags: number): number {
    void flags; // EPOLL_CLOEXEC is meaningless without exec
    return this.fds.alloc({ kind: 'epoll', ep: new Epoll(), flags: 0 });
  }

  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number {
    const e = this.fds.get(epfd);
    if (e === undefined) return -abi.EBADF;
    if (e.kind !== 'epoll' || epfd === fd) return -abi.EINVAL;
    const f = this.fds.get(fd);
    if (f === undefined) return -abi.EBADF;
    const target = f.kind === 'tcp' ? f.sock : f.kind === 'epoll' ? f.ep : f.file;
    return e.ep.ctl(op, fd, target, events, data);
  }

  epollWait(epfd: number, maxEvents: number, timeoutMs: number): EpollEventOut[] | number {
    void timeoutMs;
    const e = this.fds.get(epfd);
    if (e === undefined) return -abi.EBADF;
    if (e.kind !== 'epoll' || maxEvents <= 0) return -abi.EINVAL;
    return e.ep.wait(maxEvents);
  }

  ifaddrs(): IfAddr[] {
    return this.devs.map((d) => ({ name: d.name, addr: d.addr, flags: d.flags }));
  }

  // ---- block devices: the C's rings (BlockLayer) ----

  blkOpen(path: string, flags: number): number {
    return this.blk.blkOpen(path, flags);
  }

  blkInfo(fd: number): BlkInfo | number {
    return this.blk.blkInfo(fd);
  }

  blkClose(fd: number): number {
    return this.blk.blkClose(fd);
  }

  blkRingCreate(entries: number): number {
    return this.blk.blkRingCreate(entries);
  }

  blkRingDestroy(ring: number): number {
    return this.blk.blkRingDestroy(ring);
  }

  blkSubmit(ring: number, fd: number, op: number, offset: number, len: number, buf: number, userData: number): number {
    return this.blk.blkSubmit(ring, fd, op, offset, len, buf, userData);
  }

  blkReap(ring: number, max: number): BlkCompletion[] | number {
    return this.blk.blkReap(ring, max);
  }

  blkExportDone(tag: number, rc: number): void {
    this.blk.blkExportDone(tag, rc);
  }
}

function infoOf(s: TcpSocket | undefined): SocketInfo | undefined {
  return s === undefined ? undefined : socketInfo(s);
}
