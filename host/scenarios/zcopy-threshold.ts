/**
 * Replay of seed 000 / spdk#3610: with zero copy on and `zerocopy_threshold` set, a request the kernel
 * takes in two sendmsg() calls — a MSG_ZEROCOPY chunk, then a tail below the threshold sent as a copy —
 * is completed when the copy goes out (pre-fix), before the kernel reported the zero-copy chunk as
 * released. The verify workload poisons the buffer in the completion callback, so the NIC transmits
 * poison (or the next write) in exactly the bytes of the zero-copy chunk. Fix: SPDK a1f20e789f.
 *
 * Verdict: bytes received by the target versus the pattern regenerated here.
 */
import * as abi from '../gen/abi.js';
import type { HostKernel } from '../kernel/host-kernel.js';
import type { SpdkMachine } from '../spdk/machine.js';
import { runToEnd, type RunOptions, type RunResult, type Scenario, type Session } from './contract.js';
import { zcopyThresholdInfo } from './zcopy-threshold.info.js';
import { finishRun, type Judgement } from './testbed.js';
import type { RunOutcome } from '../sim/world.js';
import { diffWrite, fillPattern, type MismatchRange } from './verify-pattern.js';
import { buildZcopyTestbed, startNvmeTcpMode } from './zcopy-threshold-nvme.js';
import { LIVENESS_US, NET_FAULTS, stuckSummary, swarmCounters, swarmFor } from './swarm.js';

const TARGET_IP = '192.0.2.2';
const HOST_IP = '192.0.2.1';
/** Not NVMe/TCP's 4420: this mode sends raw pattern bytes, and tshark would dissect 4420 as NVMe/TCP. */
const PORT = 5201;

/** One sendmsg() the sender's kernel accepted, in stream offsets. */
interface Chunk {
  call: number;
  start: number;
  end: number;
  zc: boolean;
  /** Notification id (only for zero-copy calls). */
  id: number;
}

/** Watches the sender's sendmsg/recvmsg(MSG_ERRQUEUE) at the seam, without changing behaviour. */
class SendWatch {
  chunks: Chunk[] = [];
  streamOffset = 0;
  calls = 0;
  zcCalls = 0;
  copyCalls = 0;
  zcopyFds = new Set<number>();
  notified = new Set<number>();
  notifications = 0;
  sendFd = -1;

  constructor(kernel: HostKernel) {
    const send = kernel.sendmsg.bind(kernel);
    const recv = kernel.recvmsg.bind(kernel);
    const setopt = kernel.setsockopt.bind(kernel);
    kernel.setsockopt = (fd, level, name, value) => {
      const rc = setopt(fd, level, name, value);
      if (rc === 0 && level === abi.SOL_SOCKET && name === abi.SO_ZEROCOPY && value !== 0) this.zcopyFds.add(fd);
      return rc;
    };
    kernel.sendmsg = (fd, iov, flags) => {
      const rc = send(fd, iov, flags);
      if (rc > 0) {
        this.sendFd = fd;
        const zc = (flags & abi.MSG_ZEROCOPY) !== 0 && this.zcopyFds.has(fd);
        this.chunks.push({ call: this.calls, start: this.streamOffset, end: this.streamOffset + rc, zc, id: zc ? this.zcCalls : -1 });
        this.streamOffset += rc;
        if (zc) this.zcCalls++;
        else this.copyCalls++;
        this.calls++;
      }
      return rc;
    };
    kernel.recvmsg = (fd, iov, flags) => {
      const r = recv(fd, iov, flags);
      if (typeof r !== 'number' && r.cmsg !== undefined && (flags & abi.MSG_ERRQUEUE) !== 0) {
        this.notifications++;
        for (let id = r.cmsg.err.ee_info >>> 0; ; id = (id + 1) >>> 0) {
          this.notified.add(id);
          if (id === r.cmsg.err.ee_data >>> 0) break;
        }
      }
      return r;
    };
  }

  chunksOf(start: number, end: number): Chunk[] {
    return this.chunks.filter((c) => c.end > start && c.start < end);
  }
}

