/**
 * Interleaving explorer figures for `npm run bench` (merged into its JSON under "explore"),
 * issue 14 item 6: the exhaustive schedule count at two preemption bounds and unbounded, and
 * schedules explored per wall second, each with and without sleep sets.
 *
 * Until host/scenarios/replica-verify-race lands, the scenario is a stand-in with its shape
 * (ReplicaCreate inserting into the map before creating the lvol, verify listing bdevs and
 * deleting what has no lvol, the engine's ReplicaGet), built from task.ts ops only. Add the real
 * scenario to BENCH_SCENARIOS when it exists (its `make` builds the machine and the model).
 */
import { performance } from 'node:perf_hooks';
import { estimateSchedules, explore, type ExploreScenario, type Reduction } from '../host/explore/explorer.js';
import { lock, reads, sleep, step, unlock, writes, type TaskBody } from '../host/explore/task.js';
import { buildRaceModel } from '../host/scenarios/replica-verify-race.js';
import { loadVariant } from '../host/spdk/node-loader.js';

/** The race's shape: create inserts first (unpatched order), verify may drop it. */
export const verifyRaceShape: ExploreScenario = {
  name: 'verify-race-shape',
  setup() {
    const map = new Set<string>();
    const lvols = new Set<string>();
    let got = false;
    function* create(): TaskBody {
      yield* lock('server');
      yield* step('newReplica: insert r', [writes('replicaMap')]);
      map.add('r');
      yield* unlock('server');
      yield* step('bdev_lvol_get_lvstores', [reads('spdk')]);
      yield* step('bdev_get_bdevs', [reads('spdk')]);
      yield* step('bdev_lvol_create', [writes('spdk')]);
      lvols.add('r');
      yield* step('nvmf_subsystem_add_ns', [writes('spdk')]);
    }
    function* verify(): TaskBody {
      yield* sleep(0, 'monitor tick');
      yield* lock('server');
      yield* step('copy replicaMap', [reads('replicaMap')]);
      const known = [...map];
      yield* step('bdev_get_bdevs', [reads('spdk')]);
      const heads = new Set(lvols);
      yield* step('bdev_lvol_get_lvstores', [reads('spdk')]);
      yield* step('replicaMap = copy', [writes('replicaMap')]);
      for (const r of known) if (!heads.has(r)) map.delete(r);
      yield* unlock('server');
    }
    function* get(): TaskBody {
      yield* lock('server', true);
      yield* step('ReplicaGet r', [reads('replicaMap')]);
      got = map.has('r');
      yield* unlock('server', true);
    }
    return {
      tasks: [
        { name: 'create', body: create() },
        { name: 'verify', body: verify() },
        { name: 'get', body: get() },
      ],
      check: () => (map.has('r') ? undefined : 'replica r was created but is missing from replicaMap'),
      state: () => `map=${[...map].join()} lvols=${[...lvols].join()} got=${got}`,
    };
  },
};

/** What the figures are taken on; a scenario needing a machine builds it in `make`. Bounds whose
 *  unreduced search is estimated above MAX_ESTIMATE are listed as skipped with the estimate. */
export const BENCH_SCENARIOS: readonly { readonly name: string; readonly bounds: readonly (number | undefined)[]; make(): Promise<ExploreScenario> }[] = [
  { name: verifyRaceShape.name, bounds: [1, 2, undefined], make: async () => verifyRaceShape },
  // The real scenario (host/scenarios/replica-verify-race), unpatched, on one SPDK target.
  { name: 'replica-verify-race', bounds: [1, 2], make: async () => (await buildRaceModel({ variant: 'unpatched', flavor: 'release', seed: 1, params: {}, load: loadVariant }, '9953')).model.scenario },
];
const MAX_ESTIMATE = 200_000;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Repeats the search until 300 ms have passed (at least twice) for a steadier rate. */
function measure(s: ExploreScenario, preemptions: number | undefined, reduction: Reduction): Record<string, number | boolean | null> {
  const first = explore(s, { preemptions, reduction });
  let runs = 0;
  const t0 = performance.now();
  let wall = 0;
  do {
    explore(s, { preemptions, reduction });
    runs++;
    wall = performance.now() - t0;
  } while (runs < 2 || wall < 300);
  const perSearch = wall / runs;
  return {
    schedules: first.schedules,
    sleepBlocked: first.sleepBlocked,
    violatingSchedules: first.violatingSchedules,
    distinctStates: first.distinctStates,
    boundReached: first.boundReached,
    wallMsPerSearch: round(perSearch, 2),
    schedulesPerWallSecond: Math.round(first.schedules / (perSearch / 1000)),
    runsPerWallSecond: Math.round((first.schedules + first.sleepBlocked) / (perSearch / 1000)),
  };
}

export async function exploreFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const entry of BENCH_SCENARIOS) {
    const s = await entry.make();
    const byBound: Record<string, unknown> = {};
    for (const b of entry.bounds) {
      const key = b === undefined ? 'unbounded' : `bound${b}`;
      progress(`explore: ${entry.name}, ${key}, with and without sleep sets`);
      const figures: Record<string, unknown> = {};
      for (const [name, reduction] of [['none', 'none'], ['sleepSets', 'sleep-sets']] as const) {
        const estimate = estimateSchedules(s, { preemptions: b, reduction }, 64).estimate;
        figures[name] = estimate > MAX_ESTIMATE ? { skipped: true, estimatedSchedules: Math.round(estimate) } : measure(s, b, reduction);
      }
      byBound[key] = figures;
    }
    out[entry.name] = byBound;
  }
  return out;
}
