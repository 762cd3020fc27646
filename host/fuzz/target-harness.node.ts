/**
 * The NVMe/TCP target's real C behind a scripted kernel, with the test playing the host: accepted
 * connections, bytes pushed into them (whole or split across reads), what the target wrote parsed
 * back into PDUs, the host hanging up, and the introspection exports read as named fields. One
 * machine serves many connections, so thousands of inputs run in seconds.
 */
import * as abi from '../gen/abi.js';
import type { Ptr } from '../gen/spdk-api.js';
import type { EpollEventOut, IoVec, PollFd, SockAddrIn } from '../kernel/host-kernel.js';
import type { SpdkMachine } from '../spdk/machine.js';
import type { Flavor, Variant } from '../spdk/variant.js';
import { World } from '../sim/world.js';
import { SpdkMachine as Machine } from '../spdk/machine.js';
import { loadVariant } from '../spdk/node-loader.js';
import { ScriptedKernel } from './scripted-kernel.js';
import {
  capsule, checkRxPdu, connectCapsule, cqe, HOSTNQN, icreqFor, NO_DIGESTS, NQN, PDU, propertySet, splitPdus,
  type ConnectOpts, type Digests, type RxPdu,
} from './pdu.js';

/** spdk_wasm_nvmf_tcp_qpair_field numbers. */
export const QP = {
  qid: 0, state: 1, tcpState: 2, recvState: 3, resourceCount: 4, outstanding: 5, cntlid: 6, stateCbPending: 7,
  termReqs: 8, lastFes: 9, delayed: 10, invariantViolations: 11, hdgstErrors: 12, ddgstErrors: 13,
  pduWorking: 14, inGroup: 15, leaked: 16, hdgst: 17, ddgst: 18, recvBufSize: 19, pipeBytes: 20,
} as const;

/** spdk_wasm_nvmf_tcp_req_field numbers. */
export const REQ = {
  state: 0, pduInUse: 1, zcopyPhase: 2, hasZcopyIo: 3, cid: 4, opc: 5, length: 6, status: 7, gets: 8,
  puts: 9, outstanding: 10, dataFromPool: 11, ttag: 12,
} as const;

/** enum spdk_nvmf_tcp_req_state. */
export const RS = {
  FREE: 0, NEW: 1, NEED_BUFFER: 2, HAVE_BUFFER: 3, AWAITING_ZCOPY_START: 4, ZCOPY_START_COMPLETED: 5,
  TRANSFERRING_H2C: 6, AWAITING_R2T_ACK: 7, READY_TO_EXECUTE: 8, EXECUTING: 9, AWAITING_ZCOPY_COMMIT: 10,
  EXECUTED: 11, READY_TO_COMPLETE: 12, TRANSFERRING_C2H: 13, AWAITING_ZCOPY_RELEASE: 14, COMPLETED: 15,
} as const;
export const NUM_STATES = 16;

/** enum spdk_nvmf_qpair_state and enum nvmf_tcp_qpair_state. */
export const QPAIR_STATE = { UNINITIALIZED: 0, CONNECTING: 1, AUTHENTICATING: 2, ENABLED: 3, DEACTIVATING: 4, ERROR: 5 } as const;
export const TCP_QP = { INVALID: 0, INITIALIZING: 1, RUNNING: 2, EXITING: 3, EXITED: 4 } as const;
export const RECV = { AWAIT_PDU_READY: 0, AWAIT_PDU_CH: 1, AWAIT_PDU_PSH: 2, AWAIT_REQ: 3, AWAIT_PDU_BUF: 4, AWAIT_PDU_PAYLOAD: 5, QUIESCING: 6, ERROR: 7 } as const;

/** Target counters of spdk_wasm_nvmf_ctrlr_field(-1, n). */
export const TGT = { ctrlrsDestroyed: 0, qpairsDestroyed: 1, bdevIoOutstanding: 2 } as const;

/**
 * The scripted kernel plus what a host needs: the bytes the target sent per socket, a host that
 * hangs up (reads then see EOF, poll POLLHUP, epoll EPOLLIN|EPOLLHUP), and zero-copy sends
 * acknowledged at once when `autoZcopyAck` (the error queue then reports them on the next wait).
 */
