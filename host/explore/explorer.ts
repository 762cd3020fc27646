/**
 * The interleaving explorer (issue 14): one place for running a scenario's goroutines under
 * random schedules, exhaustively to a preemption bound, or by replaying a printed schedule.
 *
 * Usage:
 *
 *   import { step, lock, unlock, sleep, reads, writes } from './task.js';
 *   import { explore, replay, runRandom, formatVerdict, formatTrace, type ExploreScenario } from './explorer.js';
 *
 *   const lostUpdate: ExploreScenario = {
 *     name: 'lost-update',
 *     setup() {
 *       const m = { x: 0 };                       // fresh state for every run
 *       function* inc() {
 *         let v = 0;
 *         yield* step('read x', [reads('x')]);    // the code after a yield is that step
 *         v = m.x;
 *         yield* step('write x', [writes('x')]);
 *         m.x = v + 1;
 *       }
 *       return {
 *         tasks: [{ name: 'a', body: inc() }, { name: 'b', body: inc() }],
 *         check: () => (m.x === 2 ? undefined : `x is ${m.x}, expected 2`),
 *         state: () => String(m.x),
 *       };
 *     },
 *   };
 *
 *   const r = explore(lostUpdate, { preemptions: 2 });   // sleep sets by default
 *   console.log(formatVerdict(r));                       // "safety violation in ... shortest: a,b*2,a"
 *   const again = replay(lostUpdate, r.violation!.schedule);  // the same run, step for step
 *   console.log(formatTrace(again.trace));
 *   runRandom(lostUpdate, 7);                            // one run, seeded
 *
 * Contract (scenario.ts): setup() builds all state afresh (the explorer re-runs it for every
 * schedule); a task yields before every step that touches shared state and declares what the
 * step reads and writes (the reduction trusts it); the code after a lock, unlock or sleep, up to
 * the next yield, touches nothing shared; tasks return. Everything is synchronous and uses no
 * randomness but the schedule, so a schedule replays exactly.
 *
 * Mutexes are Go's sync.Mutex and sync.RWMutex without writer preference: a read lock is
 * enabled whenever no writer holds the mutex, even if a writer waits (so a recursive read-lock
 * deadlock behind a waiting writer is not found). Unlocking a mutex the task does not hold ends
 * the run as a crash, as Go's fatal error does.
 *
 * Schedules print as the task of every step, `a,b*2,a` (schedule.ts). A schedule that does not
 * fit (a choice not enabled, too short, too long) is refused with a ScheduleError and its step.
 *
 * Big searches: `estimateSchedules` guesses the count; `explore(s, { refuseAbove: 1e6 })` refuses
 * a bound above that, `limit` stops after so many schedules, and `new Exploration(s, opts)` with
 * `advance(n)` / `stop()` (or `exploreInSlices`) runs it in slices for a live count and a stop
 * button. docs/explore.md has the semantics.
 */
export type { ExploreTask, Instance, ExploreScenario, ExploreEnv, Violation, ViolationKind } from './scenario.js';
export { ExploreError } from './scenario.js';
export { ScheduleError, formatSchedule, parseSchedule } from './schedule.js';
export type { TraceEntry, RunStatus } from './run.js';
export { type Chooser, type ChoiceContext, type RunReport, type RunOptions, randomChooser, pctChooser, replayChooser, runWith, replay, runRandom, searchRandom, formatTrace, formatRun } from './runner.js';
export { type ExploreOptions, type ExploreReport, type ExploreProgress, type ExploredRun, type Reduction, Exploration, explore, exploreInSlices, formatVerdict } from './exhaustive.js';
export { estimateSchedules } from './estimate.js';
