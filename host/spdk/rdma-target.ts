/**
 * The RDMA target's state as the host reads it (wasm/api/spdk_wasm_nvmf_rdma.c): the device,
 * poller, qpair and port tables and the counted evidence of struct nvmf_rdma_evidence, by name.
 * What replays and tests judge the target by: nothing here is set by the reader.
 */
import type { SpdkMachine } from './machine.js';

/** struct nvmf_rdma_evidence (wasm/lib/nvmf/rdma_internal.h), in order. */
export const RDMA_EVIDENCE = [
  'pollersCreated', 'pollersFreed', 'devicesCreated', 'devicesDestroyed', 'qpairsCreated', 'qpairsFreed',
  'noPollerFound', 'pollerDestroying', 'addFailed', 'portsRemoved', 'portsBack', 'listenFailed', 'rescans',
  'rescansSkipped', 'createDeviceFailed', 'pollerCreateFailed', 'removals', 'removalsDone', 'connectsRejected',
  'capsulesRejected', 'wcErrors',
] as const;
export type RdmaEvidence = Record<(typeof RDMA_EVIDENCE)[number], number>;

export interface RdmaDeviceRow { serial: number; needDestroy: number; readyToDestroy: number; isReady: number; numSrq: number; ctx: number; pd: number; map: number }
export interface RdmaPollerRow { group: number; serial: number; device: number; needDestroy: number; qpairs: number; cq: number; srq: number; destroyCb: number }
export interface RdmaQpairRow { serial: number; qid: number; state: number; poller: number; toClose: number; error: number; sendDepth: number; qd: number; qpNum: number; lastWqe: number }
export interface RdmaPortRow { retry: number; svc: number; device: number }

const DEVICE_KEYS = ['serial', 'needDestroy', 'readyToDestroy', 'isReady', 'numSrq', 'ctx', 'pd', 'map'] as const;
const POLLER_KEYS = ['group', 'serial', 'device', 'needDestroy', 'qpairs', 'cq', 'srq', 'destroyCb'] as const;
const QPAIR_KEYS = ['serial', 'qid', 'state', 'poller', 'toClose', 'error', 'sendDepth', 'qd', 'qpNum', 'lastWqe'] as const;
const PORT_KEYS = ['retry', 'svc', 'device'] as const;

/** Rows a table export may return at most (the scratch buffer holds ROWS x 10 words). */
const ROWS = 256;

export class RdmaTargetView {
  private scratch = 0;
  constructor(readonly m: SpdkMachine) {}

  private buf(): number {
    if (this.scratch === 0) this.scratch = this.m.call('malloc', ROWS * 10 * 4) >>> 0;
    return this.scratch;
  }

  private table<K extends string>(fn: string, keys: readonly K[]): Record<K, number>[] {
    const p = this.buf();
    const n = this.m.call(fn, p, ROWS);
    if (n < 0) throw new Error(`${fn}: ${n}`);
    const out: Record<K, number>[] = [];
    for (let i = 0; i < Math.min(n, ROWS); i++) {
      const row = {} as Record<K, number>;
      keys.forEach((k, f) => (row[k] = this.m.mem.u32(p + 4 * (i * keys.length + f))));
      out.push(row);
    }
    return out;
  }

  evidence(): RdmaEvidence {
    const p = this.buf();
    const n = this.m.call('spdk_wasm_nvmf_rdma_evidence', p, RDMA_EVIDENCE.length);
    if (n !== RDMA_EVIDENCE.length) throw new Error(`evidence: ${n} counters, expected ${RDMA_EVIDENCE.length}`);
    return Object.fromEntries(RDMA_EVIDENCE.map((k, i) => [k, this.m.mem.u32(p + 4 * i)])) as RdmaEvidence;
  }

  devices(): RdmaDeviceRow[] {
    return this.table('spdk_wasm_nvmf_rdma_devices', DEVICE_KEYS);
  }

  pollers(): RdmaPollerRow[] {
    return this.table('spdk_wasm_nvmf_rdma_pollers', POLLER_KEYS);
  }

  qpairs(): RdmaQpairRow[] {
    return this.table('spdk_wasm_nvmf_rdma_qpairs', QPAIR_KEYS);
  }

  ports(): RdmaPortRow[] {
    return this.table('spdk_wasm_nvmf_rdma_ports', PORT_KEYS);
  }

  /** Memory maps alive (one per live device's PD) and ranges of registered memory. */
  memory(): { maps: number; registered: number } {
    return { maps: this.m.call('spdk_wasm_rdma_utils_num_mem_maps'), registered: this.m.call('spdk_wasm_env_num_mem_registered') };
  }
}