export class HostSideKernel extends ScriptedKernel {
  readonly sent = new Map<number, Uint8Array[]>();
  readonly hungUp = new Set<number>();
  readonly closed = new Set<number>();
  lastAccepted = -1;
  autoZcopyAck = true;
  /** With autoZcopyAck off: a zero-copy completion is posted two epoll rounds after its send, so
   *  the host's reply can be read first (the NIC freed the pages after the ACK and the reply had
   *  arrived, which Linux allows: completions come when the skb is freed). */
  zcopyAckAfterRx = false;
  /** fd -> [zero-copy index, epoll rounds since its send]. */
  private readonly lateAcks = new Map<number, [number, number][]>();
  /** When false, sendmsg accepts nothing (EAGAIN): the host stopped reading, nothing is ACKed. */
  flowing = true;
  private readonly zcIdx = new Map<number, number>();
  private readonly unreadBytes = new Map<number, number>();
  private readonly epReg = new Map<number, Map<number, number>>();

  /** Keeps the call log short: thousands of connections would otherwise pile it up. */
  trimCalls(): void {
    this.calls.length = 0;
  }

  override accept(fd: number): { fd: number; peer: SockAddrIn } | number {
    const r = super.accept(fd);
    if (typeof r === 'object') this.lastAccepted = r.fd;
    return r;
  }

  override sendmsg(fd: number, iov: IoVec[], flags: number): number {
    if (this.hungUp.has(fd)) return -abi.EPIPE;
    if (!this.flowing) return -abi.EAGAIN;
    const rc = super.sendmsg(fd, iov, flags);
    if (rc <= 0) return rc;
    const out = this.sent.get(fd) ?? [];
    let left = rc;
    for (const v of iov) {
      if (left <= 0) break;
      const n = Math.min(v.len, left);
      out.push(this.mem!.bytes().slice(v.base, v.base + n));
      left -= n;
    }
    this.sent.set(fd, out);
    if ((flags & abi.MSG_ZEROCOPY) !== 0) {
      const idx = this.zcIdx.get(fd) ?? 0;
      this.zcIdx.set(fd, idx + 1);
      if (this.autoZcopyAck) this.notify(fd, idx, idx);
      else if (this.zcopyAckAfterRx) this.lateAcks.set(fd, [...(this.lateAcks.get(fd) ?? []), [idx, 0]]);
    }
    return rc;
  }

  override pushRx(fd: number, data: Uint8Array): void {
    this.unreadBytes.set(fd, (this.unreadBytes.get(fd) ?? 0) + data.length);
    super.pushRx(fd, data);
  }

  /** Host bytes the target has not read yet. */
  unread(fd: number): number {
    return this.unreadBytes.get(fd) ?? 0;
  }

  override readv(fd: number, iov: IoVec[]): number {
    const r = super.readv(fd, iov);
    if (r > 0) {
      this.unreadBytes.set(fd, (this.unreadBytes.get(fd) ?? 0) - r);
    }
    return r === -abi.EAGAIN && this.hungUp.has(fd) ? 0 : r;
  }

  override recv(fd: number, buf: IoVec, flags: number): number {
    const r = super.recv(fd, buf, flags);
    return r === -abi.EAGAIN && this.hungUp.has(fd) ? 0 : r;
  }

  override poll(fds: PollFd[]): number[] | number {
    const r = super.poll(fds);
    if (typeof r === 'number') return r;
    return r.map((ev, i) => (this.hungUp.has(fds[i]!.fd) ? ev | abi.POLLHUP | abi.POLLIN : ev));
  }

  override close(fd: number): number {
    this.closed.add(fd);
    return super.close(fd);
  }

  override epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number {
    const set = this.epReg.get(epfd) ?? new Map<number, number>();
    if (op === abi.EPOLL_CTL_DEL) set.delete(fd);
    else set.set(fd, data);
    this.epReg.set(epfd, set);
    return super.epollCtl(epfd, op, fd, events, data);
  }

