/**
 * `nvme-tcp` mode: bdevperf verify's tally on the initiator (its counters, by the indices of
 * spdk_wasm_bdevperf_counter) and, once the run is judged, each miscompared read with the bytes
 * expected and received — the received ones verified or corrupted, in the hex view's colours.
 */
import type { RunResult } from '../../../../scenarios/contract.js';
import { h } from '../../dom.js';
import { classify, hexKey } from './hex.js';

const TALLY: [string, string][] = [['0', 'I/Os submitted'], ['4', 'writes'], ['3', 'reads'], ['7', 'reads verified'], ['8', 'miscompares'], ['14', 'poison words read'], ['2', 'failed'], ['9', 'outstanding']];

interface Miscompare { write: number; offsetBlocks: number; firstByte: number; lastByte: number; badBytes: number; poisonWords: number; expected: string; received: string }

export class VerifyView {
  readonly el = h('div', {});
  private readonly tally = h('dl', { class: 'counters', id: 'verify-tally' });
  private readonly mis = h('div', { id: 'miscompares' }, h('p', { class: 'meta' }, 'Miscompared reads appear here once the run is judged.'));

  constructor() {
    this.el.append(this.tally, this.mis);
  }

  draw(snap: Record<string, unknown>): void {
    const c = (snap['counters'] ?? {}) as Record<string, number>;
    this.tally.replaceChildren(...TALLY.map(([k, label]) =>
      h('div', {}, h('dt', {}, label), h('dd', { 'data-verify': label, class: (k === '8' || k === '14') && (c[k] ?? 0) > 0 ? 'alarm' : '' }, String(c[k] ?? 0)))));
  }

  result(r: RunResult): void {
    const list = Array.isArray(r.evidence['miscompares']) ? (r.evidence['miscompares'] as Miscompare[]) : [];
    if (list.length === 0) {
      this.mis.replaceChildren(h('p', { class: 'good-text' }, 'Every byte read back verified.'));
      return;
    }
    const bytes = (hex: string): number[] => hex.split(' ').map((x) => parseInt(x, 16));
    this.mis.replaceChildren(
      h('p', {}, `${list.length} miscompared read(s); the first bytes of each bad range:`),
      ...list.map((m, i) => {
        const exp = bytes(m.expected);
        const got = bytes(m.received);
        return h('div', { class: 'miscompare', 'data-miscompare': i },
          h('p', { class: 'meta' }, `read of write ${m.write} (block ${m.offsetBlocks}): bytes ${m.firstByte}..${m.lastByte} differ, ${m.poisonWords} poison words`),
          h('div', { class: 'hex-row' }, h('span', { class: 'hex-label' }, 'expected'), h('span', { class: 'hex-bytes' }, ...exp.map((b) => h('span', { class: 'byte same' }, b.toString(16).padStart(2, '0'))))),
          h('div', { class: 'hex-row' }, h('span', { class: 'hex-label' }, 'received by the initiator'), h('span', { class: 'hex-bytes' },
            ...got.map((b, j) => h('span', { class: `byte ${classify('received', b, exp[j]!, m.firstByte + j)}` }, b.toString(16).padStart(2, '0'))))));
      }),
      hexKey());
  }
}
