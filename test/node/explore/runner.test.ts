import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExploreError, ScheduleError, formatRun, pctChooser, runWith, formatSchedule, formatTrace, parseSchedule, replay, runRandom, searchRandom, type ExploreScenario } from '../../../host/explore/explorer.js';
import { lock, sleep, step, unlock, writes, reads, type TaskBody } from '../../../host/explore/task.js';
import { increments, lockOrderInversion } from './programs.js';

describe('schedule format', () => {
  it('prints runs as name*count and parses them back', () => {
    const choices = ['create', 'create', 'create', 'verify', 'create', 'create'];
    expect(formatSchedule(choices)).toBe('create*3,verify,create*2');
    expect(parseSchedule('create*3, verify ,create*2')).toEqual(choices);
    expect(parseSchedule('')).toEqual([]);
  });

  it('refuses malformed entries with the entry', () => {
    expect(() => parseSchedule('a,,b')).toThrow(/entry 2 ""/);
    expect(() => parseSchedule('a*0')).toThrow(/count after \*/);
    expect(() => parseSchedule('a*x')).toThrow(ScheduleError);
    expect(() => parseSchedule('9lives')).toThrow(/task name/);
  });
});

describe('runner', () => {
  it('replays the lost update exactly: both read 0, b writes, a overwrites with 1', () => {
    const r = replay(increments(), 'a,b*2,a');
    expect(r.violation).toEqual({ kind: 'safety', message: 'x is 1 after 2 increments (an update was lost)' });
    expect(r.state).toBe('x=1');
    expect(r.trace.map((e) => `${e.task}:${e.op}:${e.what}`)).toEqual(['a:step:read x', 'b:step:read x', 'b:step:write x', 'a:step:write x']);
    // a -> b while a could write is one preemption; b returned, so going back to a is free.
    expect(r.preemptions).toBe(1);
    expect(r.trace.map((e) => e.preempt)).toEqual([false, true, false, false]);
    expect(formatTrace(r.trace)).toContain('b     step read x  (preempts)');
    expect(formatRun(r).split('\n').slice(0, 3)).toEqual([
      'increments: safety violation: x is 1 after 2 increments (an update was lost)',
      'schedule (4 steps, 1 preemption): a,b*2,a',
      '  #0    t=0        a     step read x',
    ]);
  });

  it('the same schedule gives the same trace hash; a different one a different hash', () => {
    const s = increments();
    expect(replay(s, 'a,b*2,a').hash).toBe(replay(s, 'a,b*2,a').hash);
    expect(replay(s, 'a*2,b*2').hash).not.toBe(replay(s, 'a,b*2,a').hash);
  });

  it('random runs are determined by the seed, and the printed schedule replays them', () => {
    const s = increments({ prepare: true, tasks: ['a', 'b', 'c'] });
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = runRandom(s, seed);
      const again = runRandom(s, seed);
      expect(again.schedule).toBe(r.schedule);
      expect(again.hash).toBe(r.hash);
      const back = replay(s, r.schedule);
      expect(back.hash).toBe(r.hash);
      expect(back.state).toBe(r.state);
    }
    const schedules = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => runRandom(s, seed).schedule));
    expect(schedules.size).toBeGreaterThan(1);
  });

  it('random search finds the lost update and reports its seed run', () => {
    const found = searchRandom(increments(), 1, 50);
    expect(found.violating?.violation?.kind).toBe('safety');
    expect(replay(increments(), found.violating!.schedule).state).toBe('x=1');
  });

  it('PCT finds a bug that needs one task to run 21 steps in a row, where uniform choice does not', () => {
    // a reads x, then writes x + 1; b does 20 steps of its own, then writes 10 to x. The write
    // is lost only if all of b runs between a's two steps: 2^-21 per uniform run, about
    // 1/(2 * 30) per PCT run (a first, and the change point right after a's read).
    const s: ExploreScenario = {
      name: 'narrow',
      setup() {
        const m = { x: 0 };
        function* a() {
          yield* step('read x', [reads('x')]);
          const v = m.x;
          yield* step('write x', [writes('x')]);
          m.x = v + 1;
        }
        function* b() {
          for (let i = 0; i < 20; i++) yield* step('local', [writes('b.local')]);
          yield* step('write x', [writes('x')]);
          m.x = 10;
        }
        return { tasks: [{ name: 'a', body: a() }, { name: 'b', body: b() }], check: () => (m.x === 1 ? 'b\'s write was lost' : undefined) };
      },
    };
    expect(searchRandom(s, 1, 500).violating).toBeUndefined();
    const pct = searchRandom(s, 1, 500, { chooser: (seed) => pctChooser(seed, { depth: 2, steps: 30 }) });
    expect(pct.violating?.schedule).toBe('a,b*21,a');
    expect(runWith(s, pctChooser(pct.runs, { depth: 2, steps: 30 })).hash).toBe(pct.violating!.hash);
    expect(() => pctChooser(1, { depth: 0 })).toThrow(/whole numbers >= 1/);
  });

  it('reports a lock order inversion as a deadlock naming who waits for what', () => {
    const r = replay(lockOrderInversion(), 'a,b');
    expect(r.status).toBe('deadlock');
    expect(r.violation?.kind).toBe('deadlock');
    expect(r.violation?.message).toBe('deadlock: a waits for m2 held by b; b waits for m1 held by a');
    expect(replay(lockOrderInversion(), 'a*5,b*5').violation).toBeUndefined();
  });

  it('refuses a schedule that does not fit, with the step where it diverged', () => {
    const s = increments({ locked: true });
    const refuse = (schedule: string): ScheduleError => {
      try {
        replay(s, schedule);
      } catch (e) {
        if (e instanceof ScheduleError) return e;
        throw e;
      }
      throw new Error(`replay of ${schedule} was not refused`);
    };
    // a holds m after its first step, so b's lock is not enabled at step 1.
    const notEnabled = refuse('a,b');
    expect(notEnabled.step).toBe(1);
    expect(notEnabled.message).toBe('schedule diverges at step 1: "b" is not enabled there (enabled: a)');
    const short = refuse('a*4');
    expect(short.step).toBe(4);
    expect(short.message).toMatch(/too short: it ends after 4 steps.*enabled at step 4: b/);
    const long = refuse('a*4,b*4,a');
    expect(long.step).toBe(8);
    expect(long.message).toBe('schedule is too long: the run ended after 8 steps, the schedule has 9');
    expect(refuse('a*4,zed,b*3').message).toMatch(/step 4: "zed" is not enabled there/);
    expect(replay(s, 'a*4,b*4').violation).toBeUndefined();
  });

  it('sleeps run on the simulated clock: the clock jumps only when every task sleeps', () => {
    const s: ExploreScenario = {
      name: 'sleepers',
      setup(env) {
        const seen: string[] = [];
        function* ticker() {
          for (let i = 0; i < 2; i++) {
            yield* sleep(3_000_000, 'tick');
            yield* step('verify', [reads('map')]);
            seen.push(`verify@${env.now()}`);
          }
        }
        function* worker() {
          yield* step('insert', [writes('map')]);
          seen.push(`insert@${env.now()}`);
          yield* sleep(1_000_000, 'work');
          yield* step('done', [writes('map')]);
          seen.push(`done@${env.now()}`);
        }
        return {
          tasks: [{ name: 'v', body: ticker() }, { name: 'w', body: worker() }],
          check: () => undefined,
          state: () => seen.join(' '),
        };
      },
    };
    const r = replay(s, 'w*2,w,v*2,v*2');
    expect(r.state).toBe('insert@0 done@1000000 verify@3000000 verify@6000000');
    expect(r.clock).toBe(6_000_000);
    expect(r.trace.map((e) => e.t)).toEqual([0, 1_000_000, 1_000_000, 3_000_000, 3_000_000, 6_000_000, 6_000_000]);
    // v's sleep is not enabled at time 0: only w can go first.
    expect(() => replay(s, 'v')).toThrow(/"v" is not enabled there \(enabled: w\)/);
  });

  it('a task that throws or unlocks a mutex it does not hold ends the run as a crash', () => {
    const s = (body: () => TaskBody): ExploreScenario => ({
      name: 'crash',
      setup: () => ({ tasks: [{ name: 'a', body: body() }], check: () => undefined }),
    });
    const threw = replay(
      s(function* () {
        yield* step('boom', []);
        throw new Error('panic: nil map');
      }),
      'a',
    );
    expect(threw.violation).toEqual({ kind: 'crash', message: 'a threw: panic: nil map' });
    const badUnlock = replay(s(() => unlock('m')), 'a');
    expect(badUnlock.violation).toEqual({ kind: 'crash', message: 'a: unlock of mutex "m", which it does not hold' });
  });

  it('refuses bad instances and ops with an ExploreError', () => {
    const one = (tasks: { name: string; body: TaskBody }[]): ExploreScenario => ({
      name: 'bad',
      setup: () => ({ tasks, check: () => undefined }),
    });
    expect(() => replay(one([]), '')).toThrow(/no tasks/);
    expect(() => replay(one([{ name: 'a b', body: lock('m') }]), '')).toThrow(/task name "a b"/);
    expect(() => replay(one([{ name: 'a', body: lock('m') }, { name: 'a', body: lock('n') }]), '')).toThrow(/two tasks are named "a"/);
    expect(() => replay(one([{ name: 'a', body: sleep(-1, 'x') }]), '')).toThrow(ExploreError);
  });

  it('stops a task that never finishes at the step limit, as a liveness violation', () => {
    const s: ExploreScenario = {
      name: 'spin',
      setup: () => ({
        tasks: [
          {
            name: 'a',
            body: (function* () {
              for (;;) yield* step('spin', []);
            })(),
          },
        ],
        check: () => undefined,
      }),
    };
    const r = runRandom(s, 1, { maxSteps: 50 });
    expect(r.status).toBe('liveness');
    expect(r.steps).toBe(50);
  });
});

describe('host/explore', () => {
  it('imports no Node-only module (it runs in the browser worker too)', () => {
    const dir = new URL('../../../host/explore/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('explorer.ts');
    for (const f of files) expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(/from '(node:|fs|path|os|child_process|worker_threads)/);
  });

  it('hands the ended run\'s instance to onEnd, for reading evidence off the model', () => {
    let seen: string | undefined;
    replay(increments(), 'a,b*2,a', { onEnd: (inst) => (seen = inst.state?.()) });
    expect(seen).toBe('x=1');
  });
});
