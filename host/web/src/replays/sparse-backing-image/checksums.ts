/** The SHA-512s of the longhorn#9876 report beside the image's: while the writer's fd is open, after
 *  the last close (buffered and O_DIRECT), and of the snapshot lvol (one per disk). */
import { h } from '../../dom.js';
import type { SparseModel } from './model.js';

export class ChecksumsView {
  readonly el = h('div', { id: 'checksums' });

  draw(m: SparseModel): void {
    const rows = m.checksums().map((c) => {
      const status = c.key === 'image' ? 'reference' : c.equal === undefined ? 'not yet' : c.equal ? 'equal' : 'DIFFERS';
      return h('tr', { 'data-check': c.key, 'data-equal': c.equal === undefined ? 'unknown' : String(c.equal), class: c.equal === false ? 'differs' : c.equal === true ? 'equal' : '' },
        h('td', {}, c.label),
        h('td', { class: 'mono' }, c.sha === undefined ? '—' : `${c.sha.slice(0, 32)}…`),
        h('td', { class: 'status' }, status));
    });
    this.el.replaceChildren(h('table', { class: 'reqs checksums' },
      h('thead', {}, h('tr', {}, h('th', {}, 'SHA-512 of the device or lvol'), h('th', {}, 'first 32 hex digits'), h('th', {}, 'vs the image'))),
      h('tbody', {}, ...rows)));
  }
}