  override epollWait(epfd: number, maxEvents: number): EpollEventOut[] | number {
    // Late completions are posted in the third epoll round after their send: the host's reply to
    // what was sent (read in the second round) gets in first.
    for (const [fd, pend] of this.lateAcks) {
      const keep: [number, number][] = [];
      for (const [idx, age] of pend) {
        if (age + 1 >= 3) this.notify(fd, idx, idx);
        else keep.push([idx, age + 1]);
      }
      if (keep.length > 0) this.lateAcks.set(fd, keep);
      else this.lateAcks.delete(fd);
    }
    const r = super.epollWait(epfd, maxEvents);
    if (typeof r === 'number' || this.hungUp.size === 0) return r;
    for (const [fd, data] of this.epReg.get(epfd) ?? []) {
      if (!this.hungUp.has(fd) || r.length >= maxEvents) continue;
      const hup = abi.EPOLLIN | abi.EPOLLHUP | abi.EPOLLRDHUP;
      const e = r.find((x) => x.data === data);
      if (e !== undefined) e.events |= hup;
      else r.push({ events: hup, data });
    }
    return r;
  }

  /** Drops what is kept for a socket the target closed. */
  forget(fd: number): void {
    this.sent.delete(fd);
    this.hungUp.delete(fd);
    this.closed.delete(fd);
    this.zcIdx.delete(fd);
    this.unreadBytes.delete(fd);
    this.lateAcks.delete(fd);
  }
}

export type TqPtr = Ptr<'spdk_nvmf_tcp_qpair'>;

/** One host connection: the accepted fd, the target's qpair and the negotiated digests. */
export interface Conn {
  fd: number;
  tq: TqPtr;
  dg: Digests;
  /** Chunks of the target's output already parsed by `take`, and an incomplete PDU left over. */
  chunks: number;
  tail: Uint8Array;
  /** Every PDU the target sent on this connection, in order. */
  rx: RxPdu[];
}

export interface TargetOpts {
  variant?: Variant;
  flavor?: Flavor;
  maxQueueDepth?: number;
  inCapsuleDataSize?: number;
  maxIoSize?: number;
  ioUnitSize?: number;
  /** Transport zcopy (the bdev zero-copy path). */
  zcopy?: boolean;
  c2hSuccess?: boolean;
  ackTimeoutMs?: number;
  numSharedBuffers?: number;
  /** MSG_ZEROCOPY on the server sockets (posix enable_zerocopy_send_server). */
  sockZcopy?: boolean;
  /** Zero-copy completions arrive only after the host's next bytes were read (see HostSideKernel). */
  lateZcopyAcks?: boolean;
  blocks?: number;
  blockSize?: number;
  allowAnyHost?: boolean;
}

export class TargetHarness {
  readonly trace: [string, number, number, number, number][] = [];
  keepTrace = false;

  private constructor(readonly world: World, readonly kernel: HostSideKernel, readonly m: SpdkMachine, readonly opts: Required<TargetOpts>) {}

  static async create(o: TargetOpts = {}): Promise<TargetHarness> {
    const opts: Required<TargetOpts> = {
      variant: 'unpatched', flavor: 'release', maxQueueDepth: 16, inCapsuleDataSize: 4096, maxIoSize: 131072,
      ioUnitSize: 131072, zcopy: true, c2hSuccess: true, ackTimeoutMs: 0, numSharedBuffers: 64, sockZcopy: false, lateZcopyAcks: false,
      blocks: 1024, blockSize: 512, allowAnyHost: false, ...o,
    };
    const world = new World(1);
    const kernel = new HostSideKernel();
    const m = await Machine.create({
      world, name: 'tgt', variant: await loadVariant(opts.variant, opts.flavor),
      kernel: (mem) => {
        kernel.mem = mem;
        return kernel;
      },
    });
    world.add(m);
    if (opts.lateZcopyAcks) {
      kernel.autoZcopyAck = false;
      kernel.zcopyAckAfterRx = true;
    }
    const h = new TargetHarness(world, kernel, m, opts);
    m.onTrace = (ev, a, b, c, d) => {
      if (h.keepTrace) h.trace.push([ev, a, b, c, d]);
    };
    const ok = (what: string, rc: number, want = 0): void => {
      if (rc !== want) throw new Error(`${what} returned ${rc}, expected ${want}`);
    };
    ok('spdk_wasm_sock_set_opts', m.api.spdk_wasm_sock_set_opts('posix', opts.sockZcopy ? 1 : 0, 0, 0, 2 << 20, 2 << 20));
    ok('spdk_wasm_bdev_malloc_create', m.api.spdk_wasm_bdev_malloc_create('Malloc0', opts.blocks, opts.blockSize));
    ok('spdk_wasm_nvmf_create_transport', m.api.spdk_wasm_nvmf_create_transport('TCP', opts.maxQueueDepth, opts.inCapsuleDataSize,
      opts.maxIoSize, opts.ioUnitSize, opts.zcopy ? 1 : 0, opts.c2hSuccess ? 1 : 0, opts.ackTimeoutMs, opts.numSharedBuffers));
    ok('spdk_wasm_nvmf_create_subsystem', m.api.spdk_wasm_nvmf_create_subsystem(NQN, opts.allowAnyHost ? 1 : 0));
    ok('spdk_wasm_nvmf_subsystem_add_host', m.api.spdk_wasm_nvmf_subsystem_add_host(NQN, HOSTNQN));
    ok('spdk_wasm_nvmf_subsystem_add_ns', m.api.spdk_wasm_nvmf_subsystem_add_ns(NQN, 'Malloc0', 0), 1);
    ok('spdk_wasm_nvmf_subsystem_add_listener', m.api.spdk_wasm_nvmf_subsystem_add_listener(NQN, '192.0.2.1', '4420'));
    return h;
  }

