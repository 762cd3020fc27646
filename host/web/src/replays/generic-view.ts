/** For a replay without its own views: event counts and the last events of the trace. */
import { h, panel } from '../dom.js';
import type { ReplayViewFactory } from './view.js';

/** Lines kept (the box scrolls over all of them). */
const KEEP = 100_000;

export const genericView: ReplayViewFactory = (root) => {
  const counts = new Map<string, number>();
  const log = h('pre', { class: 'event-log', tabindex: 0 });
  const table = h('pre', {});
  root.append(panel('Trace', 'trace-log', log), panel('Events by name', 'trace-counts', table));
  const lines: string[] = [];
  return {
    update(batch) {
      for (const e of batch.events) {
        counts.set(e.ev, (counts.get(e.ev) ?? 0) + 1);
        lines.push(`${String(e.t).padStart(8)} µs  ${e.m.padEnd(7)} ${e.ev} ${e.f === undefined ? '' : JSON.stringify(e.f)}`);
      }
      lines.splice(0, Math.max(0, lines.length - KEEP));
      log.textContent = lines.join('\n');
      table.textContent = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${String(v).padStart(7)}  ${k}`).join('\n');
    },
  };
};
