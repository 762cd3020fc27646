/**
 * replica-verify-race (seed 004): the Longhorn SPDK engine model's ReplicaCreate, EngineCreate and
 * verify() run as explorer tasks (host/explore) against one SPDK target over JSON-RPC. Unpatched,
 * the search finds a schedule where verify removes the replica being created (or, for #13074,
 * writes a stale map back); patched, it finds none within the bound. The verdict is the
 * scenario's check on each run's final state (replica-verify-race-model.ts: judge).
 */
import { Exploration, formatTrace, formatVerdict, randomChooser, replay, runWith, type Chooser, type ExploreReport, type RunReport } from '../explore/explorer.js';
import { createRpcServer } from '../spdk/rpc/index.js';
import { runToEnd, type RunOptions, type RunResult, type Scenario, type Session } from './contract.js';
import { observationLines, raceModel, type RaceBug, type RaceModel, type RaceObservation } from './replica-verify-race-model.js';
import { replicaVerifyRaceInfo } from './replica-verify-race.info.js';
import { buildTestbed, finishRun, type Judgement, type Testbed } from './testbed.js';

const IP = '192.0.2.10';
const MiB = 1 << 20;
/** Runs per slice of the search (a page's step). */
const SLICE_RUNS = 16;

/** The task that took the last step goes on while it can, else the first enabled one. */
const NON_PREEMPTIVE: Chooser = { choose: (c) => (c.last !== undefined && c.enabled.includes(c.last) ? c.last : c.enabled[0]!) };

interface Searched {
  verdict: string;
  /** The search covered what its verdict claims (random: the runs asked for; exhaustive: every
   *  schedule within the bound, not stopped by a limit). */
  complete: boolean;
  violation: RunReport | undefined;
  counters: Record<string, number>;
  observation: RaceObservation | undefined;
  clockUs: number;
}

/** One SPDK target (an lvstore on a memory disk) and the race's explorer scenario on it, the
 *  variant of `opts` selecting the engine's version; also what the explorer bench runs. */
export async function buildRaceModel(opts: RunOptions, bug: RaceBug): Promise<{ tb: Testbed; model: RaceModel }> {
  const tb = await buildTestbed(opts, { machines: [{ name: 'node', ip: IP }], mss: 1448, latencyUs: 1, jitterUs: 0, lossPpm: 0, tsoBytes: 0 });
  const m = tb.machine('node');
  // The lvol library's UUIDs come from a stream the run's seed fixes.
  m.api.spdk_wasm_uuid_set_seed(tb.world.rng.u32(), 0x5ba5e004);
  const rpc = createRpcServer(m, { state: 'runtime' });
  rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 16384, block_size: 4096 });
  rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: MiB });
  return { tb, model: raceModel(rpc, bug, opts.variant === 'patched', IP) };
}

