/**
 * Runs PduFuzzer cases against one target machine and judges each: the target's answer (a
 * C2HTermReq with the right FES/FEI, the right CapsuleResp status, silence, or anything well
 * formed for random mutations), the §8(a)8 invariants while the qpair lives, and afterwards the
 * qpair gone with every request FREE, no bdev_io or shared buffer held, no controller left over,
 * and (release builds) the heap back to where it was. A crash or ASan report fails the case.
 */
import { MachineCrashed } from '../spdk/crash.js';
import { Prng } from '../sim/prng.js';
import { checkRxPdu, cqe, le16, PDU, redigest, termReq, c2hData, r2t, type RxPdu } from './pdu.js';
import { PduFuzzer, split, type FuzzCase, type TargetShape } from './pdu-fuzz.js';
import { TargetHarness, type Conn, type TargetOpts } from './target-harness.node.js';

export interface FuzzReport {
  seed: number;
  flavor: string;
  cases: number;
  failures: { index: number; family: string; problems: string[]; replay: string }[];
  /** Connections after which the target's qpairs, requests, buffers, bdev_io and controllers
   *  were counted back to their idle values. */
  resourceChecks: number;
  /** The last case run, for `fuzz --replay`. */
  last?: { index: number; family: string; setup: string; expect: string; input: string };
  /** Cases per family, and how each ended (the paths that actually fired). */
  families: Record<string, number>;
  outcomes: Record<string, number>;
  termFes: Record<number, number>;
  /** Wall milliseconds spent per family (where the time goes). */
  familyMs: Record<string, number>;
  heapGrowth: number;
  virtualUs: number;
}

const EXIT_TIMEOUT_US = 31_000_000;

export async function runFuzz(seed: number, count: number, opts: TargetOpts = {}): Promise<FuzzReport> {
  const h = await TargetHarness.create({ maxQueueDepth: 16, ...opts });
  const shape: TargetShape = {
    maxQueueDepth: h.opts.maxQueueDepth, inCapsuleDataSize: h.opts.inCapsuleDataSize, maxIoSize: h.opts.maxIoSize,
    blocks: h.opts.blocks, blockSize: h.opts.blockSize,
  };
  const fuzz = new PduFuzzer(seed, shape);
  // The controller I/O queues attach to; kato 0 so the exit timeouts' virtual waits do not expire it.
  const shared = h.adminQueue();
  h.settle();
  const heap0 = h.heapInUse();
  const flavor = opts.flavor ?? 'release';
  const report: FuzzReport = { seed, flavor, cases: 0, failures: [], resourceChecks: 0, families: {}, outcomes: {}, termFes: {}, familyMs: {}, heapGrowth: 0, virtualUs: 0 };
  // Where the runner splits H2CData it sends after an R2T: seeded per run, so a run replays.
  const rng = new Prng((seed ^ 0x5eed) >>> 0);
  let nextQid = 1;
  for (let i = 0; i < count; i++) {
    const c = fuzz.next();
    report.cases++;
    report.families[c.family] = (report.families[c.family] ?? 0) + 1;
    let problems: string[];
    const t0 = performance.now();
    try {
      const qid = nextQid;
      nextQid = (nextQid % 60) + 1;
      problems = runCase(h, c, shared.cntlid, qid, shared.c, report, rng);
    } catch (err) {
      problems = [err instanceof MachineCrashed ? `CRASH: ${err.message}\n${err.report.cStack.join(' < ')}\n${err.report.asanReport ?? ''}` : `harness: ${err instanceof Error ? err.message : String(err)}`];
    }
    report.familyMs[c.family] = (report.familyMs[c.family] ?? 0) + performance.now() - t0;
    const input = c.input.map((b) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : `[after R2T] ${Buffer.from(b.h2cAfterR2t).toString('hex')}`)).join(' | ');
    report.last = { index: i, family: c.family, setup: `${c.setup}, digests ${JSON.stringify(c.dg)}, then ${c.after}`, expect: JSON.stringify(c.expect), input };
    if (problems.length > 0) {
      report.failures.push({ index: i, family: c.family, replay: `npx spdk-wasm fuzz --replay ${fuzzId(flavor, seed, i)}`, problems: [...problems, `input: ${input.slice(0, 800)}`, `setup ${c.setup} dg ${JSON.stringify(c.dg)} expect ${JSON.stringify(c.expect)} after ${c.after}`] });
      // One failure is enough: later cases would inherit its state.
      break;
    }
    h.kernel.trimCalls();
  }
  const heap = h.heapInUse();
  report.heapGrowth = heap0 < 0 ? 0 : heap - heap0;
  report.virtualUs = h.world.now;
  return report;
}

function count(report: FuzzReport, outcome: string): void {
  report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
}

