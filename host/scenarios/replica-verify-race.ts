/**
 * replica-verify-race (seed 004): the Longhorn SPDK engine model's ReplicaCreate, EngineCreate and
 * verify() run as explorer tasks (host/explore) against one SPDK target over JSON-RPC. Unpatched,
 * the search finds a schedule where verify removes the replica being created (or, for #13074,
 * writes a stale map back); patched, it finds none within the bound. The verdict is the
 * scenario's check on each run's final state (replica-verify-race-model.ts: judge).
 */
import { explore, formatTrace, formatVerdict, replay, runWith, searchRandom, type Chooser, type ExploreReport, type RunReport } from '../explore/explorer.js';
import { createRpcServer } from '../spdk/rpc/index.js';
import { runToEnd, type RunOptions, type RunResult, type Scenario, type Session } from './contract.js';
import { MONITOR_INTERVAL_US } from '../longhorn/spdk-engine/server.js';
import { observationLines, raceModel, type RaceBug, type RaceModel, type RaceObservation } from './replica-verify-race-model.js';
import { replicaVerifyRaceInfo } from './replica-verify-race.info.js';
import { buildTestbed, finishRun, type Judgement, type Testbed } from './testbed.js';

const IP = '192.0.2.10';
const MiB = 1 << 20;

/** The task that took the last step goes on while it can, else the first enabled one. */
const NON_PREEMPTIVE: Chooser = { choose: (c) => (c.last !== undefined && c.enabled.includes(c.last) ? c.last : c.enabled[0]!) };

interface Searched {
  verdict: string;
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

    const search = (): Searched => {
      if (p['search'] === 'random') {
        const runs = p['runs'] as number;
        const r = searchRandom(model.scenario, opts.seed, runs);
        const violation = r.violating;
        const verdict = violation === undefined ? `no violation in ${r.runs} random schedules (seeds ${opts.seed}..${opts.seed + r.runs - 1})`
          : `${violation.violation!.kind} violation in random schedule ${r.runs} of ${runs} (seed ${opts.seed + r.runs - 1}); schedule: ${violation.schedule}\n  ${violation.violation!.message}`;
        return withReplay(verdict, violation, { schedules: r.runs, violatingSchedules: violation === undefined ? 0 : 1 });
      }
      const r: ExploreReport = explore(model.scenario, { preemptions: p['bound'] as number, reduction: p['reduction'] as 'sleep-sets' | 'none' });
      return withReplay(formatVerdict(r), r.violation, {
        schedules: r.schedules, sleepBlocked: r.sleepBlocked, distinctStates: r.distinctStates ?? 0, violatingSchedules: r.violatingSchedules,
        bound: r.bound ?? -1, maxSteps: r.maxSteps,
      });
    };
    /** Replays the violating schedule (when clean, the schedule without preemptions) to observe its end. */
    const withReplay = (verdict: string, violation: RunReport | undefined, counters: Record<string, number>): Searched => {
      const again = violation !== undefined ? replay(model.scenario, violation.schedule) : runWith(model.scenario, NON_PREEMPTIVE);
      if (violation !== undefined && again.hash !== violation.hash) throw new Error(`replica-verify-race: the schedule ${violation.schedule} did not replay to the same trace`);
      return { verdict, violation, counters, observation: model.last(), clockUs: again.clock };
    };

    const judge = (crash: Judgement | undefined): Judgement => {
      if (crash !== undefined) return crash;
      if (done === undefined) return { reproduced: false, oracle: 'safety', summary: 'not explored yet', evidence: { lines: [] }, counters: {} };
      const s = done;
      const o = s.observation;
      const v = s.violation;
      const lines = [s.verdict.split('\n')[0]!];
      if (v !== undefined) lines.push(`schedule: ${v.schedule}`);
      if (o !== undefined) lines.push(v !== undefined ? 'observed at the end of that schedule:' : 'observed at the end of the schedule without preemptions:', ...observationLines(o).map((l) => `  ${l}`));
      if (v !== undefined) lines.push('trace:', ...formatTrace(v.trace).split('\n'));
      return {
        reproduced: v !== undefined,
        oracle: 'safety',
        summary: v === undefined ? s.verdict : `${v.violation!.message}`,
        evidence: {
          bug, verdict: s.verdict, schedule: v?.schedule ?? null, explorerHash: v?.hash ?? null, exploredUs: s.clockUs,
          observed: o === undefined ? null : (JSON.parse(JSON.stringify(o)) as Record<string, unknown>),
          lines,
        },
        counters: s.counters,
      };
    };

    // The world's clock stands for the explored tasks' clock: the search runs when it reaches
    // the last tick, so a page stepping the session sees time pass and then the verdict.
    const endUs = bug === '9953' ? 2 * MONITOR_INTERVAL_US : MONITOR_INTERVAL_US;
    tb.world.at(endUs, 'explore.search', () => {
      done ??= search();
    });
    return {
      world: tb.world,
      advance(untilUs) {
        if (done === undefined) tb.runUntil(() => done !== undefined, Math.min(untilUs, endUs));
        return done !== undefined;
      },
      result: () => finishRun(tb, replicaVerifyRace, judge),
      snapshot: () => ({ verdict: done?.verdict ?? null, schedule: done?.violation?.schedule ?? null }),
    };
  },
};
