/**
 * The NVMe/TCP mode of the zcopy-threshold replay (issue 3 item 7): seed 000's bug end to end through
 * the real target. bdevperf verify (128 KiB I/O, unique data per write) runs on an initiator machine
 * against an nvmf target machine with a malloc bdev; both posix sock layers use zero copy with
 * `zerocopy_threshold` 8 KiB. A read's C2HData PDU (24 B header + 128 KiB) is taken by the target's
 * kernel in two sendmsg() calls — a MSG_ZEROCOPY chunk up to SO_SNDBUF, then a tail below the
 * threshold sent as a copy. Unpatched, the tail completes the sock request before the kernel released
 * the zero-copy chunk; the target then sends the CapsuleResp, frees the request and gives its data
 * buffer back to the pool, which poisons it (as the upstream repro poisons after completion). The NIC,
 * which reads zero-copy bytes lazily, transmits poison; the initiator's verify sees it. Patched, the
 * request waits for the notification and every byte verifies.
 *
 * Also exports `setupNvmeTcp`, the two-machine set-up (target: malloc bdev, subsystem, TCP listener;
 * initiator: attached controller) the NVMe/TCP tests use.
 */
import type { Kernel } from '../kernel/kernel.js';
import type { SpdkMachine } from '../spdk/machine.js';
import type { RunOutcome } from '../sim/world.js';
import type { ParamValue, RunOptions, Scenario, Session } from './contract.js';
import { buildTestbed, finishRun, type Judgement, type Testbed } from './testbed.js';
import { LIVENESS_US, NET_FAULTS, stuckSummary, swarmCounters, swarmFor, swarmOn, type Swarm } from './swarm.js';

export const NVME_TARGET_IP = '192.0.2.2';
export const NVME_HOST_IP = '192.0.2.1';
export const NVME_PORT = '4420';
export const NVME_SUBNQN = 'nqn.2016-06.io.spdk:cnode1';
export const NVME_HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:spdk-wasm-host';

/** Attach states (enum nvme_bdev_ctrlr_state). */
export const ATTACH = { ATTACHING: 0, CONNECTING_IO: 1, READY: 2, RESETTING: 3, FAILED: 4, DETACHED: 5 } as const;

export interface NvmeTcpSetup {
  /** Malloc bdev size on the target. */
  blocks?: number;
  blockSize?: number;
  /** Target transport: zcopy through the bdev (ZCOPY) instead of pool buffers. */
  transportZcopy?: boolean;
  inCapsuleDataSize?: number;
  maxIoSize?: number;
  ioUnitSize?: number;
  c2hSuccess?: boolean;
  /** posix sock options on both machines. */
  sockZcopy?: boolean;
  threshold?: number;
  sndbuf?: number;
  /** Initiator options. */
  hdgst?: boolean;
  ddgst?: boolean;
  ioZcopy?: boolean;
  disableSqFc?: boolean;
  ackTimeoutExp?: number;
  katoMs?: number;
  reconnectDelayMs?: number;
  maxReconnects?: number;
  /** Poll the I/O qpair directly instead of through an NVMe poll group (not upstream's bdev_nvme). */
  noPollGroup?: boolean;
  /** Target: poison pool buffers when released (seed-000 repro). */
  poison?: boolean;
}

function check(m: SpdkMachine, rc: number, what: string): number {
  if (rc < 0) throw new Error(`${m.name}: ${what} failed with errno ${-rc}`);
  return rc;
}

