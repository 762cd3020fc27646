/**
 * The NVMe-oF RDMA target's real C on one machine ("tgt", device mlx5_bond_0 on bond1, removed
 * with its netdev as a bond is) and a scripted NVMe-oF host on another ("ini"), written here in
 * TypeScript against the emulated verbs and RDMA-CM: it connects with the transport's private
 * data, sends capsules and reads responses. The target's tables and counted evidence come from
 * the inspection exports (wasm/api/spdk_wasm_nvmf_rdma.c).
 */
import * as abi from '../../../host/gen/abi.js';
import { Fabric } from '../../../host/net/fabric.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import { RdmaStack } from '../../../host/kernel/rdma/verbs.js';
import type { RcQp } from '../../../host/kernel/rdma/rc-qp.js';
import type { CmEvent } from '../../../host/kernel/rdma/rdma-cm.js';
import type { Wc } from '../../../host/kernel/rdma/verbs-objects.js';
import { World } from '../../../host/sim/world.js';
import { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import {
  RdmaTargetView, type RdmaDeviceRow, type RdmaEvidence, type RdmaPollerRow, type RdmaPortRow, type RdmaQpairRow,
} from '../../../host/spdk/rdma-target.js';
import type { Flavor, Variant } from '../../../host/spdk/variant.js';
import { FakeMemory } from '../kernel/net-harness.js';
import { le16, le32, rd16, rd32 } from '../../../host/fuzz/pdu.js';

export const TGT_IP = '192.0.2.2';
export const INI_IP = '192.0.2.1';
export const DEV = 'mlx5_bond_0';
export const NETDEV = 'bond1';
export const SVC = '4420';

/** NVMe-oF RDMA transport errors in a reject's private data (sts). */
export const RDMA_ERR = { PRIVATE_DATA_LENGTH: 1, RECFMT: 2, QID: 3, HSQSIZE: 4, HRQSIZE: 5, NO_RESOURCES: 6 } as const;

export class RdmaTarget {
  readonly view: RdmaTargetView;
  constructor(
    readonly world: World,
    readonly m: SpdkMachine,
    readonly rt: RdmaStack,
    readonly ri: RdmaStack,
    readonly ini: Kernel,
    readonly memIni: FakeMemory,
  ) {
    this.view = new RdmaTargetView(m);
  }

  evidence(): RdmaEvidence {
    return this.view.evidence();
  }

  devices(): RdmaDeviceRow[] {
    return this.view.devices();
  }

  pollers(): RdmaPollerRow[] {
    return this.view.pollers();
  }

  qpairs(): RdmaQpairRow[] {
    return this.view.qpairs();
  }

  ports(): RdmaPortRow[] {
    return this.view.ports();
  }

  listening(): boolean {
    return this.ports().some((p) => p.retry === 0);
  }

  mapsAlive(): number {
    return this.view.memory().maps;
  }

  get crashed(): boolean {
    return this.m.crash !== undefined;
  }

  /** Runs the world until `cond` holds or the target crashed; throws when neither within forUs. */
  runUntil(cond: () => boolean, forUs = 5_000_000, what = 'condition'): void {
    const out = this.world.run(() => this.crashed || cond(), this.world.now + forUs);
    if (out !== 'done' && !this.crashed) throw new Error(`${what} not reached (${out}) at t=${this.world.now} µs`);
  }

  runFor(us: number): void {
    this.world.run(() => this.crashed, this.world.now + us);
  }

  ifdown(): void {
    this.rt.ifdown(NETDEV);
  }

  ifup(): void {
    this.rt.ifup(NETDEV);
  }

  /** One removal: ifdown, then the target's teardown of the device runs to its end. */
  ifdownAndSettle(): void {
    const before = this.evidence().removalsDone;
    this.ifdown();
    this.runUntil(() => this.evidence().removalsDone > before && this.devices().length === 0, 5_000_000, 'device teardown');
  }

  logs(re: RegExp): string[] {
    return this.m.logLines.filter((l) => re.test(l));
  }
}

export interface TargetOptions {
  variant: Variant;
  flavor?: Flavor;
  seed?: number;
  groups?: number;
  listen?: boolean;
  latencyUs?: number;
  /** false: ifdown only takes the port down (PORT_ERR), as for a device not bound to a bond. */
  removedWithNetdev?: boolean;
}

/** Target with `groups` poll groups, the RDMA transport, a 1 MiB malloc bdev as namespace 1 of
 *  NQN, listening on TGT_IP:4420. */
export async function makeRdmaTarget(o: TargetOptions): Promise<RdmaTarget> {
  const world = new World(o.seed ?? 1);
  const fabric = new Fabric(world);
  const memIni = new FakeMemory(1 << 22);
  const ini = new Kernel(world, 'ini', memIni, fabric);
  const iniDev = ini.addNetDev({ name: 'eth0', addr: INI_IP });
  const ri = new RdmaStack(ini);
  ri.addDevice('mlx5_0', 'eth0');
  let rt: RdmaStack | undefined;
  let tgtDev: ReturnType<Kernel['addNetDev']> | undefined;
  const m = await SpdkMachine.create({
    world,
    name: 'tgt',
    variant: await loadVariant(o.variant, o.flavor ?? 'asan'),
    kernel: (mem) => {
      const k = new Kernel(world, 'tgt', mem, fabric);
      tgtDev = k.addNetDev({ name: NETDEV, addr: TGT_IP });
      rt = new RdmaStack(k);
      rt.addDevice(DEV, NETDEV, { removedWithNetdev: o.removedWithNetdev ?? true });
      return k;
    },
  });
  fabric.connect(iniDev, tgtDev!, { latencyUs: o.latencyUs ?? 5 });
  world.add(m);
  const t = new RdmaTarget(world, m, rt!, ri, ini, memIni);
  ok(m.api.spdk_wasm_nvmf_tgt_init(o.groups ?? 2), 'tgt_init');
  ok(m.api.spdk_wasm_nvmf_create_transport('RDMA', 0, 0, 0, 0, -1, -1, 0, 0), 'create_transport RDMA');
  ok(m.api.spdk_wasm_bdev_malloc_create('Malloc0', 2048, 512), 'malloc bdev');
  ok(m.api.spdk_wasm_nvmf_create_subsystem(NQN, 1), 'subsystem');
  if (m.api.spdk_wasm_nvmf_subsystem_add_ns(NQN, 'Malloc0', 1) !== 1) throw new Error('add_ns');
  if (o.listen ?? true) ok(m.api.spdk_wasm_nvmf_rdma_listen(TGT_IP, SVC), 'listen');
  t.runFor(1000);
  return t;
}

export const NQN = 'nqn.2016-06.io.spdk:cnode1';

function ok(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what}: ${rc}`);
}

/** The NVMe-oF RDMA transport's connect private data (32 bytes). */
export function requestPrivateData(o: { recfmt?: number; qid?: number; hrqsize?: number; hsqsize?: number; cntlid?: number; len?: number } = {}): Uint8Array {
  const d = new Uint8Array(o.len ?? 32);
  const full = new Uint8Array(32);
  le16(full, 0, o.recfmt ?? 0);
  le16(full, 2, o.qid ?? 0);
  le16(full, 4, o.hrqsize ?? 32);
  le16(full, 6, o.hsqsize ?? 31);
  le16(full, 8, o.cntlid ?? 0xffff);
  d.set(full.subarray(0, d.length));
  return d;
}

/** A keyed data block SGL (type 4, subtype 0: address) for a 64-byte SQE at offset 24. */
export function keyedSgl(addr: number, len: number, rkey: number): Uint8Array {
  const s = new Uint8Array(16);
  le32(s, 0, addr);
  le32(s, 4, 0);
  s[8] = len & 0xff;
  s[9] = (len >> 8) & 0xff;
  s[10] = (len >> 16) & 0xff;
  le32(s, 11, rkey);
  s[15] = 0x40;
  return s;
}

/** librdmacm's event number; the active side here goes straight to ESTABLISHED, but a host may see it. */
const RDMA_CM_EVENT_CONNECT_RESPONSE = 5;

const SLOT = 0x2000;
const SLOTS = 16;

/** One host queue pair: a CM id, a QP, 16 capsule slots and 16 response buffers in the host's MR. */
export class HostQpair {
  readonly ch: number;
  id = 0;
  qp: RcQp | undefined;
  pd = 0;
  cq = 0;
  lkey = 0;
  rkey = 0;
  private slot = 0;
  private readonly rspBase: number;
  readonly dataBase: number;
  /** CM events seen, in order. */
  readonly events: CmEvent[] = [];
  readonly responses: Uint8Array[] = [];
  readonly sendWcs: Wc[] = [];

  constructor(readonly t: RdmaTarget, readonly base: number) {
    this.ch = t.ri.cm.createEventChannel().handle;
    this.rspBase = base + SLOT * SLOTS;
    this.dataBase = this.rspBase + 0x1000;
  }

  private nextEvent(forUs = 2_000_000): CmEvent {
    let ev: CmEvent | number = -1;
    this.t.runUntil(() => typeof (ev = this.t.ri.cm.getEvent(this.ch)) !== 'number', forUs, 'CM event');
    if (typeof ev === 'number') throw new Error('no CM event (target crashed?)');
    const e = ev as CmEvent;
    this.t.ri.cm.ackEvent(e.handle);
    this.events.push(e);
    return e;
  }

  /** Resolves, makes the QP and connects with `privateData`; the CM event that ends it
   *  (ESTABLISHED, REJECTED, UNREACHABLE, ...). */
  connect(privateData: Uint8Array = requestPrivateData(), forUs = 2_000_000): CmEvent {
    const ri = this.t.ri;
    this.id = ri.cm.createId(this.ch);
    must(ri.cm.resolveAddr(this.id, TGT_IP, Number(SVC)), 'resolve_addr');
    expectType(this.nextEvent(), abi.RDMA_CM_EVENT_ADDR_RESOLVED);
    must(ri.cm.resolveRoute(this.id), 'resolve_route');
    expectType(this.nextEvent(), abi.RDMA_CM_EVENT_ROUTE_RESOLVED);
    const ctx = ri.cm.id(this.id)!.verbs;
    this.pd = must(ri.allocPd(ctx), 'alloc_pd');
    this.cq = must(ri.createCq(ctx, 256), 'create_cq');
    const mr = ri.regMr(this.pd, this.base, SLOT * SLOTS + 0x1000 + 0x40000, abi.IBV_ACCESS_LOCAL_WRITE | abi.IBV_ACCESS_REMOTE_WRITE | abi.IBV_ACCESS_REMOTE_READ);
    if (typeof mr === 'number') throw new Error(`reg_mr ${mr}`);
    this.lkey = mr.lkey;
    this.rkey = mr.rkey;
    const qp = ri.cm.createQp(this.id, this.pd, { sendCq: this.cq, recvCq: this.cq, caps: { maxSendWr: 32, maxRecvWr: 32, maxSendSge: 2, maxRecvSge: 1 } });
    if (typeof qp === 'number') throw new Error(`create_qp ${qp}`);
    this.qp = qp;
    for (let i = 0; i < SLOTS; i++) this.postRecv(i);
    must(ri.cm.connect(this.id, privateData), 'connect');
    for (;;) {
      const e = this.nextEvent(forUs);
      if (e.type !== RDMA_CM_EVENT_CONNECT_RESPONSE) return e;
    }
  }

  private postRecv(i: number): void {
    const r = this.t.ri.postRecv(this.qp!.handle, [{ wrId: 1000 + i, sgList: [{ addr: this.rspBase + 16 * i, length: 16, lkey: this.lkey }] }]);
    if (r.rc !== 0) throw new Error(`post_recv ${r.rc}`);
  }

  /** Sends one capsule: `bytes` (an SQE, maybe followed by in-capsule data, or anything). */
  send(bytes: Uint8Array): void {
    const addr = this.base + SLOT * (this.slot++ % SLOTS);
    this.t.memIni.u8.set(bytes, addr);
    const r = this.t.ri.postSend(this.qp!.handle, [{ wrId: 1, opcode: abi.IBV_WR_SEND, sendFlags: abi.IBV_SEND_SIGNALED, sgList: [{ addr, length: bytes.length, lkey: this.lkey }] }]);
    if (r.rc !== 0) throw new Error(`post_send ${r.rc}`);
  }

  /** Polls the host CQ once: responses are kept in order, each receive posted again. */
  poll(): void {
    const wcs = this.t.ri.pollCq(this.cq, 32);
    if (typeof wcs === 'number') return;
    for (const wc of wcs) {
      if (wc.opcode === abi.IBV_WC_RECV && wc.status === abi.IBV_WC_SUCCESS) {
        const i = wc.wrId - 1000;
        this.responses.push(this.t.memIni.u8.slice(this.rspBase + 16 * i, this.rspBase + 16 * i + 16));
        this.postRecv(i);
      } else {
        this.sendWcs.push(wc);
      }
    }
  }

  /** Sends a capsule and waits for its response (16-byte CQE). */
  exchange(bytes: Uint8Array, forUs = 1_000_000): Cqe {
    const before = this.responses.length;
    this.send(bytes);
    this.t.runUntil(() => {
      this.poll();
      return this.responses.length > before;
    }, forUs, 'response');
    const r = this.responses[before];
    if (r === undefined) throw new Error('no response (target crashed?)');
    return cqe(r);
  }

  disconnect(): void {
    this.t.ri.cm.disconnect(this.id);
  }
}

export interface Cqe { cdw0: number; sqhd: number; cid: number; sct: number; sc: number }

export function cqe(b: Uint8Array): Cqe {
  const status = rd16(b, 14);
  return { cdw0: rd32(b, 0), sqhd: rd16(b, 8), cid: rd16(b, 12), sc: (status >> 1) & 0xff, sct: (status >> 9) & 0x7 };
}

function must(rc: number, what: string): number {
  if (rc < 0) throw new Error(`${what}: ${rc}`);
  return rc;
}

function expectType(e: CmEvent, type: number): void {
  if (e.type !== type) throw new Error(`expected CM event ${type}, got ${e.type}`);
}
