/**
 * When two ops of different tasks must keep their order (the reduction's dependence relation):
 * steps that touch a common object where at least one writes, and lock ops on the same mutex.
 * Everything else commutes: a step never changes a mutex, and a sleep's wake-up touches nothing.
 */
import type { Op } from './task.js';

export function dependent(a: Op, b: Op): boolean {
  if (a.kind === 'step' && b.kind === 'step') {
    for (const x of a.touches) for (const y of b.touches) if (x.object === y.object && (x.write || y.write)) return true;
    return false;
  }
  if ((a.kind === 'lock' || a.kind === 'unlock') && (b.kind === 'lock' || b.kind === 'unlock')) return a.mutex === b.mutex;
  return false;
}
