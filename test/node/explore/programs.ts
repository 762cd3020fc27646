/** Small known races for the explorer's tests. */
import type { ExploreScenario } from '../../../host/explore/explorer.js';
import { lock, reads, sleep, step, unlock, writes, type Op, type TaskBody } from '../../../host/explore/task.js';

/** Two tasks increment x by read, then write, with no lock: an update can be lost. With
 *  `locked`, each takes mutex m around the read and write; with `prepare`, each first does a
 *  step on an object of its own (which commutes with everything). */
export function increments(opts: { locked?: boolean; prepare?: boolean; tasks?: readonly string[] } = {}): ExploreScenario {
  const names = opts.tasks ?? ['a', 'b'];
  return {
    name: `increments${opts.locked ? '-locked' : ''}${opts.prepare ? '-prepare' : ''}`,
    setup() {
      const m = { x: 0 };
      function* inc(name: string): TaskBody {
        if (opts.prepare) yield* step('prepare', [writes(`${name}.local`)]); // work on its own object
        if (opts.locked) yield* lock('m');
        yield* step('read x', [reads('x')]);
        const v = m.x;
        yield* step('write x', [writes('x')]);
        m.x = v + 1;
        if (opts.locked) yield* unlock('m');
      }
      return {
        tasks: names.map((name) => ({ name, body: inc(name) })),
        check: () => (m.x === names.length ? undefined : `x is ${m.x} after ${names.length} increments (an update was lost)`),
        state: () => `x=${m.x}`,
      };
    },
  };
}

/** a takes m1 then m2, b takes m2 then m1: a deadlock when each holds its first. */
export function lockOrderInversion(): ExploreScenario {
  return {
    name: 'lock-order-inversion',
    setup() {
      const m = { n: 0 };
      function* both(first: string, second: string): TaskBody {
        yield* lock(first);
        yield* lock(second);
        yield* step('critical', [writes('n')]);
        m.n++;
        yield* unlock(second);
        yield* unlock(first);
      }
      return {
        tasks: [
          { name: 'a', body: both('m1', 'm2') },
          { name: 'b', body: both('m2', 'm1') },
        ],
        check: () => (m.n === 2 ? undefined : `n is ${m.n}`),
        state: () => `n=${m.n}`,
      };
    },
  };
}

/** A random program: a few tasks, each a list of ops on a small store; see randomProgram. */
export type ProgOp =
  | { readonly k: 'r'; readonly obj: string }
  | { readonly k: 'w'; readonly obj: string }
  | { readonly k: 'sleep'; readonly us: number }
  | { readonly k: 'locked'; readonly mutex: string; readonly shared: boolean; readonly body: readonly ProgOp[] };

/** Runs `tasks` faithfully: a read folds the object into the task's accumulator, a write stores
 *  a value derived from it, so different orders of dependent steps give different states. */
export function programScenario(tasks: readonly (readonly ProgOp[])[]): ExploreScenario {
  return {
    name: 'random-program',
    setup() {
      const store = new Map<string, number>();
      const acc = tasks.map(() => 1);
      function* run(t: number, ops: readonly ProgOp[]): Generator<Op, void, void> {
        for (const [j, op] of ops.entries()) {
          if (op.k === 'r') {
            yield* step(`read ${op.obj}`, [reads(op.obj)]);
            acc[t] = (acc[t]! * 31 + (store.get(op.obj) ?? 0)) % 1000003;
          } else if (op.k === 'w') {
            yield* step(`write ${op.obj}`, [writes(op.obj)]);
            store.set(op.obj, (acc[t]! * 7 + t * 13 + j) % 1000003);
          } else if (op.k === 'sleep') {
            yield* sleep(op.us, 'nap');
          } else {
            yield* lock(op.mutex, op.shared);
            yield* run(t, op.body);
            yield* unlock(op.mutex, op.shared);
          }
        }
      }
      return {
        tasks: tasks.map((ops, t) => ({ name: `t${t}`, body: run(t, ops) })),
        check: () => undefined,
        state: () => `${[...store].sort().map(([k, v]) => `${k}=${v}`).join(' ')} | ${acc.join(' ')}`,
      };
    },
  };
}
