import { describe, expect, it } from 'vitest';
import { EventQueue, type ScheduledEvent } from '../../../host/sim/event-queue.js';
import { Prng } from '../../../host/sim/prng.js';

describe('EventQueue', () => {
  it('pops by (time, insertion order) and a removed event never comes out, against a sorted list', () => {
    const rng = new Prng(3);
    const q = new EventQueue();
    const live: ScheduledEvent[] = [];
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const op = rng.int(0, 9);
      if (op < 5) {
        live.push(q.push(now + rng.int(0, 50), `e${step}`, () => {}));
      } else if (op < 7 && live.length > 0) {
        const [ev] = live.splice(rng.int(0, live.length - 1), 1);
        q.remove(ev!);
        expect(ev!.cancelled).toBe(true);
      } else {
        now += rng.int(0, 10);
        const due = live.filter((e) => e.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
        for (const want of due) expect(q.popDue(now)).toBe(want);
        expect(q.popDue(now)).toBeUndefined();
        live.splice(0, live.length, ...live.filter((e) => e.at > now));
      }
      expect(q.size).toBe(live.length);
      expect(q.peekTime()).toBe(live.length === 0 ? Infinity : Math.min(...live.map((e) => e.at)));
    }
  });

  it('removing an event twice, or one already popped, changes nothing', () => {
    const q = new EventQueue();
    const a = q.push(5, 'a', () => {});
    const b = q.push(7, 'b', () => {});
    q.remove(a);
    q.remove(a);
    expect(q.popDue(10)).toBe(b);
    q.remove(b);
    expect(q.size).toBe(0);
    expect(q.popDue(10)).toBeUndefined();
  });
});
