/** Each request's current SPDK state by its upstream list (queued_reqs / pending_reqs / complete)
 *  and the §3.5 state name, with the zero-copy ids that carried its bytes. */
import { h } from '../../dom.js';
import { idRanges, type ZcopyModel } from './model.js';

const DONE_SHOWN = 6;

/** "39..45 ✓" for ids read back, "46 …" for ids still in flight. */
function idsCell(ids: number[], released: ReadonlySet<number>): string {
  if (ids.length === 0) return '—';
  const done = ids.filter((id) => released.has(id));
  const open = ids.filter((id) => !released.has(id));
  return [done.length > 0 ? `${idRanges(done)} ✓` : '', open.length > 0 ? `${idRanges(open)} …` : ''].filter((x) => x !== '').join('; ');
}

export class RequestsView {
  readonly el = h('div', {});

  draw(m: ZcopyModel): void {
    const open = m.reqs.filter((r) => r.list !== 'complete');
    const done = m.reqs.filter((r) => r.list === 'complete');
    const shown = [...done.slice(-DONE_SHOWN), ...open];
    const early = done.filter((r) => r.premature !== undefined).length;
    const rows = shown.map((r) => {
      const st = m.state(r);
      const ids = m.zcIds(r);
      return h('tr', { class: r.premature !== undefined ? 'premature' : r.list, 'data-write': r.write },
        h('td', {}, String(r.write)),
        h('td', { class: 'mono' }, `0x${r.ptr.toString(16)}`),
        h('td', { class: 'mono' }, r.list),
        h('td', { class: 'state' }, st.name),
        h('td', {}, st.detail),
        h('td', { class: 'mono' }, idsCell(ids, m.released)));
    });
    this.el.replaceChildren(
      h('p', { class: 'meta' }, `${m.reqs.length} requests queued; ${done.length} complete${early > 0 ? `, ${early} of them before their zero-copy notification` : ''}; showing the open ones and the last ${DONE_SHOWN} completed.`),
      h('table', { class: 'reqs' },
        h('thead', {}, h('tr', {}, h('th', {}, 'write'), h('th', {}, 'req'), h('th', {}, 'list'), h('th', {}, 'state'), h('th', {}, 'detail'), h('th', {}, 'zero-copy ids (✓ read back, … in flight)'))),
        h('tbody', {}, ...rows)),
    );
  }
}
