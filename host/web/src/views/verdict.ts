/** The verdict when a run finishes: word, oracle, summary, evidence lines, crash report, replay command. */
import type { RunResult } from '../../../scenarios/contract.js';
import { formatUs } from '../../../report.js';
import { fill, h } from '../dom.js';

export class VerdictView {
  readonly el = h('section', { class: 'panel verdict', id: 'verdict', hidden: true });

  reset(): void {
    this.el.hidden = true;
    this.el.replaceChildren();
  }

  show(r: RunResult): void {
    const word = r.verdict === 'reproduced' ? 'REPRODUCED' : r.verdict === 'inconclusive' ? 'INCONCLUSIVE' : 'clean';
    const lines = Array.isArray(r.evidence['lines']) ? (r.evidence['lines'] as unknown[]).map(String) : [];
    const asan = typeof r.evidence['asanReport'] === 'string' ? r.evidence['asanReport'] : undefined;
    this.el.className = `panel verdict ${r.verdict === 'reproduced' ? 'bad' : r.verdict === 'inconclusive' ? 'unsure' : 'good'}`;
    fill(this.el,
      h('h2', {}, 'Verdict'),
      h('p', { class: 'verdict-line' },
        h('strong', { id: 'verdict-word', 'data-reproduced': String(r.reproduced), 'data-verdict': r.verdict, 'data-oracle': r.oracle }, word),
        ` (${r.oracle}) — ${r.variant}${r.flavor === 'asan' ? ' (asan)' : ''}, seed ${r.seed}`),
      h('p', { id: 'verdict-summary' }, r.summary),
      lines.length > 0 ? h('pre', { class: 'evidence', id: 'evidence' }, lines.join('\n')) : null,
      asan !== undefined ? h('details', {}, h('summary', {}, 'AddressSanitizer report'), h('pre', { class: 'evidence' }, asan)) : null,
      h('p', { class: 'meta' },
        `simulated ${formatUs(r.simulatedUs)} · trace hash ${r.traceHash} (${r.traceEvents} events) · build ${r.build}`),
      h('p', { class: 'meta' }, 'replay: ', h('code', {}, r.replay)),
      h('details', {}, h('summary', {}, 'all counters'), h('pre', {}, Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join('\n'))),
    );
    this.el.hidden = false;
  }

  /** A failure of the world itself (not a verdict), with the way out. */
  error(message: string): void {
    this.el.className = 'panel verdict bad';
    this.el.replaceChildren(
      h('h2', {}, 'The world stopped'),
      h('p', { id: 'world-error' }, message),
      h('p', { class: 'meta' }, 'Press "New world" to start again; the page does not need a reload.'),
    );
    this.el.hidden = false;
  }
}
