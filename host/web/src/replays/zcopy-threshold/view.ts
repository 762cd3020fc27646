/** The zcopy-threshold page: wire, requests, buffers, bytes and counters, all from the step batches. */
import { h, panel } from '../../dom.js';
import { CountersView } from '../../views/counters.js';
import { SequenceView } from '../../views/sequence.js';
import type { ReplayViewFactory } from '../view.js';
import { BuffersView, type WriteSnap } from './buffers.js';
import { HexView } from './hex.js';
import { COUNTER_LABELS, ZcopyModel } from './model.js';
import type { HexWindow } from './probe.js';
import { RequestsView } from './requests.js';

export const zcopyThresholdView: ReplayViewFactory = (root, ctx) => {
  const model = new ZcopyModel();
  const counters = new CountersView('counters', COUNTER_LABELS);
  const requests = new RequestsView();
  const buffers = new BuffersView();
  const hex = new HexView();
  const seqBox = h('div', { class: 'sequence-box', id: 'sequence' });
  const sequence = new SequenceView(seqBox, { host: 'host (initiator, zero-copy sender)', target: 'target' });
  let selected = { write: 0, offset: 0, chosen: false };
  let writes: WriteSnap[] = [];
  let inFlight = false;
  let again = false;

  const refreshHex = async (): Promise<void> => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const w = (await ctx.inspect({ write: selected.write, offset: selected.offset })) as HexWindow | null;
      const bad = writes[selected.write]?.mismatches.length ?? 0;
      hex.draw(w, bad > 0 ? ` — ${bad} wrong range(s) in this write` : '');
    } catch {
      // The world was replaced meanwhile; the next batch asks again.
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        void refreshHex();
      }
    }
  };
  const move = (delta: number): void => {
    selected = { ...selected, offset: Math.max(0, selected.offset + delta), chosen: true };
    void refreshHex();
  };
  const firstBad = (): void => {
    const r = writes[selected.write]?.mismatches[0];
    selected = { ...selected, offset: r?.start ?? 0, chosen: true };
    void refreshHex();
  };
  buffers.onSelect = (write, offset) => {
    selected = { write, offset, chosen: true };
    void refreshHex();
  };

  root.append(
    h('div', { class: 'columns' },
      panel('Wire: segments, ACKs and zero-copy notifications over virtual time', 'wire', seqBox),
      h('div', { class: 'stack' },
        panel('Counters', 'counters-panel', counters.el),
        panel('Requests (struct spdk_sock_request)', 'requests', requests.el))),
    panel('Send buffer vs what the target received', 'buffers', buffers.el),
    panel('Bytes', 'bytes',
      h('p', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => move(-32) }, '◀ 32 B'),
        h('button', { type: 'button', onclick: () => move(32) }, '32 B ▶'),
        h('button', { type: 'button', onclick: firstBad }, 'first wrong byte')),
      hex.el),
  );
  hex.draw(null, '');

  return {
    update(batch) {
      model.apply(batch.events);
      const snap = batch.snapshot;
      const ioSize = Number(snap['ioSize'] ?? ctx.params['io-size']);
      const ioCount = Number(snap['ioCount'] ?? ctx.params['io-count']);
      if (Array.isArray(snap['writes'])) writes = snap['writes'] as WriteSnap[];
      const mismatched = writes.filter((w) => w.mismatches.length > 0).length;
      // Until the user picks, follow the first corrupted write, else the newest one received.
      if (!selected.chosen) {
        const bad = writes.find((w) => w.mismatches.length > 0);
        const at = bad ?? writes[writes.length - 1];
        if (at !== undefined) selected = { write: at.write, offset: bad?.mismatches[0]?.start ?? 0, chosen: false };
      }
      counters.set({ ...model.counters, mismatchedWrites: mismatched }, new Set(['prematureCompletions', 'mismatchedWrites']));
      sequence.draw(model.rows, model.rowsDropped);
      requests.draw(model);
      buffers.draw(model, ioSize, ioCount, writes, selected.write);
      void refreshHex();
    },
  };
};