export const zcopyThreshold: Scenario = {
  ...zcopyThresholdInfo,
  run(opts: RunOptions): Promise<RunResult> {
    return runToEnd(zcopyThreshold, opts);
  },
  async start(opts: RunOptions): Promise<Session> {
    const p = opts.params;
    if (p['mode'] === 'nvme-tcp') return startNvmeTcpMode(zcopyThreshold, opts, abi);
    const ioSize = p['io-size'] as number;
    const ioCount = p['io-count'] as number;
    const tb = await buildZcopyTestbed(opts, HOST_IP, TARGET_IP);
    const host = tb.machine('host');
    const target = tb.machine('target');
    const watch = new SendWatch(host.kernel);
    const swarm = swarmFor(tb.world, opts.seed, p, { links: tb.links, nics: [...tb.nics.values()], disks: [] }, NET_FAULTS, SOCK_SAFETY_US);
    const deadline = swarm !== undefined ? swarm.liveFromUs + LIVENESS_US : DEADLINE_US;

    const premature: { write: number; pendingIds: number[] }[] = [];
    let completions = 0;
    host.onTrace = (ev, a) => {
      if (ev !== 'sock_verify.complete') return;
      completions++;
      const ids = watch.chunksOf(a * ioSize, (a + 1) * ioSize).filter((c) => c.zc && !watch.notified.has(c.id)).map((c) => c.id);
      if (ids.length > 0) premature.push({ write: a, pendingIds: ids });
    };

    const zc = p['zcopy'] ? 1 : 0;
    for (const m of [host, target]) {
      check(m, m.api.spdk_wasm_sock_set_opts('posix', zc, zc, p['threshold'] as number, p['sndbuf'] as number, 2 * 1024 * 1024), 'spdk_wasm_sock_set_opts');
    }
    const total = ioSize * ioCount;
    check(target, target.api.sock_verify_server_start(TARGET_IP, PORT, total), 'sock_verify_server_start');
    check(host, host.api.sock_verify_client_start(TARGET_IP, PORT, ioSize, ioCount, p['queue-depth'] as number, 0), 'sock_verify_client_start');

    const status = (): number => host.api.sock_verify_client_status();
    const received = (): number => target.api.sock_verify_server_received();
    const receivedBytes = (): Uint8Array => {
      const at = target.api.sock_verify_server_buffer();
      return target.mem.bytes().subarray(at, at + received());
    };
    const finished = (): boolean => tb.crashed() !== undefined || (status() !== 0 && received() >= total);
    let outcome: RunOutcome | undefined;

    const judge = (crash: Judgement | undefined): Judgement => {
      if (crash !== undefined) return crash;
      const got = received();
      const bad = compareWrites(receivedBytes(), ioSize, ioCount, watch);
      const counters = {
        writes: ioCount,
        writesCompleted: completions,
        bytesReceived: got,
        sendmsgCalls: watch.calls,
        sendmsgZeroCopy: watch.zcCalls,
        sendmsgCopy: watch.copyCalls,
        notificationsRead: watch.notifications,
        prematureCompletions: premature.length,
        mismatchedWrites: bad.length,
        // Writes carried by a MSG_ZEROCOPY call and a copy call both: the bug's precondition.
        mixedWrites: Array.from({ length: ioCount }, (_, a) => watch.chunksOf(a * ioSize, (a + 1) * ioSize)).filter((cs) => cs.some((c) => c.zc) && cs.some((c) => !c.zc)).length,
        ...tb.kernelCounters('host'),
        ...(swarm !== undefined ? swarmCounters(swarm, tb.links) : {}),
      };
      // Swarm faults stopped LIVENESS_US ago (or nothing is left to do) and writes are still
      // outstanding: that is the liveness phase's evidence, not an open question.
      if (bad.length === 0 && swarm !== undefined && outcome !== 'done' && outcome !== undefined && status() >= 0) {
        const s = stuckSummary(swarm, tb.world.now, `${ioCount - completions} of ${ioCount} writes outstanding, ${got}/${total} bytes arrived,`);
        return { verdict: 'reproduced', oracle: 'liveness', summary: s.summary, evidence: { stuck: ioCount - completions, lines: s.lines }, counters };
      }
      // Corruption in what arrived is the bug's evidence however the run ended; anything short of
      // every write delivered and verified leaves the question open.
      if (bad.length === 0 && (outcome !== 'done' || status() < 0)) {
        const why = status() < 0 ? `client failed with errno ${-status()}` : `stopped (${outcome === 'deadline' ? `deadline of ${deadline / 1e6} s` : outcome ?? 'still running'}) before all writes completed`;
        const missing = `only ${completions}/${ioCount} writes completed and ${got}/${total} bytes arrived (all intact): the corruption check needs every write`;
        return {
          verdict: 'inconclusive',
          oracle: 'safety',
          summary: `inconclusive: ${why}; ${missing}`,
          evidence: { completed: completions, received: got, expected: total, status: status(), missing, lines: [why, missing] },
          counters,
        };
      }
      if (bad.length === 0) {
        return {
          verdict: 'clean',
          oracle: 'safety',
          summary: `${ioCount} writes of ${ioSize} B verified; ${watch.zcCalls} zero-copy + ${watch.copyCalls} copy sendmsg calls; every completion after its notification`,
          evidence: { mismatchedWrites: 0, prematureCompletions: premature.length, lines: [] },
          counters,
        };
      }
      const first = bad[0]!;
      const r0 = first.ranges[0]!;
      return {
        verdict: 'reproduced',
        oracle: 'safety',
        summary: `${bad.length}/${ioCount} writes corrupted; first: write ${first.write} bytes ${r0.start}..${r0.end - 1} (${r0.inZeroCopyChunk ? 'inside a MSG_ZEROCOPY chunk' : 'NOT only zero-copy'}); ${premature.length} completions before their notification`,
        evidence: { mismatches: bad.slice(0, 8), mismatchedWrites: bad.length, prematureCompletions: premature.slice(0, 8), lines: evidenceLines(bad, premature, ioSize) },
        counters,
      };
    };

    return {
      world: tb.world,
      advance(untilUs) {
        if (outcome !== undefined) return true;
        const limit = Math.min(untilUs, deadline);
        const r = tb.runUntil(finished, limit);
        if (r === 'done' || r === 'quiescent' || tb.world.now >= deadline) outcome = r;
        return outcome !== undefined;
      },
      result: () => finishRun(tb, zcopyThreshold, judge),
      snapshot() {
        if (tb.crashed() !== undefined) return { crashed: true };
        const got = receivedBytes();
        const writes = [];
        for (let w = 0; w < ioCount && w * ioSize < got.length; w++) {
          const bytes = got.subarray(w * ioSize, Math.min(got.length, (w + 1) * ioSize));
          writes.push({ write: w, received: bytes.length, mismatches: diffWrite(bytes, w) });
        }
        return {
          ioSize,
          ioCount,
          completions,
          clientStatus: status(),
          bytesReceived: got.length,
          writes,
          chunks: watch.chunks.slice(-64),
          notified: watch.notifications,
          premature: premature.slice(-16),
          slots: Array.from({ length: p['queue-depth'] as number }, (_, slot) => host.api.sock_verify_client_buffer(slot)),
        };
      },
    };
  },
};

