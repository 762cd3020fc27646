/**
 * tcp-zcopy-disconnect (seed 001, spdk#3309): an NVMe/TCP target with a zcopy transport serves
 * random 4-128 KiB READs at queue depth > 1; the initiator's link goes down while C2HData is in
 * flight. Keep-alive expiry aborts the zcopy READs, which wait in TCP_REQUEST_STATE_COMPLETED with
 * pdu_in_use for a write callback that only the kernel can give: with `ack_timeout` 0 (unpatched)
 * they, the qpair and the controller stay until tcp_retries2 gives up (~924 s); with `ack_timeout`
 * set (patched: TCP_USER_TIMEOUT, SPDK 79606bee4c) the socket fails with ETIMEDOUT within it and
 * everything is released. The fix is configuration, selected by the variant (docs/architecture.md:
 * a fix upstream made in configuration is selected by the variant, the C is the same).
 *
 * The verdict is read from the target's states after 2 x KATO (introspection exports): requests
 * still COMPLETED with pdu_in_use and the qpair and controller still existing is the liveness
 * failure. Controls (spec §8(a)7): `--zcopy false` and `--restore-link-us` below KATO are clean.
 */
import * as abi from '../gen/abi.js';
import type { Kernel } from '../kernel/kernel.js';
import type { SpdkMachine } from '../spdk/machine.js';
import { runToEnd, type RunOptions, type RunResult, type Scenario, type Session } from './contract.js';
import { tcpZcopyDisconnectInfo } from './tcp-zcopy-disconnect.info.js';
import { buildTestbed, finishRun, type Judgement } from './testbed.js';
import { LIVENESS_US, NET_FAULTS, stuckSummary, swarmCounters, swarmFor, type Swarm } from './swarm.js';

const HOST_IP = '192.0.2.1';
const TARGET_IP = '192.0.2.2';
const PORT = '4420';
const SUBNQN = 'nqn.2016-06.io.spdk:cnode1';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:host1';
const KATO_MS = 10_000;
const BLOCK = 512;
const BLOCKS = 16384;
const QD_MAX = 32;
/** spdk_wasm_nvme_ctrlr_field(id, 0): attach states. */
const READY = 2;
const FAILED = 4;
/** The parts of range `r` ([address, length]) that none of `others` covers. */
function uncovered(r: [number, number], others: [number, number][]): [number, number][] {
  let parts: [number, number][] = [r];
  for (const [oa, ol] of others) {
    parts = parts.flatMap(([a, l]): [number, number][] => {
      const lo = Math.max(a, oa);
      const hi = Math.min(a + l, oa + ol);
      if (lo >= hi) return [[a, l]];
      return [[a, lo - a], [hi, a + l - hi]].filter(([, x]) => x! > 0) as [number, number][];
    });
  }
  return parts;
}

/** Request states and fields (spdk_wasm_nvmf_tcp_req_field). */
const TCP_REQUEST_STATE_FREE = 0;
const TCP_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST = 13;
const TCP_REQUEST_STATE_COMPLETED = 15;
const QPAIR_STATES = ['UNINITIALIZED', 'CONNECTING', 'AUTHENTICATING', 'ENABLED', 'DEACTIVATING', 'ERROR'];
const ZCOPY_PHASES = ['NONE', 'INIT', 'EXECUTE', 'END_PENDING', 'COMPLETE', 'INIT_FAILED'];

interface StuckRequest {
  idx: number;
  cid: number;
  state: string;
  pdu_in_use: boolean;
  zcopy_phase: string;
  on_outstanding: boolean;
  length: number;
}

/** The swarm's safety phase, from the attach: the READ load before the cut runs through it. */
const SAFETY_US = 10_000;