  // ---- introspection ----

  qpairCount(): number {
    return this.m.api.spdk_wasm_nvmf_tcp_qpair_count();
  }

  /** Every live qpair pointer (never read fields of a freed one: ASan would rightly object). */
  qpairs(): TqPtr[] {
    const n = this.qpairCount();
    return Array.from({ length: n }, (_, i) => this.m.api.spdk_wasm_nvmf_tcp_qpair_get(i));
  }

  alive(c: Conn): boolean {
    return this.qpairs().includes(c.tq);
  }

  /** Host bytes the target has not consumed: still in the kernel, or read ahead into the
   *  socket's receive pipe (posix) but not yet taken by the PDU machine. */
  unconsumed(c: Conn): number {
    const inPipe = this.alive(c) ? this.qf(c.tq, 'pipeBytes') : -1;
    return this.kernel.unread(c.fd) + Math.max(0, inPipe);
  }

  qf(tq: TqPtr, f: keyof typeof QP): number {
    return this.m.api.spdk_wasm_nvmf_tcp_qpair_field(tq, QP[f]);
  }

  stateCount(tq: TqPtr, s: number): number {
    return this.m.api.spdk_wasm_nvmf_tcp_qpair_field(tq, 100 + s);
  }

  rf(tq: TqPtr, idx: number, f: keyof typeof REQ): number {
    return this.m.api.spdk_wasm_nvmf_tcp_req_field(tq, idx, REQ[f]);
  }

  /** Request index holding command `cid` (not FREE), or -1. */
  reqByCid(tq: TqPtr, cid: number): number {
    const n = this.qf(tq, 'resourceCount');
    for (let i = 0; i < n; i++) if (this.rf(tq, i, 'state') !== RS.FREE && this.rf(tq, i, 'cid') === cid) return i;
    return -1;
  }

  ctrlrCount(): number {
    return this.m.api.spdk_wasm_nvmf_ctrlr_count();
  }

  tgt(f: keyof typeof TGT): number {
    return this.m.api.spdk_wasm_nvmf_ctrlr_field(-1, TGT[f]);
  }

  sharedBuffersInUse(): number {
    return this.m.api.spdk_wasm_nvmf_transport_field('TCP', 12);
  }

  heapInUse(): number {
    return this.m.api.spdk_wasm_heap_in_use();
  }

  /** Spec §8(a)8 on one live qpair: counters sum to resource_count, no invariant violation,
   *  pdu_in_use only where a write can be outstanding, FREE entered once per get. */
  invariantProblems(tq: TqPtr): string[] {
    const out: string[] = [];
    const n = this.qf(tq, 'resourceCount');
    let sum = 0;
    for (let s = 0; s < NUM_STATES; s++) sum += this.stateCount(tq, s);
    if (sum !== n) out.push(`state_cntr sums to ${sum}, resource_count is ${n}`);
    if (this.qf(tq, 'invariantViolations') !== 0) out.push(`${this.qf(tq, 'invariantViolations')} invariant violations`);
    const pduStates: number[] = [RS.AWAITING_R2T_ACK, RS.TRANSFERRING_C2H, RS.COMPLETED];
    for (let i = 0; i < n; i++) {
      const st = this.rf(tq, i, 'state');
      if (this.rf(tq, i, 'pduInUse') === 1 && !pduStates.includes(st)) out.push(`req ${i} pdu_in_use in state ${st}`);
      const gets = this.rf(tq, i, 'gets');
      const puts = this.rf(tq, i, 'puts');
      if (puts !== gets - (st === RS.FREE ? 0 : 1)) out.push(`req ${i} state ${st}: ${gets} gets, ${puts} puts`);
    }
    return out;
  }