export const replicaVerifyRace: Scenario = {
  ...replicaVerifyRaceInfo,
  run(opts: RunOptions): Promise<RunResult> {
    return runToEnd(replicaVerifyRace, opts);
  },
  async start(opts: RunOptions): Promise<Session> {
    const p = opts.params;
    const bug = p['bug'] as RaceBug;
    const { tb, model } = await buildRaceModel(opts, bug);
    let done: Searched | undefined;

    /** The search, in slices of at most SLICE_RUNS runs so a page can show its count and stay
     *  responsive; `step()` returns the result once the search has ended. */
    const random = p['search'] === 'random';
    const wanted = p['runs'] as number;
    let randomRuns = 0;
    let randomViolation: RunReport | undefined;
    const exploration = random ? undefined : new Exploration(model.scenario, { preemptions: p['bound'] as number, reduction: p['reduction'] as 'sleep-sets' | 'none' });
    const step = (): Searched | undefined => {
      if (exploration !== undefined) {
        if (!exploration.advance(SLICE_RUNS)) return undefined;
        const r: ExploreReport = exploration.report();
        return withReplay(formatVerdict(r), r.violation, {
          schedules: r.schedules, sleepBlocked: r.sleepBlocked, distinctStates: r.distinctStates ?? 0, violatingSchedules: r.violatingSchedules,
          bound: r.bound ?? -1, maxSteps: r.maxSteps,
        }, r.exhaustive);
      }
      for (let k = 0; k < SLICE_RUNS && randomRuns < wanted && randomViolation === undefined; k++) {
        const r = runWith(model.scenario, randomChooser(opts.seed + randomRuns));
        randomRuns++;
        if (r.violation !== undefined) randomViolation = r;
      }
      if (randomRuns < wanted && randomViolation === undefined) return undefined;
      const v = randomViolation;
      const verdict = v === undefined ? `no violation in ${randomRuns} random schedules (seeds ${opts.seed}..${opts.seed + randomRuns - 1})`
        : `${v.violation!.kind} violation in random schedule ${randomRuns} of ${wanted} (seed ${opts.seed + randomRuns - 1}); schedule: ${v.schedule}\n  ${v.violation!.message}`;
      return withReplay(verdict, v, { schedules: randomRuns, violatingSchedules: v === undefined ? 0 : 1 }, true);
    };
    const progress = (): number => exploration !== undefined ? exploration.progress().schedules : randomRuns;
    /** Replays the violating schedule (when clean, the schedule without preemptions) to observe its end. */
    const withReplay = (verdict: string, violation: RunReport | undefined, counters: Record<string, number>, complete: boolean): Searched => {
      const again = violation !== undefined ? replay(model.scenario, violation.schedule) : runWith(model.scenario, NON_PREEMPTIVE);
      if (violation !== undefined && again.hash !== violation.hash) throw new Error(`replica-verify-race: the schedule ${violation.schedule} did not replay to the same trace`);
      return { verdict, complete, violation, counters, observation: model.last(), clockUs: again.clock };
    };

    const judge = (crash: Judgement | undefined): Judgement => {
      if (crash !== undefined) return crash;
      if (done === undefined) return { verdict: 'inconclusive', oracle: 'safety', summary: 'inconclusive: not explored yet', evidence: { missing: 'the search has not run', lines: [] }, counters: {} };
      const s = done;
      const o = s.observation;
      const v = s.violation;
      const lines = [s.verdict.split('\n')[0]!];
      if (v !== undefined) lines.push(`schedule: ${v.schedule}`);
      if (o !== undefined) lines.push(v !== undefined ? 'observed at the end of that schedule:' : 'observed at the end of the schedule without preemptions:', ...observationLines(o).map((l) => `  ${l}`));
      if (v !== undefined) lines.push('trace:', ...formatTrace(v.trace).split('\n'));
      // No violation is clean only when the search covered what it set out to; a search a limit
      // cut short has not shown the absence.
      const verdict = v !== undefined ? 'reproduced' : s.complete ? 'clean' : 'inconclusive';
      return {
        verdict,
        oracle: 'safety',
        summary: v !== undefined ? `${v.violation!.message}` : verdict === 'clean' ? s.verdict : `inconclusive: ${s.verdict}`,
        evidence: {
          bug, search: s.verdict, ...(verdict === 'inconclusive' ? { missing: 'the search stopped before it covered every schedule within the bound' } : {}), schedule: v?.schedule ?? null, explorerHash: v?.hash ?? null, exploredUs: s.clockUs,
          observed: o === undefined ? null : (JSON.parse(JSON.stringify(o)) as Record<string, unknown>),
          lines,
        },
        counters: s.counters,
      };
    };

    return {
      world: tb.world,
      advance(untilUs) {
        // The search has no virtual time of its own: every call makes slices until it ends, or
        // (a page's step) one slice when the caller asks for a bounded step.
        while (done === undefined) {
          done = step();
          if (untilUs !== Infinity) break;
        }
        return done !== undefined;
      },
      result: () => {
        const r = finishRun(tb, replicaVerifyRace, judge);
        return { ...r, simulatedUs: done?.clockUs ?? 0 };
      },
      snapshot: () => ({ verdict: done?.verdict ?? null, schedule: done?.violation?.schedule ?? null, schedulesExplored: progress() }),
    };
  },
};
