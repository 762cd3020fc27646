/**
 * The verdict: one sentence at the top of the page (with the bug's page one click away), and the
 * panel when a run finishes — word, oracle, summary, a link to the evidence in the views, evidence
 * lines, for a crash its cause, machine, time and a link that replays it, the replay command.
 */
import type { RunResult } from '../../../scenarios/contract.js';
import { formatUs } from '../../../report.js';
import { fill, h } from '../dom.js';
import { term } from '../glossary.js';
import { icon } from '../icons.js';

/** Where a view shows the verdict's evidence (the frame, row or cell it names). */
export interface EvidenceLink {
  label: string;
  go(): void;
}

export interface VerdictContext {
  /** Link to the bug's write-up (docs/bugs/<id>.md). */
  bugHref: string;
  /** Link that opens this run on this frame. */
  replayHref: string;
  evidence?: EvidenceLink;
}

const WORDS = { reproduced: 'REPRODUCED', inconclusive: 'INCONCLUSIVE', clean: 'clean' } as const;
const TONES = { reproduced: 'bad', inconclusive: 'unsure', clean: 'good' } as const;

/** A crash's cause in words a newcomer reads. */
export function crashCause(kind: string): string {
  if (kind === 'asan') return 'AddressSanitizer reported a memory error';
  if (kind === 'abort') return 'abort(): an invariant the C code checks did not hold';
  return 'WebAssembly trap: an instruction that cannot go on';
}

/** The verdict as one sentence. */
export function verdictSentence(r: RunResult): string {
  if (r.oracle === 'crash') {
    const machine = String(r.evidence['machine'] ?? 'a machine');
    return `${machine} crashed at ${formatUs(r.simulatedUs)} of virtual time: ${crashCause(String(r.evidence['kind']))}.`;
  }
  const first = r.summary.replace(/^(inconclusive|clean|reproduced):\s*/i, '');
  if (r.verdict === 'reproduced') return `The bug showed on ${r.variant}: ${first}`;
  if (r.verdict === 'clean') return `No sign of the bug on ${r.variant}: ${first}`;
  return `This run could not tell: ${first}`;
}

export class VerdictView {
  readonly el = h('section', { class: 'panel verdict', id: 'verdict', hidden: true, 'aria-live': 'polite' });
  /** The sentence at the top of the page. */
  readonly headline = h('p', { class: 'headline', id: 'headline', role: 'status' });
  private bugHref = '';

  /** Before a verdict: what the run is about to show, and where the bug is explained. */
  pending(bugHref: string, text: string): void {
    this.bugHref = bugHref;
    this.headline.className = 'headline';
    fill(this.headline, text, ' ', this.bugLink());
  }

  private bugLink(): HTMLElement {
    return h('a', { href: this.bugHref, id: 'bug-link' }, 'What this bug is');
  }

  reset(): void {
    this.el.hidden = true;
    this.el.replaceChildren();
  }

  show(r: RunResult, ctx: VerdictContext): void {
    this.bugHref = ctx.bugHref;
    const word = WORDS[r.verdict];
    const lines = Array.isArray(r.evidence['lines']) ? (r.evidence['lines'] as unknown[]).map(String) : [];
    const asan = typeof r.evidence['asanReport'] === 'string' ? r.evidence['asanReport'] : undefined;
    const tone = TONES[r.verdict];
    this.headline.className = `headline ${tone}`;
    fill(this.headline, h('strong', {}, word), ' — ', h('span', { id: 'verdict-sentence' }, verdictSentence(r)), ' ',
      ctx.evidence !== undefined ? h('a', { href: '#views', class: 'jump', onclick: (ev: Event) => this.jump(ev, ctx.evidence!) }, 'Jump to the evidence') : null,
      ctx.evidence !== undefined ? ' · ' : null, this.bugLink());
    this.el.className = `panel verdict ${tone}`;
    const crash = r.oracle === 'crash';
    fill(this.el,
      h('h2', {}, term('verdict', 'Verdict')),
      h('p', { class: 'verdict-line' },
        h('strong', { id: 'verdict-word', 'data-reproduced': String(r.reproduced), 'data-verdict': r.verdict, 'data-oracle': r.oracle }, word),
        ' (', term('oracle'), ` ${r.oracle}) — ${r.variant}${r.flavor === 'asan' ? ' (asan)' : ''}, seed ${r.seed}`),
      h('p', { id: 'verdict-summary' }, r.summary),
      crash ? this.crash(r, ctx) : null,
      ctx.evidence !== undefined
        ? h('p', {}, h('a', { href: '#views', id: 'jump-evidence', class: 'jump', onclick: (ev: Event) => this.jump(ev, ctx.evidence!) }, `Jump to the evidence: ${ctx.evidence.label}`))
        : null,
      // Long evidence scrolls: focusable, so a keyboard can scroll it too.
      lines.length > 0 ? h('pre', { class: 'evidence', id: 'evidence', tabindex: 0, 'aria-label': 'evidence' }, lines.join('\n')) : null,
      asan !== undefined ? h('details', {}, h('summary', {}, 'AddressSanitizer report'), h('pre', { class: 'evidence', id: 'asan-report', tabindex: 0, 'aria-label': 'AddressSanitizer report' }, asan)) : null,
      h('p', { class: 'meta' },
        `simulated ${formatUs(r.simulatedUs)} · `, term('trace hash'), ` ${r.traceHash} (${r.traceEvents.toLocaleString('en-US')} events) · build ${r.build}`),
      h('p', { class: 'meta' }, 'replay on the command line: ', h('code', {}, r.replay)),
      h('details', {}, h('summary', {}, 'all counters'), h('pre', {}, Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join('\n'))),
    );
    this.el.hidden = false;
  }

  private crash(r: RunResult, ctx: VerdictContext): HTMLElement {
    const kind = String(r.evidence['kind']);
    return h('div', { class: 'crash-report', id: 'crash-report', 'data-kind': kind },
      h('p', {}, h('strong', {}, 'Cause: '), h('span', { id: 'crash-cause' }, crashCause(kind)), ` — machine "${String(r.evidence['machine'])}", `,
        'at ', h('span', { id: 'crash-time' }, formatUs(r.simulatedUs)), ' of ', term('virtual time'), ` (after ${r.traceEvents.toLocaleString('en-US')} trace events).`),
      h('p', {}, h('a', { href: ctx.replayHref, id: 'crash-replay' }, icon('link'), ' Replay this crash'), ' (opens this run and crashes the same machine at the same moment).'));
  }

  private jump(ev: Event, e: EvidenceLink): void {
    ev.preventDefault();
    e.go();
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
