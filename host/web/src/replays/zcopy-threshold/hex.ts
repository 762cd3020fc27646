/** Bytes of one write at an offset: what the target expects, what it received, and what the
 *  sender's buffer holds now — differing bytes highlighted. */
import { h, hex2 } from '../../dom.js';
import type { HexWindow } from './probe.js';

export class HexView {
  readonly el = h('div', { class: 'hex', id: 'hex' });

  draw(w: HexWindow | null, note: string): void {
    if (w === null) {
      this.el.replaceChildren(h('p', { class: 'meta' }, 'Pick a write in the strips above (it must have been submitted).'));
      return;
    }
    const row = (label: string, bytes: number[]): HTMLElement =>
      h('div', { class: 'hex-row' }, h('span', { class: 'hex-label' }, label),
        ...w.expected.map((e, i) => {
          const b = bytes[i];
          if (b === undefined) return h('span', { class: 'byte missing' }, '··');
          return h('span', { class: b === e ? 'byte' : 'byte diff' }, hex2(b));
        }));
    const slotNote = w.slotWrite === w.write ? `slot ${w.slot}` : `slot ${w.slot}, now refilled for write ${w.slotWrite}`;
    this.el.replaceChildren(
      h('p', { class: 'meta' }, `write ${w.write}, bytes ${w.offset}..${w.offset + w.expected.length - 1}${note}`),
      row('expected', w.expected),
      row('received by target', w.received),
      row(`send buffer now (${slotNote})`, w.sendBuffer),
    );
  }
}