/** Configures the target and starts attaching the initiator; returns the controller id. */
export function setupNvmeTcp(target: SpdkMachine, host: SpdkMachine, o: NvmeTcpSetup = {}): number {
  const zc = o.sockZcopy ?? true ? 1 : 0;
  for (const m of [host, target]) {
    check(m, m.api.spdk_wasm_sock_set_opts('posix', zc, zc, o.threshold ?? 0, o.sndbuf ?? 0, 0), 'spdk_wasm_sock_set_opts');
  }
  check(target, target.api.spdk_wasm_bdev_malloc_create('Malloc0', o.blocks ?? 2048, o.blockSize ?? 512), 'bdev_malloc_create');
  check(target, target.api.spdk_wasm_nvmf_create_transport('TCP', 128, o.inCapsuleDataSize ?? 4096, o.maxIoSize ?? 131072,
    o.ioUnitSize ?? 131072, o.transportZcopy ? 1 : 0, o.c2hSuccess === undefined ? -1 : o.c2hSuccess ? 1 : 0, 0, 0), 'nvmf_create_transport');
  check(target, target.api.spdk_wasm_nvmf_create_subsystem(NVME_SUBNQN, 1), 'nvmf_create_subsystem');
  check(target, target.api.spdk_wasm_nvmf_subsystem_add_ns(NVME_SUBNQN, 'Malloc0', 0), 'nvmf_subsystem_add_ns');
  check(target, target.api.spdk_wasm_nvmf_subsystem_add_listener(NVME_SUBNQN, NVME_TARGET_IP, NVME_PORT), 'nvmf_subsystem_add_listener');
  target.api.spdk_wasm_nvmf_set_buffer_poison(o.poison ? 1 : 0);
  const flags = (o.hdgst ? 1 : 0) | (o.ddgst ? 2 : 0) | (o.ioZcopy === false ? 4 : 0) | (o.disableSqFc ? 8 : 0) | (o.noPollGroup ? 16 : 0);
  return check(host, host.api.spdk_wasm_nvme_attach(NVME_TARGET_IP, NVME_PORT, NVME_SUBNQN, NVME_HOSTNQN, flags,
    o.ackTimeoutExp ?? 0, o.katoMs ?? 10000, o.reconnectDelayMs ?? 100, o.maxReconnects ?? 0, 0), 'spdk_wasm_nvme_attach');
}

/** Runs the world until the controller is READY (or FAILED); returns the attach state. */
export function waitAttached(tb: Testbed, host: SpdkMachine, id: number, budgetUs = 5e6): number {
  const state = (): number => host.api.spdk_wasm_nvme_ctrlr_field(id, 0);
  tb.runUntil(() => state() === ATTACH.READY || state() === ATTACH.FAILED || tb.crashed() !== undefined, tb.world.now + budgetUs);
  return state();
}

/** One sendmsg() the target's kernel accepted, in stream offsets. */
interface Chunk { fd: number; start: number; end: number; zc: boolean; id: number }

/** Watches the target's sendmsg and error queue (as the sock mode's SendWatch does for its sender). */
class TargetSendWatch {
  chunks: Chunk[] = [];
  offset = new Map<number, number>();
  /** Socket fds in order of their first sendmsg. */
  fdOrder: number[] = [];
  zcCalls = 0;
  copyCalls = 0;
  notified = new Set<number>();
  zcIds = new Map<number, number>();

  constructor(kernel: Kernel, private readonly zcFlag: number, private readonly errqueueFlag: number) {
    const send = kernel.sendmsg.bind(kernel);
    const recv = kernel.recvmsg.bind(kernel);
    kernel.sendmsg = (fd, iov, flags) => {
      const rc = send(fd, iov, flags);
      if (rc > 0) {
        if (!this.offset.has(fd)) this.fdOrder.push(fd);
        const at = this.offset.get(fd) ?? 0;
        const zc = (flags & this.zcFlag) !== 0;
        const id = zc ? this.zcIds.get(fd) ?? 0 : -1;
        if (zc) this.zcIds.set(fd, id + 1);
        this.chunks.push({ fd, start: at, end: at + rc, zc, id: zc ? fd * 1e6 + id : -1 });
        this.offset.set(fd, at + rc);
        if (zc) this.zcCalls++;
        else this.copyCalls++;
      }
      return rc;
    };
    kernel.recvmsg = (fd, iov, flags) => {
      const r = recv(fd, iov, flags);
      if (typeof r !== 'number' && r.cmsg !== undefined && (flags & this.errqueueFlag) !== 0) {
        for (let id = r.cmsg.err.ee_info >>> 0; ; id = (id + 1) >>> 0) {
          this.notified.add(fd * 1e6 + id);
          if (id === r.cmsg.err.ee_data >>> 0) break;
        }
      }
      return r;
    };
  }
}

const DEADLINE_US = 120e6;
/** The swarm's safety phase, from the attach: the default verify's I/O takes a few ms of virtual time. */
const NVME_SAFETY_US = 10_000;

/** A host and a target machine (both modes) on a link shaped by the replay's --mss, --latency-us,
 *  --jitter-us, --loss-ppm and --tso. */
export function buildZcopyTestbed(opts: RunOptions, hostIp: string, targetIp: string): Promise<Testbed> {
  const p = opts.params;
  return buildTestbed(opts, {
    mss: p['mss'] as number,
    latencyUs: p['latency-us'] as number,
    jitterUs: p['jitter-us'] as number,
    lossPpm: p['loss-ppm'] as number,
    tsoBytes: p['tso'] as number,
    machines: [
      { name: 'host', ip: hostIp },
      { name: 'target', ip: targetIp },
    ],
  });
}