  /** What is still held after every connection went away (empty when all was released). */
  leakProblems(except?: TqPtr): string[] {
    const out: string[] = [];
    for (const tq of this.qpairs()) {
      if (tq === except) continue;
      const states: string[] = [];
      for (let s = 0; s < NUM_STATES; s++) {
        const c = this.stateCount(tq, s);
        if (c > 0 && s !== RS.FREE) states.push(`${this.m.mem.cstring(this.m.api.spdk_wasm_nvmf_tcp_req_state_name(s) as unknown as number)}=${c}`);
      }
      out.push(`qpair qid ${this.qf(tq, 'qid')} still allocated (state ${this.qf(tq, 'state')}, tcp ${this.qf(tq, 'tcpState')}, recv ${this.qf(tq, 'recvState')}, leaked ${this.qf(tq, 'leaked')}; ${states.join(' ') || 'all FREE'})`);
    }
    const io = this.tgt('bdevIoOutstanding');
    if (io !== 0) out.push(`${io} bdev_io outstanding`);
    const bufs = this.sharedBuffersInUse();
    if (bufs !== 0) out.push(`${bufs} shared buffers in use`);
    return out;
  }

  // ---- the host side ----

  /** Opens a connection and runs until the target accepted it. */
  connect(): Conn {
    const before = this.qpairCount();
    this.kernel.pushAccept();
    this.runUntil(() => this.qpairCount() === before + 1, 1_000_000, 'accept');
    const tq = this.m.api.spdk_wasm_nvmf_tcp_qpair_get(before);
    return { fd: this.kernel.lastAccepted, tq, dg: NO_DIGESTS, chunks: 0, tail: new Uint8Array(0), rx: [] };
  }

  /** Runs until `done()` holds (checked first: World.run only checks after a round) or `maxUs`
   *  of virtual time passed; returns whether it holds. */
  waitFor(done: () => boolean, maxUs: number): boolean {
    if (done()) return true;
    this.world.run(done, this.world.now + maxUs);
    return done();
  }

  runUntil(done: () => boolean, maxUs: number, what: string): void {
    if (!this.waitFor(done, maxUs)) throw new Error(`${what}: not done after ${maxUs} us`);
  }

  /** Runs until nothing is left to do now (or `maxUs` passes). */
  settle(maxUs = 1000): void {
    const until = this.world.now + maxUs;
    this.world.run(() => false, until);
  }

  /** Host bytes into the connection, as one read or split into chunks the target sees apart. */
  send(c: Conn, bytes: Uint8Array | Uint8Array[]): void {
    if (Array.isArray(bytes)) {
      for (const b of bytes) {
        this.kernel.pushRx(c.fd, b);
        this.wake();
        // Until the target read it all, or stopped reading (a target that stopped reading polls
        // busily on the readable socket, so the wait is short).
        this.waitFor(() => this.kernel.unread(c.fd) === 0 || !this.alive(c) || this.qf(c.tq, 'recvState') >= RECV.QUIESCING, 20);
      }
    } else {
      this.kernel.pushRx(c.fd, bytes);
      this.wake();
    }
  }

  /** Something changed in the scripted kernel behind the world's back (bytes arrived, the host
   *  hung up): an event now makes the world poll again instead of resuming an idle round. */
  wake(): void {
    this.world.at(this.world.now, 'host', () => undefined);
  }

  /** Parses new target output on `c` into PDUs (appended to c.rx); returns the new ones. */
  take(c: Conn): RxPdu[] {
    const chunks = this.kernel.sent.get(c.fd);
    if (chunks === undefined || chunks.length === c.chunks) return [];
    const fresh = chunks.slice(c.chunks);
    c.chunks = chunks.length;
    const all = new Uint8Array(c.tail.length + fresh.reduce((n, ch) => n + ch.length, 0));
    all.set(c.tail);
    let o = c.tail.length;
    for (const ch of fresh) {
      all.set(ch, o);
      o += ch.length;
    }
    const { pdus, rest } = splitPdus(all);
    c.tail = rest.slice();
    c.rx.push(...pdus);
    return pdus;
  }

