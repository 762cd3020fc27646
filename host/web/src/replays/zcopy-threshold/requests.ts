/** Each request's current SPDK state by its upstream list (queued_reqs / pending_reqs / complete)
 *  and the §3.5 state name, with the zero-copy ids that carried its bytes. */
import { h } from '../../dom.js';
import { term } from '../../glossary.js';
import { idRanges, type ZcopyModel } from './model.js';


/** "39..45 read" for ids read back, "46 in flight" for ids still in flight. */
function idsCell(ids: number[], released: ReadonlySet<number>): string {
  if (ids.length === 0) return '—';
  const done = ids.filter((id) => released.has(id));
  const open = ids.filter((id) => !released.has(id));
  return [done.length > 0 ? `${idRanges(done)} read` : '', open.length > 0 ? `${idRanges(open)} in flight` : ''].filter((x) => x !== '').join('; ');
}

/** Every request of the run, oldest first, in a box that scrolls (a run has at most a few thousand). */
export class RequestsView {
  readonly el = h('div', {});

  draw(m: ZcopyModel): void {
    const done = m.reqs.filter((r) => r.list === 'complete');
    const early = done.filter((r) => r.premature !== undefined).length;
    const rows = m.reqs.map((r) => {
      const st = m.state(r);
      const ids = m.zcIds(r);
      return h('tr', { class: r.premature !== undefined ? 'premature' : r.list, 'data-write': r.write, 'data-req': r.label },
        h('td', {}, r.label),
        h('td', { class: 'mono' }, `0x${r.ptr.toString(16)}`),
        h('td', { class: 'mono' }, r.list),
        h('td', { class: 'state' }, st.name),
        h('td', {}, st.detail),
        h('td', { class: 'mono' }, idsCell(ids, m.releasedOf(r))));
    });
    const box = this.el.querySelector('.reqs-box');
    const atBottom = box === null || box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    this.el.replaceChildren(
      h('p', { class: 'meta' }, `${m.reqs.length} requests queued; ${done.length} complete${early > 0 ? `, ${early} of them before their zero-copy notification` : ''}. States: `,
        term('Q0'), ', ', term('QP'), ', ', term('PZ'), ', ', term('PL'), ', ', term('DONE'), '; lists ', term('queued_reqs'), ', ', term('pending_reqs'), '.'),
      h('div', { class: 'reqs-box', tabindex: 0, role: 'region', 'aria-label': 'requests, scrollable' },
        h('table', { class: 'reqs' },
          h('thead', {}, h('tr', {}, h('th', {}, 'request'), h('th', {}, 'req'), h('th', {}, 'list'), h('th', {}, 'state'), h('th', {}, 'detail'), h('th', {}, 'zero-copy ids (read back / in flight)'))),
          h('tbody', {}, ...rows))),
    );
    const nb = this.el.querySelector('.reqs-box')!;
    if (atBottom) nb.scrollTop = nb.scrollHeight;
    else if (box !== null) nb.scrollTop = box.scrollTop;
  }
}
