/** The objects of the emulated verbs: device, context, PD, MR, CQ, completion channel, SRQ and the
 *  work requests and completions they hold. Behaviour lives in verbs.ts and rc-qp.ts. */
import * as abi from '../../gen/abi.js';
import type { NetDev } from '../../net/netdev.js';
import type { KernelFile } from '../kernel-file.js';

export interface Sge {
  addr: number;
  length: number;
  lkey: number;
}

export interface SendWr {
  wrId: number;
  /** IBV_WR_SEND, IBV_WR_RDMA_WRITE or IBV_WR_RDMA_READ. */
  opcode: number;
  sgList: Sge[];
  sendFlags: number;
  remoteAddr?: number;
  rkey?: number;
}

export interface RecvWr {
  wrId: number;
  sgList: Sge[];
}

/** struct ibv_wc, the fields SPDK reads. */
export interface Wc {
  wrId: number;
  status: number;
  opcode: number;
  byteLen: number;
  qpNum: number;
}

export interface AsyncEvent {
  type: number;
  /** Handle of the QP, CQ or SRQ the event is about; 0 for device and port events. */
  element: number;
}

/** A readable-when-non-empty event queue with a descriptor (async fd, channels). */
export class EventFile<T> implements KernelFile {
  readonly events: T[] = [];
  fd = -1;
  isClosed = false;

  pollMask(): number {
    return this.events.length > 0 ? abi.EPOLLIN : 0;
  }

  closed(): void {
    this.isClosed = true;
  }
}

/** One incarnation of an RDMA device: ifdown of a device that goes away with its netdev ends it,
 *  ifup starts a new one under the same name (a new ibv_context on the next open). */
export class RdmaDevice {
  present = true;
  portUp: boolean;
  readonly contexts = new Set<Context>();

  constructor(
    readonly name: string,
    readonly netdev: NetDev,
    /** Counts the incarnations of this name, from 1. */
    readonly generation: number,
    /** Whether ifdown of the netdev removes the device (a bond's RDMA device) or only takes its
     *  port down (a plain RoCE function). */
    readonly removedWithNetdev: boolean,
  ) {
    this.portUp = netdev.up;
  }

  get guid(): string {
    return `${this.name}#${this.generation}`;
  }
}

export class Context {
  /** The device was removed: creations fail with EIO, destructions still succeed (as a
   *  disassociated ucontext behaves). */
  dead = false;
  readonly async = new EventFile<AsyncEvent>();
  readonly pds = new Set<Pd>();
  readonly cqs = new Set<Cq>();
  readonly channels = new Set<CompChannel>();
  /** Async events handed out and not yet acked, per element handle. */
  readonly unacked = new Map<number, number>();

  constructor(readonly handle: number, readonly device: RdmaDevice) {}
}

export class Pd {
  readonly mrs = new Set<Mr>();
  readonly qps = new Set<number>();
  readonly srqs = new Set<Srq>();
  constructor(readonly handle: number, readonly ctx: Context) {}
}

export class Mr {
  constructor(
    readonly handle: number,
    readonly pd: Pd,
    readonly addr: number,
    readonly length: number,
    readonly access: number,
    readonly lkey: number,
    readonly rkey: number,
  ) {}

  covers(addr: number, len: number): boolean {
    return addr >= this.addr && addr + len <= this.addr + this.length;
  }
}

export class CompChannel {
  readonly file = new EventFile<number>(); // CQ handles with a completion event
  cqs = 0;
  constructor(readonly handle: number, readonly ctx: Context) {}
}

export class Cq {
  readonly entries: Wc[] = [];
  armed = false;
  /** QPs and SRQs using this CQ (ibv_destroy_cq refuses while any remains). */
  users = 0;
  overflows = 0;
  unackedEvents = 0;
  constructor(readonly handle: number, readonly ctx: Context, readonly cqe: number, readonly channel: CompChannel | undefined) {}
}

export class Srq {
  readonly queue: RecvWr[] = [];
  qps = 0;
  constructor(readonly handle: number, readonly pd: Pd, readonly maxWr: number, readonly maxSge: number) {}
}
