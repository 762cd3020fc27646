import { describe, expect, it } from 'vitest';
import { Prng } from '../../../host/sim/prng.js';
import { World, type Steppable } from '../../../host/sim/world.js';

describe('World', () => {
  it('runs events in time order, ties in insertion order, and jumps the clock when idle', () => {
    const w = new World(1);
    const seen: string[] = [];
    w.at(500, 'b', () => seen.push(`b@${w.now}`));
    w.at(100, 'a1', () => seen.push(`a1@${w.now}`));
    w.at(100, 'a2', () => seen.push(`a2@${w.now}`));
    const ev = w.at(300, 'never', () => seen.push('never'));
    w.cancel(ev);
    expect(w.run(() => false, 10_000)).toBe('quiescent');
    expect(seen).toEqual(['a1@100', 'a2@100', 'b@500']);
    expect(w.now).toBe(500);
  });

  it('stops at the deadline with the clock on it', () => {
    const w = new World(1);
    w.at(5_000, 'late', () => undefined);
    expect(w.run(() => false, 1_000)).toBe('deadline');
    expect(w.now).toBe(1_000);
  });

  it('jumps to the next poller deadline a machine reports (15 minutes of virtual time cost nothing)', () => {
    const w = new World(1);
    let due = 60e6;
    let runs = 0;
    const m: Steppable = {
      name: 'm',
      pollOnce: () => {
        if (w.now >= due) {
          runs++;
          due += 60e6;
        }
        return { busy: false, nextDeadline: due };
      },
    };
    w.add(m);
    expect(w.run(() => runs === 15, 1e12)).toBe('done');
    expect(w.now).toBe(900e6);
  });

  it('a machine that is always busy still lets virtual time advance', () => {
    const w = new World(1);
    w.add({ name: 'spin', pollOnce: () => ({ busy: true, nextDeadline: Infinity }) });
    let fired = false;
    w.at(10, 'x', () => { fired = true; });
    expect(w.run(() => fired, 1_000)).toBe('done');
    expect(w.now).toBe(10);
  });

  it('trace hash depends on content and order', () => {
    const a = new World(1);
    const b = new World(1);
    a.record('m', 'x', { n: 1 });
    b.record('m', 'x', { n: 1 });
    expect(a.trace.digest()).toBe(b.trace.digest());
    b.record('m', 'y');
    expect(a.trace.digest()).not.toBe(b.trace.digest());
  });
});

describe('Prng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const x = new Prng(42);
    const y = new Prng(42);
    const z = new Prng(43);
    const xs = Array.from({ length: 8 }, () => x.u32());
    expect(Array.from({ length: 8 }, () => y.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => z.u32())).not.toEqual(xs);
  });

  it('int() stays within bounds and rejects empty ranges', () => {
    const r = new Prng(7);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 9);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(9);
    }
    expect(() => r.int(5, 4)).toThrow(RangeError);
  });
});

describe('World stall guard', () => {
  it('a machine busy forever ends in WorldStalled naming it, not in a hang', async () => {
    const { WorldStalled } = await import('../../../host/sim/world.js');
    const w = new World(1);
    w.busyRoundBudget = 10_000;
    w.add({ name: 'spinner', pollOnce: () => ({ busy: true, nextDeadline: Infinity }) });
    let err: unknown;
    try {
      w.run(() => false, 1e9);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorldStalled);
    expect(String(err)).toMatch(/spinner reported busy for 10001 rounds/);
  });
});