/** A case's id: the flavor, the generator's seed and the case's index in that seed's stream. */
export function fuzzId(flavor: string, seed: number, index: number): string {
  return `${flavor}/${seed}/${index}`;
}

export function runCase(h: TargetHarness, fc: FuzzCase, cntlid: number, qid: number, shared: Conn, report: FuzzReport, fuzzRng: Prng): string[] {
  const problems: string[] = [];
  const c = h.connect();
  if (fc.setup !== 'raw') h.icreq(c, fc.dg);
  else c.dg = fc.dg;
  if (fc.setup === 'admin') {
    const r = h.fabricConnect(c, 1, { qid: 0, kato: 0 });
    if (r.sc !== 0) throw new Error(`admin Connect failed: ${r.sc}`);
    h.exchange(c, h.ccEnable(c, 2), 1, 'CC.EN');
  } else if (fc.setup === 'io') {
    const r = h.fabricConnect(c, 1, { qid, cntlid, sqsize: h.opts.maxQueueDepth - 1 });
    if (r.sc !== 0) throw new Error(`I/O Connect failed: sct ${r.sct} sc ${r.sc}`);
  }
  const before = c.rx.length;
  for (const step of fc.input) {
    if (step instanceof Uint8Array) {
      h.send(c, fc.input.length > 1 ? [step] : step);
      continue;
    }
    // The H2CData goes out once the R2T is in, carrying the R2T's transfer tag.
    let tag: RxPdu | undefined;
    h.waitFor(() => {
      h.take(c);
      tag = c.rx.slice(before).find((p) => p.type === PDU.R2T || p.type === PDU.C2H_TERM_REQ || p.type === PDU.CAPSULE_RESP);
      return tag !== undefined;
    }, 2_000);
    if (tag?.type !== PDU.R2T) {
      problems.push(`no R2T for the write before its H2CData (got ${describe(c.rx.slice(before))})`);
      break;
    }
    const pdu = step.h2cAfterR2t.slice();
    le16(pdu, 10, r2t(tag).ttag);
    redigest(pdu);
    h.send(c, step.split ? split(fuzzRng, pdu) : pdu);
  }
  const e = fc.expect;
  const got = (): RxPdu[] => c.rx.slice(before);
  const respFor = (cid: number): RxPdu | undefined => got().find((p) => p.type === PDU.CAPSULE_RESP && cqe(p).cid === cid);
  const term = (): RxPdu | undefined => got().find((p) => p.type === PDU.C2H_TERM_REQ);
  const okDone = (cid: number): boolean => respFor(cid) !== undefined || got().some((p) => p.type === PDU.C2H_DATA && c2hData(p).cccid === cid && c2hData(p).success);
  const wait = (done: () => boolean, us: number): void => {
    h.waitFor(() => {
      h.take(c);
      return done();
    }, us);
  };

  switch (e.kind) {
    case 'term':
      wait(() => term() !== undefined, 100_000);
      break;
    case 'status':
      wait(() => respFor(e.cid) !== undefined || term() !== undefined, 100_000);
      break;
    case 'ok':
      wait(() => okDone(e.cid) || term() !== undefined, 100_000);
      break;
    default:
      wait(() => term() !== undefined || !h.alive(c), 2_000);
  }
  for (const p of got()) {
    for (const err of checkRxPdu(p, c.dg)) problems.push(`malformed answer: ${err}`);
  }
  const t = term();
  if (t !== undefined) {
    const { fes } = termReq(t);
    report.termFes[fes] = (report.termFes[fes] ?? 0) + 1;
    // Upstream keeps running the request machine until the qpair disconnects: the offending
    // command's error CapsuleResp, and R2T/C2HData of commands already in flight, may follow the
    // C2HTermReq. A second C2HTermReq or an ICResp may not.
    const after = got().slice(got().indexOf(t) + 1);
    if (after.length > 0) count(report, 'PDUs of earlier commands after the C2HTermReq');
    for (const p of after) {
      if (p.type === PDU.C2H_TERM_REQ || p.type === PDU.IC_RESP) problems.push(`${describe([p])} after the C2HTermReq`);
    }
    if (fes < 1 || fes > 6) problems.push(`C2HTermReq FES ${fes} out of range`);
  }
  switch (e.kind) {
    case 'term': {
      if (t === undefined) {
        problems.push(`expected a C2HTermReq FES ${e.fes}, got ${describe(got())}`);
        break;
      }
      const { fes, fei } = termReq(t);
      if (fes !== e.fes) problems.push(`C2HTermReq FES ${fes}, expected ${e.fes}`);
      if (e.fei !== undefined && fei !== e.fei) problems.push(`C2HTermReq FEI ${fei}, expected ${e.fei}`);
      count(report, `term fes ${e.fes}`);
      break;
    }
    case 'status': {
      const r = respFor(e.cid);
      if (r === undefined) {
        problems.push(`expected a CapsuleResp for cid ${e.cid} with sct ${e.sct} sc 0x${e.sc.toString(16)}, got ${describe(got())}`);
        break;
      }
      const q = cqe(r);
      if (q.sct !== e.sct || q.sc !== e.sc) problems.push(`cid ${e.cid}: status sct ${q.sct} sc 0x${q.sc.toString(16)}, expected sct ${e.sct} sc 0x${e.sc.toString(16)}`);
      count(report, `status ${e.sct}/0x${e.sc.toString(16)}${e.closes ? ' + close' : ''}`);
      break;
    }
    case 'ok': {
      if (!okDone(e.cid)) {
        problems.push(`expected cid ${e.cid} to complete, got ${describe(got())}`);
        break;
      }
      const r = respFor(e.cid);
      if (r !== undefined && (cqe(r).sc !== 0 || cqe(r).sct !== 0)) problems.push(`cid ${e.cid} failed: sct ${cqe(r).sct} sc 0x${cqe(r).sc.toString(16)}`);
      if (e.pdus > 0 && got().length !== e.pdus) problems.push(`expected ${e.pdus} PDUs, got ${describe(got())}`);
      count(report, 'ok');
      break;
    }
    case 'silent':
      if (got().length > 0) problems.push(`expected no answer to a truncated PDU, got ${describe(got())}`);
      count(report, 'silent');
      break;
    case 'closes':
      if (got().length > 0) problems.push(`expected no answer to an H2CTermReq, got ${describe(got())}`);
      count(report, 'closed on H2CTermReq');
      break;
    default:
      count(report, t !== undefined ? 'any: term' : got().length > 0 ? 'any: answered' : 'any: silent');
  }
  if (h.alive(c)) problems.push(...h.invariantProblems(c.tq).map((p) => `invariant: ${p}`));

  // The end of the connection: the target closes by itself, or after the host hangs up, or after
  // its 30 s exit timeout when the host just stays.
  const selfClose = e.kind === 'closes' || (e.kind === 'status' && e.closes === true);
  if (selfClose) {
    h.waitFor(() => !h.alive(c), 20_000);
    if (h.alive(c)) problems.push('the target did not close the qpair by itself');
  }
  // Bytes the target will never read keep epoll readable (or, read ahead into the receive pipe,
  // keep the socket on socks_with_data), and SPDK polls busily on them: waiting 30 s of virtual
  // time that way costs minutes, so such a host hangs up instead.
  if (e.kind === 'term' && fc.after === 'timeout' && h.alive(c) && h.unconsumed(c) > 0) count(report, 'timeout skipped: unread bytes');
  else if (e.kind === 'term' && fc.after === 'timeout') {
    h.waitFor(() => !h.alive(c), EXIT_TIMEOUT_US);
    if (h.alive(c)) problems.push('the qpair outlived the 30 s exit timeout after its C2HTermReq');
    else count(report, 'closed by exit timeout');
  }
  if (h.alive(c)) h.hangup(c);
  h.waitFor(() => !h.alive(c), 20_000);
  if (h.alive(c)) problems.push('the qpair outlived the host hanging up');
  h.kernel.forget(c.fd);
  h.settle(100);
  const live = h.qpairs();
  if (live.length !== 1 || live[0] !== shared.tq) problems.push(`${live.length} qpairs live, expected only the shared admin queue`);
  problems.push(...h.leakProblems(shared.tq));
  if (h.ctrlrCount() !== 1) problems.push(`${h.ctrlrCount()} controllers exist, expected only the shared one`);
  report.resourceChecks++;
  return problems;
}

function describe(ps: RxPdu[]): string {
  if (ps.length === 0) return 'nothing';
  return ps.map((p) => {
    switch (p.type) {
      case PDU.C2H_TERM_REQ: return `C2HTermReq(fes ${termReq(p).fes}, fei ${termReq(p).fei})`;
      case PDU.CAPSULE_RESP: {
        const q = cqe(p);
        return `CapsuleResp(cid ${q.cid}, sct ${q.sct}, sc 0x${q.sc.toString(16)})`;
      }
      case PDU.C2H_DATA: return `C2HData(cccid ${c2hData(p).cccid}, ${c2hData(p).datal} B${c2hData(p).success ? ', SUCCESS' : ''})`;
      case PDU.R2T: return `R2T(ttag ${r2t(p).ttag}, ${r2t(p).r2tl} B)`;
      default: return `type 0x${p.type.toString(16)}`;
    }
  }).join(', ');
}