  /** Runs until the target sent `n` more PDUs on `c`; returns them. */
  expectPdus(c: Conn, n: number, maxUs = 200_000, what = 'response'): RxPdu[] {
    const got: RxPdu[] = [];
    this.runUntil(() => {
      got.push(...this.take(c));
      return got.length >= n;
    }, maxUs, `${what} (${got.length}/${n} PDUs)`);
    return got;
  }

  /** Sends and waits for `n` PDUs back, checking each one's framing and digests. */
  exchange(c: Conn, bytes: Uint8Array | Uint8Array[], n: number, what = 'exchange'): RxPdu[] {
    this.send(c, bytes);
    const pdus = this.expectPdus(c, n, 200_000, what);
    for (const p of pdus) {
      const errs = checkRxPdu(p, c.dg);
      if (errs.length > 0) throw new Error(`${what}: ${errs.join('; ')}`);
    }
    return pdus;
  }

  /** ICReq/ICResp negotiating `dg`. */
  icreq(c: Conn, dg: Digests = NO_DIGESTS): void {
    const [r] = this.exchange(c, icreqFor(dg), 1, 'ICReq');
    if (r!.type !== PDU.IC_RESP) throw new Error(`ICReq answered with type ${r!.type}`);
    c.dg = dg;
    this.runUntil(() => this.qf(c.tq, 'tcpState') === TCP_QP.RUNNING, 100_000, 'ICResp written');
  }

  /** Connect on `c`; returns the CQE. */
  fabricConnect(c: Conn, cid: number, o: ConnectOpts = {}): ReturnType<typeof cqe> {
    const [r] = this.exchange(c, connectCapsule(cid, o, c.dg), 1, 'Connect');
    if (r!.type !== PDU.CAPSULE_RESP) throw new Error(`Connect answered with type ${r!.type}`);
    return cqe(r!);
  }

  /** A new admin queue: ICReq, Connect (kato 0 keeps it alive across long virtual waits), CC.EN = 1. */
  adminQueue(dg: Digests = NO_DIGESTS, kato = 0): { c: Conn; cntlid: number } {
    const c = this.connect();
    this.icreq(c, dg);
    const r = this.fabricConnect(c, 1, { qid: 0, kato });
    if (r.sc !== 0 || r.sct !== 0) throw new Error(`admin Connect failed: sct ${r.sct} sc ${r.sc}`);
    const [p] = this.exchange(c, capsule(propertySet(2, 0x14, 1), undefined, dg), 1, 'Property Set CC.EN');
    if (cqe(p!).sc !== 0) throw new Error('Property Set CC.EN failed');
    return { c, cntlid: r.cdw0 & 0xffff };
  }

  /** Property Set CC.EN = 1 as a capsule on `c`. */
  ccEnable(c: Conn, cid: number): Uint8Array {
    return capsule(propertySet(cid, 0x14, 1), undefined, c.dg);
  }

  /** A new I/O queue `qid` of controller `cntlid`. */
  ioQueue(cntlid: number, qid: number, dg: Digests = NO_DIGESTS, o: ConnectOpts = {}): Conn {
    const c = this.connect();
    this.icreq(c, dg);
    const r = this.fabricConnect(c, 1, { qid, cntlid, sqsize: this.opts.maxQueueDepth - 1, ...o });
    if (r.sc !== 0 || r.sct !== 0) throw new Error(`I/O Connect qid ${qid} failed: sct ${r.sct} sc ${r.sc}`);
    return c;
  }

  /** The host goes away (FIN): reads see EOF. */
  hangup(c: Conn): void {
    this.kernel.hungUp.add(c.fd);
    this.wake();
  }

  /** Runs until the qpair of `c` is destroyed, then forgets the socket. */
  awaitGone(c: Conn, maxUs = 60_000_000, what = 'qpair teardown'): void {
    this.runUntil(() => !this.alive(c), maxUs, what);
    this.kernel.forget(c.fd);
  }

  /** The malloc bdev's bytes (a view into guest memory: copy before the next call). */
  disk(): Uint8Array {
    const base = this.m.api.spdk_wasm_bdev_malloc_buf('Malloc0');
    return this.m.mem.bytes().subarray(base, base + this.opts.blocks * this.opts.blockSize);
  }
}