/** Virtual-time budget of one run: far beyond any healthy run, so hitting it means stuck. */
const DEADLINE_US = 120e6;
/** The swarm's safety phase: a healthy run of the defaults takes about 2 ms of virtual time. */
const SOCK_SAFETY_US = 5_000;

interface RangeEvidence extends MismatchRange {
  expected: string;
  received: string;
  inZeroCopyChunk: boolean;
  chunks: { call: number; zc: boolean; id: number; start: number; end: number }[];
}

interface WriteEvidence {
  write: number;
  ranges: RangeEvidence[];
}

function compareWrites(buf: Uint8Array, ioSize: number, ioCount: number, watch: SendWatch): WriteEvidence[] {
  const out: WriteEvidence[] = [];
  for (let w = 0; w < ioCount; w++) {
    const got = buf.subarray(w * ioSize, Math.min(buf.length, (w + 1) * ioSize));
    const ranges = diffWrite(got, w);
    if (ranges.length === 0) continue;
    out.push({
      write: w,
      ranges: ranges.slice(0, 4).map((r) => {
        const chunks = watch.chunksOf(w * ioSize + r.start, w * ioSize + r.end).map((c) => ({
          call: c.call, zc: c.zc, id: c.id, start: c.start - w * ioSize, end: c.end - w * ioSize,
        }));
        const exp = new Uint8Array(16);
        fillPattern(exp, w, r.start & ~3);
        return {
          ...r,
          expected: hex(exp.subarray(r.start & 3, (r.start & 3) + Math.min(12, r.end - r.start))),
          received: hex(got.subarray(r.start, r.start + Math.min(12, r.end - r.start))),
          inZeroCopyChunk: chunks.length > 0 && chunks.every((c) => c.zc),
          chunks,
        };
      }),
    });
  }
  return out;
}

function evidenceLines(bad: WriteEvidence[], premature: { write: number; pendingIds: number[] }[], ioSize: number): string[] {
  const lines: string[] = [];
  for (const w of bad.slice(0, 3)) {
    for (const r of w.ranges.slice(0, 2)) {
      lines.push(`write ${w.write}: bytes ${r.start}..${r.end - 1} of ${ioSize} differ: expected ${r.expected} received ${r.received}`);
      for (const g of groupChunks(r.chunks)) {
        const calls = g.first.call === g.last.call ? `sendmsg #${g.first.call}` : `sendmsg #${g.first.call}..#${g.last.call}`;
        const mode = g.first.zc ? `MSG_ZEROCOPY, id${g.first.id === g.last.id ? ` ${g.first.id}` : `s ${g.first.id}..${g.last.id}`}` : 'copy';
        lines.push(`  sent by ${calls} (${mode}) covering bytes ${Math.max(0, g.first.start)}..${Math.min(ioSize, g.last.end) - 1} of the write`);
      }
    }
  }
  if (bad.length > 3) lines.push(`... and ${bad.length - 3} more corrupted writes`);
  const pm = premature[0];
  if (pm !== undefined) lines.push(`write ${pm.write} completed while zero-copy id(s) ${pm.pendingIds.join(',')} were not yet notified (${premature.length} such completions)`);
  return lines;
}

/** Consecutive chunks of the same mode, so evidence reads "sendmsg #16..#40 (MSG_ZEROCOPY, ids 14..38)". */
function groupChunks<C extends { call: number; zc: boolean; id: number; start: number; end: number }>(chunks: C[]): { first: C; last: C }[] {
  const out: { first: C; last: C }[] = [];
  for (const c of chunks) {
    const g = out[out.length - 1];
    if (g !== undefined && g.last.zc === c.zc && g.last.call + 1 === c.call) g.last = c;
    else out.push({ first: c, last: c });
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function check(m: SpdkMachine, rc: number, what: string): void {
  if (rc < 0) throw new Error(`${m.name}: ${what} failed with errno ${-rc}`);
}