/** zcopy-threshold --mode nvme-tcp. */
export async function startNvmeTcpMode(scenario: Scenario, opts: RunOptions, abi: { MSG_ZEROCOPY: number; MSG_ERRQUEUE: number }): Promise<Session> {
  const p = opts.params;
  const ioSize = p['io-size'] as number;
  const ioCount = p['io-count'] as number;
  const qd = p['queue-depth'] as number;
  const tb = await buildZcopyTestbed(opts, NVME_HOST_IP, NVME_TARGET_IP);
  const host = tb.machine('host');
  const target = tb.machine('target');
  const watch = new TargetSendWatch(target.kernel, abi.MSG_ZEROCOPY, abi.MSG_ERRQUEUE);

  // Each target qpair writes its own stream: PDUs queue in order, so a PDU's stream range is the
  // sum of the plen before it. Qpairs and socket fds pair up in order of first use (ICResp first).
  const streamAt = new Map<number, number>();
  const qpairOrder: number[] = [];
  const c2hRange = new Map<number, { tq: number; start: number; end: number }>();
  let premature = 0;
  let c2hCompletions = 0;
  target.onTrace = (ev, a, b, c, d) => {
    if (ev === 'nvmf_tcp_write_pdu') {
      if (!streamAt.has(a)) qpairOrder.push(a);
      const start = streamAt.get(a) ?? 0;
      streamAt.set(a, start + c);
      if (b === 0x07) c2hRange.set(d, { tq: a, start, end: start + c });
    } else if (ev === '_req_pdu_write_done') {
      const r = c2hRange.get(a);
      if (r === undefined) return;
      c2hRange.delete(a);
      c2hCompletions++;
      const fd = watch.fdOrder[qpairOrder.indexOf(r.tq)];
      const pending = watch.chunks.some((ch) => ch.fd === fd && ch.zc && ch.end > r.start && ch.start < r.end && !watch.notified.has(ch.id));
      if (pending) premature++;
    }
  };

  const id = setupNvmeTcp(target, host, {
    sockZcopy: p['zcopy'] as boolean,
    threshold: p['threshold'] as number,
    sndbuf: p['sndbuf'] as number,
    poison: true,
    maxIoSize: Math.max(131072, ioSize),
    ioUnitSize: Math.max(131072, ioSize),
  });
  check(host, host.api.spdk_wasm_bdevperf_start(id, 0, ioSize, qd, 0, 0, ioCount, opts.seed, 1), 'bdevperf_start');
  // Swarm faults start once the controller is attached, so the safety phase covers the verify's
  // traffic rather than the idle waits of the attach.
  let swarm: Swarm | undefined;
  let deadline = DEADLINE_US;
  const attached = (): boolean => host.api.spdk_wasm_nvme_ctrlr_field(id, 0) === ATTACH.READY;

  const status = (): number => host.api.spdk_wasm_bdevperf_status();
  const counter = (c: number): number => host.api.spdk_wasm_bdevperf_counter(c);
  const finished = (): boolean => tb.crashed() !== undefined || status() !== 0;
  let outcome: RunOutcome | undefined;

  const judge = (crash: Judgement | undefined): Judgement => {
    if (crash !== undefined) return crash;
    const reads = counter(3);
    const miscompares = counter(8);
    const counters: Record<string, number> = {
      submitted: counter(0),
      ios: counter(1),
      outstanding: counter(9),
      writes: counter(4),
      reads,
      verified: counter(7),
      miscompares,
      failed: counter(2),
      poisonWords: counter(14),
      targetSendmsgZeroCopy: watch.zcCalls,
      targetSendmsgCopy: watch.copyCalls,
      c2hCompletions,
      prematureC2hCompletions: premature,
      ...tb.kernelCounters('target'),
      ...(swarm !== undefined ? swarmCounters(swarm, tb.links) : swarmOn(p) ? { 'swarm.faults': 0 } : {}),
    };
    const st = status();
    // Every I/O bdevperf issued ends verified, miscompared or failed (or is still outstanding);
    // a summary names them all, so a failed read is never hidden behind "verified".
    const failed = counter(2);
    const outstanding = counter(9);
    const tally = `${counter(7)} verified, ${miscompares} miscompared, ${failed} failed${outstanding > 0 ? `, ${outstanding} outstanding` : ''} of ${counter(0)} I/Os`;
    // The liveness phase: faults stopped LIVENESS_US ago (or nothing is left to do) and bdevperf
    // has not finished: its outstanding I/Os are stuck.
    if (miscompares === 0 && swarm !== undefined && outcome !== undefined && outcome !== 'done' && st >= 0) {
      const s = stuckSummary(swarm, tb.world.now, `bdevperf not finished (${tally}; attach state ${host.api.spdk_wasm_nvme_ctrlr_field(id, 0)})`);
      return { verdict: 'reproduced', oracle: 'liveness', summary: s.summary, evidence: { stuck: outstanding, lines: s.lines }, counters };
    }
    if (miscompares === 0 && (outcome !== 'done' || st < 0 || counter(7) === 0)) {
      const why = st < 0 ? `bdevperf failed with errno ${-st}` : outcome === 'done' ? 'no read was verified' : `stopped (${outcome === 'deadline' ? `deadline of ${deadline / 1e6} s` : outcome ?? 'still running'}) before bdevperf finished`;
      const missing = `${tally}, no miscompare seen: too few reads were verified to judge`;
      return { verdict: 'inconclusive', oracle: 'safety', summary: `inconclusive: ${why}; ${missing}`, evidence: { status: st, missing, lines: [why, missing] }, counters };
    }
    if (miscompares === 0) {
      return {
        verdict: 'clean',
        oracle: 'safety',
        summary: `${reads} reads of ${ioSize} B over NVMe/TCP: ${tally}; ${watch.zcCalls} zero-copy + ${watch.copyCalls} copy target sendmsg calls; ${premature} premature C2H completions`,
        evidence: { miscompares: 0, failed, prematureC2hCompletions: premature, lines: failed > 0 ? [tally] : [] },
        counters,
      };
    }
    const mis = [];
    for (let i = 0; i < 16; i++) {
      if (host.api.spdk_wasm_bdevperf_miscompare(i, 0) < 0) break;
      const f = (k: number): number => host.api.spdk_wasm_bdevperf_miscompare(i, k);
      const bytes = (base: number): string => Array.from({ length: 12 }, (_, j) => f(base + j).toString(16).padStart(2, '0')).join(' ');
      mis.push({ io: f(0), write: f(1), offsetBlocks: f(2), firstByte: f(3), lastByte: f(4), badBytes: f(5), poisonWords: f(6), expected: bytes(16), received: bytes(32) });
    }
    const m0 = mis[0]!;
    const lines = mis.slice(0, 3).map((m) => `read of write ${m.write} (offset ${m.offsetBlocks} blocks): bytes ${m.firstByte}..${m.lastByte} of ${ioSize} differ (${m.poisonWords} poison words): expected ${m.expected} received ${m.received}`);
    lines.push(`${premature} of ${c2hCompletions} C2HData sock requests completed before their MSG_ZEROCOPY notification; the target then freed (and poisoned) the data buffer`);
    return {
      verdict: 'reproduced',
      oracle: 'safety',
      summary: `Buffer mismatch on read of write ${m0.write}: bytes ${m0.firstByte}..${m0.lastByte} (${m0.poisonWords} poison words); ${tally}; ${premature} premature C2H completions`,
      evidence: { miscompares: mis, prematureC2hCompletions: premature, lines },
      counters,
    };
  };

  return {
    world: tb.world,
    advance(untilUs) {
      if (outcome !== undefined) return true;
      if (swarmOn(p) && swarm === undefined) {
        const r0 = tb.runUntil(() => finished() || attached(), Math.min(untilUs, deadline));
        if (attached() && !finished()) {
          swarm = swarmFor(tb.world, opts.seed, p, { links: tb.links, nics: [...tb.nics.values()], disks: [] }, NET_FAULTS, NVME_SAFETY_US);
          deadline = swarm!.liveFromUs + LIVENESS_US;
        } else if (!finished()) {
          if (r0 === 'quiescent' || tb.world.now >= deadline) outcome = r0;
          return outcome !== undefined;
        }
      }
      const r = tb.runUntil(finished, Math.min(untilUs, deadline));
      if (r === 'done' || r === 'quiescent' || tb.world.now >= deadline) outcome = r;
      return outcome !== undefined;
    },
    result: () => finishRun(tb, scenario, judge),
    snapshot() {
      if (tb.crashed() !== undefined) return { crashed: true };
      return {
        mode: 'nvme-tcp',
        ioSize,
        status: status(),
        counters: Object.fromEntries(Array.from({ length: 15 }, (_, i) => [String(i), counter(i)])),
        attach: host.api.spdk_wasm_nvme_ctrlr_field(id, 0),
        premature,
      };
    },
  };
}

export type { ParamValue };