export const tcpZcopyDisconnect: Scenario = {
  ...tcpZcopyDisconnectInfo,
  run(opts: RunOptions): Promise<RunResult> {
    return runToEnd(tcpZcopyDisconnect, opts);
  },
  async start(opts: RunOptions): Promise<Session> {
    const p = opts.params;
    const tb = await buildTestbed(opts, {
      mss: p['mss'] as number, latencyUs: p['latency-us'] as number, jitterUs: 0, lossPpm: 0, tsoBytes: 65536,
      machines: [{ name: 'host', ip: HOST_IP }, { name: 'target', ip: TARGET_IP }],
    });
    const host = tb.machine('host');
    const target = tb.machine('target');
    const rng = tb.world.rng;
    // The upstream fix is configuration (docs/architecture.md), selected by the variant's name only here.
    const ackTimeout = opts.variant === 'patched' ? p['ack-timeout-ms'] as number : 0;
    const ok = (m: SpdkMachine, rc: number, what: string): number => {
      if (rc < 0) throw new Error(`${m.name}: ${what} failed with errno ${-rc}`);
      return rc;
    };
    for (const m of [host, target]) ok(m, m.api.spdk_wasm_sock_set_opts('posix', 1, 1, 0, 0, 0), 'sock_impl_set_options');
    ok(target, target.api.spdk_wasm_bdev_malloc_create('Malloc0', BLOCKS, BLOCK), 'bdev_malloc_create');
    ok(target, target.api.spdk_wasm_nvmf_create_transport('TCP', 128, 4096, 131072, 131072, p['zcopy'] ? 1 : 0, 1, ackTimeout, 0), 'nvmf_create_transport');
    ok(target, target.api.spdk_wasm_nvmf_create_subsystem(SUBNQN, 1), 'nvmf_create_subsystem');
    ok(target, target.api.spdk_wasm_nvmf_subsystem_add_ns(SUBNQN, 'Malloc0', 0), 'nvmf_subsystem_add_ns');
    ok(target, target.api.spdk_wasm_nvmf_subsystem_add_listener(SUBNQN, TARGET_IP, PORT), 'nvmf_subsystem_add_listener');
    const id = ok(host, host.api.spdk_wasm_nvme_attach(TARGET_IP, PORT, SUBNQN, HOSTNQN, 0, 0, KATO_MS, 0, 0, 0), 'nvme_attach');
    const buf = host.api.spdk_wasm_malloc(QD_MAX * 131072);

    // The mechanism, as the kernel sees it: the TCP_USER_TIMEOUT the target's C set on its
    // accepted sockets, and whether a zcopy buffer went back to the bdev (spdk_bdev_zcopy_end)
    // while a live connection's send queue still referenced it (it may still be retransmitted).
    const tk = target.kernel as Kernel;
    const accepted: number[] = [];
    const accept = tk.accept.bind(tk);
    tk.accept = (fd) => {
      const r = accept(fd);
      if (typeof r !== 'number') accepted.push(r.fd);
      return r;
    };
    const userTimeoutMs = (): number => Math.max(-1, ...accepted.map((fd) => tk.getsockopt(fd, abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT)).filter((v) => v >= 0));
    let socketUserTimeoutMs = -1;
    const mallocBuf = target.api.spdk_wasm_bdev_malloc_buf('Malloc0');
    const lent = new Map<number, [number, number]>();
    let releasedWhilePinned = 0;
    let pinnedAtRelease = 0;
    const chained = target.onTrace;
    target.onTrace = (ev, a, b, c, d) => {
      chained?.(ev, a, b, c, d);
      if (ev === 'spdk_bdev_zcopy_start') lent.set(a, [mallocBuf + b * BLOCK, c * BLOCK]);
      else if (ev === 'spdk_bdev_zcopy_end') {
        const r = lent.get(a);
        lent.delete(a);
        // Another READ still lent the same blocks may be what the kernel holds: not counted.
        const n = r === undefined ? 0 : uncovered(r, [...lent.values()]).reduce((sum, [at, len]) => sum + tk.pinnedBytes(at, len), 0);
        if (n > 0) {
          releasedWhilePinned++;
          pinnedAtRelease = Math.max(pinnedAtRelease, n);
        }
      }
    };

    const qd = p['queue-depth'] as number;
    const slots: (number | undefined)[] = Array.from({ length: qd }, () => undefined);
    let completed = 0;
    let failed = 0;
    let cutAt = -1;
    let restoredAt = -1;
    let phase: 'attach' | 'load' | 'cut' | 'observe' | 'long' | 'done' = 'attach';
    // Attaching takes some 20 round trips (TCP, ICReq, Connect, the admin commands, the I/O qpair).
    const attachUs = 5e6 + 20 * 2 * (p['latency-us'] as number);
    let observed: Judgement | undefined;
    // Swarm faults hit the READ load before the cut; the cut comes only once they have stopped.
    let swarm: Swarm | undefined;
    let releasedAt = -1;
    const hostNic = tb.nics.get('host')!;

    /** Keeps `qd` random 4-128 KiB READs outstanding on the initiator. */
    const pump = (): void => {
      for (let s = 0; s < qd; s++) {
        const slot = slots[s];
        if (slot !== undefined) {
          const r = host.api.spdk_wasm_nvme_io_result(slot);
          if (r === -abi.EINPROGRESS) continue;
          if (r === 0) completed++;
          else failed++;
          slots[s] = undefined;
        }
        if (phase !== 'load' && phase !== 'cut') continue;
        const blocks = rng.int(1, 32) * 8;
        const lba = rng.int(0, BLOCKS / 8 - blocks / 8) * 8;
        const rc = host.api.spdk_wasm_nvme_io_submit(id, 0, buf + s * 131072, lba, blocks);
        if (rc >= 0) slots[s] = rc;
      }
    };

    /** Notes when the target's I/O qpair is gone. Its teardown traces every step, so the C state
     *  is read again only after rounds that recorded something (the ~924 s run polls 185k rounds). */
    let checkedAtEvent = -1;
    const noteRelease = (): void => {
      if (releasedAt >= 0 || tb.world.trace.count === checkedAtEvent) return;
      checkedAtEvent = tb.world.trace.count;
      if (ioQpair() === undefined) releasedAt = tb.world.now;
    };

    const ioQpair = (): number | undefined => {
      const n = target.api.spdk_wasm_nvmf_tcp_qpair_count();
      for (let i = 0; i < n; i++) {
        const tq = target.api.spdk_wasm_nvmf_tcp_qpair_get(i);
        if (target.api.spdk_wasm_nvmf_tcp_qpair_field(tq, 0) === 1) return tq;
      }
      return undefined;
    };
    const req = (tq: number, i: number, f: number): number => target.api.spdk_wasm_nvmf_tcp_req_field(tq as never, i, f);
    const c2hInFlight = (): boolean => {
      const tq = ioQpair();
      if (tq === undefined) return false;
      const n = target.api.spdk_wasm_nvmf_tcp_qpair_field(tq as never, 4);
      for (let i = 0; i < n; i++) if (req(tq, i, 0) === TCP_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST && req(tq, i, 1) === 1) return true;
      return false;
    };
    const stuck = (): StuckRequest[] => {
      const tq = ioQpair();
      if (tq === undefined) return [];
      const n = target.api.spdk_wasm_nvmf_tcp_qpair_field(tq as never, 4);
      const out: StuckRequest[] = [];
      for (let i = 0; i < n; i++) {
        const st = req(tq, i, 0);
        if (st === TCP_REQUEST_STATE_FREE) continue;
        out.push({
          idx: i, cid: req(tq, i, 4), state: target.mem.cstring(target.api.spdk_wasm_nvmf_tcp_req_state_name(st) as unknown as number),
          pdu_in_use: req(tq, i, 1) === 1, zcopy_phase: ZCOPY_PHASES[req(tq, i, 2)] ?? String(req(tq, i, 2)), on_outstanding: req(tq, i, 10) === 1, length: req(tq, i, 6),
        });
      }
      return out;
    };
    const targetCounters = (): Record<string, number> => ({
      qpairs: target.api.spdk_wasm_nvmf_tcp_qpair_count(),
      controllers: target.api.spdk_wasm_nvmf_ctrlr_count(),
      controllersDestroyed: target.api.spdk_wasm_nvmf_ctrlr_field(-1, 0),
      qpairsDestroyed: target.api.spdk_wasm_nvmf_ctrlr_field(-1, 1),
      bdevIoOutstanding: target.api.spdk_wasm_nvmf_ctrlr_field(-1, 2),
    });

    /** What ended the target's connection, from its kernel's abort counters: the fix's
     *  TCP_USER_TIMEOUT, Linux's tcp_retries2 limit, or neither (keep-alive expiry alone). */
    const releasedBy = (): string => {
      const k = tb.kernelCounters('target');
      if ((k['abortsUserTimeout'] ?? 0) > 0) return `TCP_USER_TIMEOUT of ${ackTimeout} ms aborted the target's socket`;
      if ((k['abortsRetries2'] ?? 0) > 0) return "tcp_retries2 aborted the target's socket";
      return "no TCP timeout fired on the target's socket";
    };

    /** The verdict, from states only. */
    const judge = (): Judgement => {
      const reqs = stuck();
      const tq = ioQpair();
      const c = targetCounters();
      const delayed = tq === undefined ? 0 : target.api.spdk_wasm_nvmf_tcp_qpair_field(tq as never, 10);
      const hung = reqs.filter((r) => r.state === 'TCP_REQ_COMPLETED' && r.pdu_in_use);
      const k = tb.kernelCounters('target');
      const counters: Record<string, number> = {
        ...c, readsCompleted: completed, readsFailed: failed, stuckRequests: hung.length, cutAtUs: cutAt, releasedAtUs: releasedAt, ackTimeoutMs: ackTimeout,
        socketUserTimeoutMs, zcopyReleasedWhilePinned: releasedWhilePinned, pinnedBytesAtRelease: pinnedAtRelease,
        targetAbortsUserTimeout: k['abortsUserTimeout'] ?? 0, targetAborts: k['aborts'] ?? 0,
        ...(swarm !== undefined ? swarmCounters(swarm, tb.links) : {}),
      };
      const after = cutAt < 0 ? 0 : (tb.world.now - cutAt) / 1e6;
      if (hung.length > 0 && tq !== undefined && (c.controllers ?? 0) > 0) {
        const qstate = QPAIR_STATES[target.api.spdk_wasm_nvmf_tcp_qpair_field(tq as never, 1)] ?? '?';
        return {
          verdict: 'reproduced', oracle: 'liveness',
          summary: `${hung.length} zcopy READ(s) stuck in TCP_REQ_COMPLETED with pdu_in_use ${after.toFixed(1)} s after the link went down (2 x KATO = ${(2 * KATO_MS) / 1000} s${ackTimeout > 0 ? `, ack_timeout ${ackTimeout / 1000} s` : ''}); qpair ${qstate}, controller alive, ${c.bdevIoOutstanding} bdev_io held`,
          evidence: {
            requests: hung, others: reqs.filter((r) => !hung.includes(r)), qpairState: qstate, delayedCompletions: delayed,
            destroyWaitsForOutstanding: target.api.spdk_wasm_nvmf_tcp_qpair_field(tq as never, 7) === 1,
            controller: { cntlid: target.api.spdk_wasm_nvmf_ctrlr_field(0, 0), qpairMask: target.api.spdk_wasm_nvmf_ctrlr_field(0, 1), csts: target.api.spdk_wasm_nvmf_ctrlr_field(0, 2) },
            lines: hung.map((r) => `req ${r.idx} cid ${r.cid}: ${r.state}, pdu_in_use, zcopy ${r.zcopy_phase}, on qpair->outstanding: ${r.on_outstanding}, ${r.length} B`),
          },
          counters,
        };
      }
      const clean = reqs.length === 0 && c.bdevIoOutstanding === 0;
      return {
        verdict: clean ? 'clean' : 'reproduced', oracle: 'liveness',
        summary: clean
          ? (tq === undefined ? `every request back to FREE; I/O qpair and controller destroyed${releasedAt >= 0 ? ` ${((releasedAt - cutAt) / 1e6).toFixed(1)} s after the cut` : ''} (${releasedBy()})` : `link back: ${completed} READs completed, every request FREE, qpair ENABLED`)
          : `${reqs.length} request(s) not FREE: ${reqs.map((r) => r.state).join(', ')}`,
        evidence: { requests: reqs, lines: reqs.map((r) => `req ${r.idx} cid ${r.cid}: ${r.state}`) },
        counters,
      };
    };

    const step = (until: number): boolean => {
      for (;;) {
        if (tb.crashed() !== undefined) phase = 'done';
        switch (phase) {
          case 'attach': {
            const st = (): number => host.api.spdk_wasm_nvme_ctrlr_field(id, 0);
            tb.runUntil(() => st() === READY || st() === FAILED || tb.crashed() !== undefined, Math.min(until, attachUs));
            if (st() === READY) {
              phase = 'load';
              swarm = swarmFor(tb.world, opts.seed, p, { links: tb.links, nics: [...tb.nics.values()], disks: [] }, NET_FAULTS, SAFETY_US);
            }
            else if (st() === FAILED || tb.world.now >= attachUs) {
              const f = (n: number) => host.api.spdk_wasm_nvme_ctrlr_field(id, n);
              throw new Error(`initiator did not attach (state ${st()}, nvme_ctrlr_state ${f(1)}, rc ${f(15) | 0}, qpair failure ${f(16)}) at ${tb.world.now} us; ${host.logLines.slice(-3).join(' | ')}`);
            }
            else return false;
            break;
          }
          case 'load': {
            const loaded = (): boolean => completed >= (p['reads-before-cut'] as number) && (swarm === undefined || swarm.stopped);
            const limit = swarm !== undefined ? swarm.liveFromUs + LIVENESS_US : Infinity;
            tb.runUntil(() => {
              if (tb.crashed() !== undefined) return true;
              pump();
              return loaded();
            }, Math.min(until, limit));
            if (swarm !== undefined && !loaded() && tb.world.now >= limit) {
              // The liveness phase of the swarm: the READs stopped completing with no fault left.
              const st = stuckSummary(swarm, tb.world.now, `${completed} of ${p['reads-before-cut'] as number} READs before the cut completed`);
              observed = { verdict: 'reproduced', oracle: 'liveness', summary: st.summary, evidence: { lines: st.lines }, counters: { readsCompleted: completed, readsFailed: failed, ...swarmCounters(swarm, tb.links) } };
              phase = 'done';
              break;
            }
            if (!loaded()) return false;
            phase = 'cut';
            break;
          }
          case 'cut':
            // Down while a C2HData is handed to the socket and not yet acknowledged.
            tb.runUntil(() => {
              if (tb.crashed() !== undefined) return true;
              pump();
              return c2hInFlight();
            }, until);
            if (!c2hInFlight()) return false;
            hostNic.setLink(false);
            cutAt = tb.world.now;
            socketUserTimeoutMs = userTimeoutMs();
            tb.world.record('world', 'link.down', { dev: 'host' });
            phase = 'observe';
            break;
          case 'observe': {
            const restore = p['restore-link-us'] as number;
            // Judged once both releases a healthy target has could have acted: keep-alive expiry
            // (2 x KATO) and, patched, TCP_USER_TIMEOUT (ack_timeout), plus a second to tear down.
            const horizon = cutAt + Math.max(2 * KATO_MS, ackTimeout) * 1000 + 1_000_000;
            const wantRestore = restore > 0 && restoredAt < 0;
            tb.runUntil(() => {
              if (tb.crashed() !== undefined) return true;
              pump();
              noteRelease();
              return wantRestore && tb.world.now >= cutAt + restore;
            }, Math.min(until, wantRestore ? cutAt + restore : horizon));
            if (wantRestore && tb.world.now >= cutAt + restore) {
              hostNic.setLink(true);
              restoredAt = tb.world.now;
              tb.world.record('world', 'link.up', { dev: 'host' });
              break;
            }
            if (tb.world.now < horizon) return false;
            observed = judge();
            phase = p['long-run'] ? 'long' : 'done';
            break;
          }
          case 'long': {
            const end = cutAt + 940_000_000;
            tb.runUntil(() => {
              if (tb.crashed() !== undefined) return true;
              noteRelease();
              return releasedAt >= 0;
            }, Math.min(until, end));
            if (releasedAt < 0 && tb.world.now < end) return false;
            phase = 'done';
            break;
          }
          case 'done':
            return true;
        }
      }
    };

    const result = (): RunResult => finishRun(tb, tcpZcopyDisconnect, (crash) => {
      // What the host saw before the crash still counts (a buffer released while pinned).
      if (crash !== undefined) return { ...crash, counters: { ...crash.counters, zcopyReleasedWhilePinned: releasedWhilePinned, pinnedBytesAtRelease: pinnedAtRelease } };
      const j = observed ?? judge();
      if (phase === 'done' && p['long-run'] && observed?.verdict === 'reproduced') {
        const final = judge();
        return {
          ...j,
          summary: `${j.summary}; ${releasedAt >= 0 ? `released ${((releasedAt - cutAt) / 1e6).toFixed(1)} s after the cut: ${releasedBy()}` : 'still stuck 940 s after the cut'}`,
          evidence: { ...j.evidence, afterRetries2: final.summary },
          counters: { ...j.counters, releasedAtUs: releasedAt, stuckAtEnd: final.counters['stuckRequests'] ?? 0 },
        };
      }
      return j;
    });

    return {
      world: tb.world,
      advance: step,
      result,
      snapshot: () => ({ phase, completed, cutAt, requests: stuck(), ...targetCounters() }),
    };
  },
};
