/**
 * The zcopy-threshold page, all from the step batches. `sock` mode: the wire, the host's requests,
 * its send buffer against what the target received, and the bytes. `nvme-tcp` mode: the wire, the
 * target's PDU requests (the zero-copy sender there) and what bdevperf verify on the initiator read
 * back — the send buffer lives in the target's pool, so the per-write strips do not apply.
 */
import type { RunResult } from '../../../../scenarios/contract.js';
import { h, panel } from '../../dom.js';
import { term } from '../../glossary.js';
import { CountersView } from '../../views/counters.js';
import { SequenceView } from '../../views/sequence.js';
import type { EvidenceLink } from '../../views/verdict.js';
import type { ReplayView, ReplayViewFactory, ViewContext } from '../view.js';
import { BuffersView, type WriteSnap } from './buffers.js';
import { HexView } from './hex.js';
import { COUNTER_LABELS, ZcopyModel } from './model.js';
import type { HexWindow } from './probe.js';
import { RequestsView } from './requests.js';
import { VerifyView } from './verify.js';

export const zcopyThresholdView: ReplayViewFactory = (root, ctx) => {
  const nvme = ctx.params['mode'] === 'nvme-tcp';
  const model = new ZcopyModel(nvme ? 'target' : 'host');
  const counters = new CountersView('counters', COUNTER_LABELS);
  const requests = new RequestsView();
  const seqBox = h('div', { class: 'sequence-box', id: 'sequence' });
  const sequence = new SequenceView(seqBox, nvme
    ? { host: 'host (NVMe/TCP initiator, bdevperf verify)', target: 'target (zero-copy sender)' }
    : { host: 'host (initiator, zero-copy sender)', target: 'target' });
  root.append(
    h('div', { class: 'columns' },
      panel('Wire: segments, ACKs and zero-copy notifications over virtual time', 'wire', SequenceView.legend(), seqBox),
      h('div', { class: 'stack' },
        panel('Counters', 'counters-panel', counters.el),
        panel(nvme ? 'Target requests (struct spdk_sock_request, one per PDU)' : 'Requests (struct spdk_sock_request)', 'requests', requests.el))),
  );
  const rest = nvme ? verifyPart(root) : sockPart(root, ctx);
  const jump = (label: string, row: number): EvidenceLink => ({ label, go: () => sequence.reveal(row) });

  return {
    update(batch) {
      model.apply(batch.events);
      const mismatched = rest.update(batch, model);
      counters.set({ ...model.counters, mismatchedWrites: mismatched }, new Set(['prematureCompletions', 'mismatchedWrites']));
      sequence.draw(model.rows, model.rowsDropped);
      requests.draw(model);
      if (batch.result !== undefined) rest.result?.(batch.result);
    },
    evidence(r: RunResult) {
      if (r.oracle === 'crash') {
        const i = model.rows.findIndex((row) => row.kind === 'note' && row.label.includes('crashed'));
        return i >= 0 ? jump('the crash in the wire', i) : undefined;
      }
      const i = model.firstPrematureRow();
      if (i < 0) return undefined;
      const row = model.rows[i]!;
      return jump(`${row.label.replace(/^complete /, '').replace(/:.*/, '')} completed before its zero-copy notification (wire row ${i + 1})`, i);
    },
  };
};

interface Part {
  /** Draws a batch; returns how many writes arrived wrong. */
  update(batch: Parameters<ReplayView['update']>[0], model: ZcopyModel): number;
  result?(r: RunResult): void;
}

/** Send buffer strips and the hex view of `sock` mode. */
function sockPart(root: HTMLElement, ctx: ViewContext): Part {
  const buffers = new BuffersView();
  const hex = new HexView();
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
    panel('Send buffer vs what the target received', 'buffers', buffers.el),
    panel('Bytes', 'bytes',
      h('p', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => move(-32) }, 'back 32 B'),
        h('button', { type: 'button', onclick: () => move(32) }, 'on 32 B'),
        h('button', { type: 'button', onclick: firstBad }, 'first wrong byte')),
      hex.el),
  );
  hex.draw(null, '');
  return {
    update(batch, model) {
      const snap = batch.snapshot;
      const ioSize = Number(snap['ioSize'] ?? ctx.params['io-size']);
      const ioCount = Number(snap['ioCount'] ?? ctx.params['io-count']);
      if (Array.isArray(snap['writes'])) writes = snap['writes'] as WriteSnap[];
      // Until the user picks, follow the first corrupted write, else the newest one received.
      if (!selected.chosen) {
        const bad = writes.find((w) => w.mismatches.length > 0);
        const at = bad ?? writes[writes.length - 1];
        if (at !== undefined) selected = { write: at.write, offset: bad?.mismatches[0]?.start ?? 0, chosen: false };
      }
      buffers.draw(model, ioSize, ioCount, writes, selected.write);
      void refreshHex();
      return writes.filter((w) => w.mismatches.length > 0).length;
    },
  };
}

/** What bdevperf verify on the initiator read back (`nvme-tcp` mode). */
function verifyPart(root: HTMLElement): Part {
  const verify = new VerifyView();
  root.append(h('section', { class: 'panel', id: 'verify' }, h('h2', {}, 'What the initiator read back (', term('bdevperf'), ' verify)'), verify.el));
  return {
    update(batch) {
      verify.draw(batch.snapshot);
      return 0;
    },
    result: (r) => verify.result(r),
  };
}
