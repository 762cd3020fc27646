import { describe, expect, it } from 'vitest';
import { Exploration, ExploreError, estimateSchedules, explore, exploreInSlices, formatTrace, formatVerdict, replay, type ExploreScenario } from '../../../host/explore/explorer.js';
import { step, writes } from '../../../host/explore/task.js';
import { increments, lockOrderInversion } from './programs.js';

describe('exhaustive search', () => {
  it('finds the lost update at bound 1 and reports the shortest schedule with its trace', () => {
    // Each task: read x, write x. All C(4,2) = 6 interleavings; the 4 with both reads before
    // both writes lose an update. Bound 0 leaves a,a,b,b and b,b,a,a (clean); bound 1 adds
    // a,b,b,a and b,a,a,b (lost: a preempted once, b returns, a goes on for free).
    const s = increments();
    const zero = explore(s, { preemptions: 0, reduction: 'none' });
    expect([zero.schedules, zero.violatingSchedules, zero.violation, zero.exhaustive, zero.boundReached]).toEqual([2, 0, undefined, true, true]);
    expect(formatVerdict(zero)).toBe('no violation in 2 schedules (bound 0, none, exhaustive to the bound, 1 distinct final states)');
    const one = explore(s, { preemptions: 1, reduction: 'none' });
    expect([one.schedules, one.violatingSchedules, one.distinctStates]).toEqual([4, 2, 2]);
    const all = explore(s, { reduction: 'none' });
    expect([all.schedules, all.violatingSchedules, all.boundReached, all.bound]).toEqual([6, 4, false, null]);
    const v = one.violation!;
    expect(v.schedule).toBe('a,b*2,a');
    expect(v.violation).toEqual({ kind: 'safety', message: 'x is 1 after 2 increments (an update was lost)' });
    expect(formatTrace(v.trace).split('\n')).toEqual([
      '  #0    t=0        a     step read x',
      '  #1    t=0        b     step read x  (preempts)',
      '  #2    t=0        b     step write x',
      '  #3    t=0        a     step write x',
    ]);
    // The printed schedule replays the same run exactly.
    const again = replay(s, v.schedule);
    expect(again.hash).toBe(v.hash);
    expect(again.violation).toEqual(v.violation);
  });

  it('passes the locked version exhaustively with the counts worked out by hand', () => {
    // Each task: prepare (its own object), lock m, read x, write x, unlock m: 5 ops. Whoever
    // locks first runs its section before the other's lock; the other's prepare fits in any of
    // the 6 gaps before that (before the first's prepare, or after any of its 5 ops): 6 per
    // order, 12 in all. Preemptions (a first, gap 0..5): 1, 2, 1, 1, 1, 0 (in gaps 2-4 b's
    // lock is blocked, so going back to a is free). Bound 0: 2, bound 1: 10, bound 2: 12.
    const s = increments({ locked: true, prepare: true });
    const counts = [0, 1, 2, undefined].map((preemptions) => explore(s, { preemptions, reduction: 'none' }));
    expect(counts.map((r) => r.schedules)).toEqual([2, 10, 12, 12]);
    for (const r of counts) expect([r.violatingSchedules, r.distinctStates, r.exhaustive]).toEqual([0, 1, true]);
    expect(counts.map((r) => r.boundReached)).toEqual([true, true, false, false]);
    // Unbounded, sleep sets explore one schedule per order of the two critical sections.
    const reduced = explore(s);
    expect([reduced.schedules, reduced.violatingSchedules, reduced.reduction]).toEqual([2, 0, 'sleep-sets']);
    expect(formatVerdict(reduced)).toMatch(/^no violation in 2 schedules \(unbounded, sleep-sets, exhaustive: the bound cut nothing/);
  });

  it('gives the same verdicts with the reduction, in fewer schedules', () => {
    // Three tasks: prepare, read x, write x: 9!/(3!3!3!) = 1680 interleavings. Clean ones run
    // the x ops serially (6 task orders) with each prepare anywhere before its read: 1*4*7 = 28
    // per order, 168 clean, 1512 lossy. Up to reordering of independent steps, a schedule is the
    // order of the 3 writes and, for each read, how many writes precede it (less than its own
    // write's position): 6 * (1*2*3) = 36 classes, 6 of them clean.
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    const plain = explore(s, { reduction: 'none' });
    const reduced = explore(s, { reduction: 'sleep-sets' });
    expect([plain.schedules, plain.violatingSchedules]).toEqual([1680, 1512]);
    expect([reduced.schedules, reduced.violatingSchedules]).toEqual([36, 30]);
    expect(reduced.distinctStates).toBe(plain.distinctStates);
    for (const bound of [0, 1, 2]) {
      const p = explore(s, { preemptions: bound, reduction: 'none' });
      const r = explore(s, { preemptions: bound, reduction: 'sleep-sets' });
      expect(r.violation === undefined, `bound ${bound}`).toBe(p.violation === undefined);
      expect(r.violation?.steps).toBe(p.violation?.steps);
      expect(r.violation?.preemptions).toBe(p.violation?.preemptions);
      expect(r.distinctStates).toBe(p.distinctStates);
      expect(r.schedules).toBeLessThanOrEqual(p.schedules);
    }
    expect(explore(s, { preemptions: 2, reduction: 'sleep-sets' }).schedules).toBeLessThan(explore(s, { preemptions: 2, reduction: 'none' }).schedules);
  });

  it('reports a lock order inversion as a deadlock', () => {
    // a: lock m1, lock m2, step, unlock m2, unlock m1; b the same with m2 first. Per first
    // task: it runs alone; the other takes its first lock at once (deadlock); or the other
    // takes it after the first's unlock of its inner lock: 3 each, 6 in all, 2 deadlocked.
    const s = lockOrderInversion();
    const zero = explore(s, { preemptions: 0 });
    expect([zero.schedules, zero.violation]).toEqual([2, undefined]);
    const all = explore(s, { reduction: 'none' });
    expect([all.schedules, all.violatingSchedules]).toEqual([6, 2]);
    const v = explore(s, { preemptions: 1 }).violation!;
    expect(v.status).toBe('deadlock');
    expect(v.schedule).toBe('a,b');
    expect(v.violation).toEqual({ kind: 'deadlock', message: 'deadlock: a waits for m2 held by b; b waits for m1 held by a' });
  });

  it('is deterministic: the same search gives the same report', () => {
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    expect(explore(s, { preemptions: 2 })).toEqual(explore(s, { preemptions: 2 }));
  });

  it('stops at a limit or a stop signal, and says it was not exhaustive', () => {
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    const limited = explore(s, { reduction: 'none', limit: 100 });
    expect([limited.schedules, limited.exhaustive, limited.stopped]).toEqual([100, false, 'limit']);
    expect(formatVerdict(limited)).toContain('stopped (limit)');
    const signal = { aborted: false };
    const seen: number[] = [];
    const stopped = explore(s, {
      reduction: 'none',
      signal,
      progressEvery: 50,
      onProgress: (p) => {
        seen.push(p.schedules);
        if (p.schedules >= 200) signal.aborted = true;
      },
    });
    expect([stopped.schedules, stopped.exhaustive, stopped.stopped]).toEqual([200, false, 'signal']);
    expect(seen).toEqual([50, 100, 150, 200, 200]);
    const first = explore(s, { reduction: 'none', stopOnViolation: true });
    expect([first.violatingSchedules, first.stopped]).toEqual([1, 'violation']);
  });

  it('runs in slices with the same result, and can be stopped between them', async () => {
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    expect(await exploreInSlices(s, { preemptions: 2 }, 7)).toEqual(explore(s, { preemptions: 2 }));
    const e = new Exploration(s, { reduction: 'none' });
    expect(e.advance(10)).toBe(false);
    expect(e.progress().schedules).toBe(10);
    expect(e.advance(15)).toBe(false);
    expect(e.progress().schedules).toBe(25);
    e.stop();
    expect([e.finished, e.report().exhaustive, e.report().stopped, e.report().schedules]).toEqual([true, false, 'signal', 25]);
    expect(e.advance(10)).toBe(true);
    expect(e.progress().schedules).toBe(25);
  });

  it('estimates the schedule count and refuses a bound above the limit', () => {
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    const est = estimateSchedules(s, { reduction: 'none' }, 256);
    expect(est.estimate).toBeGreaterThan(1680 / 2);
    expect(est.estimate).toBeLessThan(1680 * 2);
    expect(() => explore(s, { reduction: 'none', refuseAbove: 100 })).toThrow(/has an estimated \d+ schedules \(64 random probes\), above the limit 100; lower the bound or raise the limit/);
    expect(explore(s, { reduction: 'none', preemptions: 0, refuseAbove: 100 }).schedules).toBe(6);
  });

  it('refuses bad options and a scenario that is not deterministic', () => {
    const s = increments();
    expect(() => explore(s, { preemptions: -1 })).toThrow(ExploreError);
    expect(() => explore(s, { preemptions: 1.5 })).toThrow(/whole number/);
    expect(() => explore(s, { reduction: 'dpor' as never })).toThrow(/expected sleep-sets or none/);
    let runs = 0;
    const leaky: ExploreScenario = {
      name: 'leaky',
      setup() {
        const extra = runs++ % 2 === 1; // state kept across runs: each run differs from the last
        function* a() {
          yield* step('one', [writes('x')]);
          if (!extra) yield* step('two', [writes('x')]);
        }
        function* b() {
          yield* step('one', [writes('x')]);
        }
        return { tasks: [{ name: 'a', body: a() }, { name: 'b', body: b() }], check: () => undefined };
      },
    };
    expect(() => explore(leaky, { reduction: 'none' })).toThrow(/leaky is not deterministic/);
  });
});
