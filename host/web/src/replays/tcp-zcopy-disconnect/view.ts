/** The tcp-zcopy-disconnect page: timeline, requests, wire and counters, all from the step batches. */
import { flash, h, panel } from '../../dom.js';
import { term } from '../../glossary.js';
import { CountersView } from '../../views/counters.js';
import { SequenceView, WIDE } from '../../views/sequence.js';
import type { ReplayViewFactory } from '../view.js';
import { ALARMS, COUNTER_LABELS, TzdModel } from './model.js';
import { RequestsView } from './requests.js';
import { TimelineView } from './timeline.js';

export const tcpZcopyDisconnectView: ReplayViewFactory = (root) => {
  const model = new TzdModel();
  const counters = new CountersView('counters', COUNTER_LABELS);
  const timeline = new TimelineView();
  const requests = new RequestsView();
  const seqBox = h('div', { class: 'sequence-box', id: 'sequence' });
  const sequence = new SequenceView(seqBox, { host: 'host (NVMe/TCP initiator)', target: 'target (nvmf_tgt, zcopy)' }, WIDE);

  root.append(
    panel('Qpairs and controller over virtual time', 'timeline-panel', TimelineView.legend(), timeline.el),
    panel('Counters', 'counters-panel', counters.el),
    panel(h('span', {}, 'Target requests (struct spdk_nvmf_tcp_req): state, ', term('pdu_in_use'), ', last ', term('PDU')), 'requests', requests.el),
    panel('Wire: PDUs, segments, retransmits and drops', 'wire', SequenceView.legend(), seqBox),
  );

  return {
    update(batch) {
      model.apply(batch.events, batch.now);
      counters.set(model.counters(), ALARMS);
      timeline.draw(model);
      requests.draw(model);
      if (batch.events.length > 0) sequence.draw(model.wire.rows, model.wire.rowsDropped);
    },
    evidence(r) {
      if (r.oracle === 'crash') {
        const i = model.wire.rows.findIndex((row) => row.label.includes('crashed'));
        return i >= 0 ? { label: 'the crash in the wire', go: () => sequence.reveal(i) } : undefined;
      }
      if (r.verdict === 'reproduced') {
        return { label: 'the requests stuck in COMPLETED with pdu_in_use', go: () => flash(root.querySelector('#tcp-requests tr.stuck')) };
      }
      return { label: 'the qpairs destroyed on the timeline', go: () => flash(root.querySelector('#timeline li[data-mark="qpair-destroyed"]') ?? root.querySelector('#timeline')) };
    },
  };
};
