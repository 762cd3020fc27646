/**
 * The target's requests by qpair: each request's current state by its upstream name, pdu_in_use,
 * the last PDU written for it, its zcopy phase when "Delaying completion" saw it, and the states it
 * went through since it left the free queue. Stuck ones (COMPLETED with pdu_in_use) in red.
 */
import { formatUs } from '../../../../report.js';
import { h } from '../../dom.js';
import type { Qpair, TcpReq, TzdModel } from './model.js';
import { NVMF_QPAIR_STATES, pduType, reqState, reqStateShort, TCP_QPAIR_STATES, TCP_REQUEST_STATE_COMPLETED, TCP_REQUEST_STATE_FREE, ZCOPY_PHASES } from './names.js';

/** Requests back in FREE shown per qpair from before the link went down (the most recent ones). */
const FREE_SHOWN = 3;

export class RequestsView {
  readonly el = h('div', { id: 'tcp-requests' });

  draw(m: TzdModel): void {
    const byQpair = new Map<number, TcpReq[]>();
    for (const r of m.reqs.values()) {
      if (r.uses === 0) continue;
      const list = byQpair.get(r.tqpair) ?? [];
      list.push(r);
      byQpair.set(r.tqpair, list);
    }
    const qpairs = [...m.qpairs.values()].filter((q) => byQpair.has(q.ptr)).sort((a, b) => (a.qid ?? 99) - (b.qid ?? 99));
    this.el.replaceChildren(
      h('p', { class: 'legend' },
        'State names are enum spdk_nvmf_tcp_req_state (lib/nvmf/tcp.c); SPDK\'s trace shortens them (TCP_REQUEST_STATE_COMPLETED is TCP_REQ_COMPLETED). ',
        'pdu_in_use is set when a request\'s PDU is handed to the socket and cleared only by its write callback (_req_pdu_write_done).'),
      ...(qpairs.length === 0 ? [h('p', { class: 'meta' }, 'No request has been used yet.')] : qpairs.map((q) => this.qpair(m, q, byQpair.get(q.ptr)!))),
    );
  }

  private qpair(m: TzdModel, q: Qpair, reqs: TcpReq[]): HTMLElement {
    const busy = reqs.filter((r) => r.state !== TCP_REQUEST_STATE_FREE).sort((a, b) => a.since - b.since || a.ptr - b.ptr);
    // Every request freed after the cut (the ones the outage held), and a few from before it.
    const free = reqs.filter((r) => r.state === TCP_REQUEST_STATE_FREE).sort((a, b) => b.since - a.since);
    const freedAfterCut = m.cutAt >= 0 ? free.filter((r) => r.since >= m.cutAt) : [];
    const shownFree = [...freedAfterCut, ...free.filter((r) => !freedAfterCut.includes(r)).slice(0, FREE_SHOWN)];
    const fate = q.destroyedAt !== undefined
      ? `destroyed at ${formatUs(q.destroyedAt)} with ${q.freeAtDestroy!.free} of ${q.freeAtDestroy!.total} requests FREE`
      : `alive: ${NVMF_QPAIR_STATES[q.state] ?? q.state} (TCP ${TCP_QPAIR_STATES[q.tcpState] ?? q.tcpState})${q.disconnectAt !== undefined ? `, disconnecting since ${formatUs(q.disconnectAt)}` : ''}`;
    const counts = new Map<number, number>();
    for (const r of busy) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${reqStateShort(s)}`).join(', ');
    const rows = [...busy, ...shownFree].map((r) => this.row(m, q, r));
    return h('div', { class: 'qpair', 'data-qid': q.qid ?? -1, 'data-destroyed': String(q.destroyedAt !== undefined) },
      h('h3', {}, m.qpairName(q), ' — ', h('span', { class: q.destroyedAt !== undefined ? 'good-text' : busy.length > 0 && q.disconnectAt !== undefined ? 'bad-text' : '' }, fate)),
      h('p', { class: 'meta' }, `${reqs.length} requests used so far; ${busy.length} not FREE${summary !== '' ? ` (${summary})` : ''}${freedAfterCut.length > 0 ? `; ${freedAfterCut.length} freed after the link went down` : ''}.`),
      h('table', { class: 'reqs' },
        h('thead', {}, h('tr', {}, h('th', {}, 'req'), h('th', {}, 'state'), h('th', {}, 'pdu_in_use'), h('th', {}, 'last PDU written'), h('th', {}, 'zcopy phase'), h('th', {}, 'in state since'), h('th', {}, 'since it left FREE'))),
        h('tbody', {}, ...rows)));
  }

  private row(m: TzdModel, q: Qpair, r: TcpReq): HTMLElement {
    const stuck = r.state === TCP_REQUEST_STATE_COMPLETED && r.pduInUse && q.destroyedAt === undefined;
    const pdu = r.lastPdu === undefined ? '—' : `${pduType(r.lastPdu.type)} ${r.lastPdu.len} B at ${formatUs(r.lastPdu.t)}${r.pduInUse ? ', write pending' : r.writeErr !== undefined && r.writeErr !== 0 ? `, write done err ${r.writeErr}` : ', write done'}`;
    const zcopy = r.zcopyPhase !== undefined ? `${ZCOPY_PHASES[r.zcopyPhase] ?? r.zcopyPhase} (delayed ${r.delayed}×)` : r.abortedAt !== undefined ? 'aborted' : '—';
    const held = m.now - r.since;
    return h('tr', { class: stuck ? 'stuck' : r.state === TCP_REQUEST_STATE_FREE ? 'free' : 'busy', 'data-state': reqState(r.state), 'data-pdu-in-use': String(r.pduInUse) },
      h('td', { class: 'mono' }, `0x${r.ptr.toString(16)}`),
      h('td', { class: 'state mono' }, reqState(r.state)),
      h('td', { class: r.pduInUse ? 'pdu-in-use' : '' }, r.pduInUse ? 'true' : 'false'),
      h('td', {}, pdu),
      h('td', {}, zcopy),
      h('td', {}, `${formatUs(r.since)}${r.state !== TCP_REQUEST_STATE_FREE ? ` (${formatUs(held)} ago)` : ''}`),
      h('td', { class: 'trail' }, r.trail.map(reqStateShort).join(' → ')));
  }
}
