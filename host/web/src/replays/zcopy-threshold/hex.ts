/** Bytes of one write at an offset: what the target expects, what it received, and what the
 *  sender's buffer holds now. Received bytes are verified (equal) or corrupted (not); a send buffer
 *  byte that differs is poison or a later write once the request completed — expected, so drawn
 *  in its own colour, never as damage. A key says which is which. */
import { POISON_WORD } from '../../../../scenarios/verify-pattern.js';
import { h, hex2 } from '../../dom.js';
import { term } from '../../glossary.js';
import type { HexWindow } from './probe.js';

/** The poison word's byte at a stream offset (little endian, words aligned to 4). */
const poisonByte = (offset: number): number => (POISON_WORD >>> (8 * (offset % 4))) & 0xff;

export type ByteClass = 'verified' | 'corrupted' | 'poison' | 'reused' | 'same' | 'missing';

/** How a byte of a row is drawn. `row` is 'received' or 'buffer'. */
export function classify(row: 'received' | 'buffer', b: number | undefined, expected: number, offset: number): ByteClass {
  if (b === undefined) return 'missing';
  if (row === 'received') return b === expected ? 'verified' : 'corrupted';
  if (b === expected) return 'same';
  return b === poisonByte(offset) ? 'poison' : 'reused';
}

export function hexKey(): HTMLElement {
  const k = (cls: ByteClass, text: string | HTMLElement): HTMLElement => h('span', { class: 'key' }, h('span', { class: `byte ${cls} sample` }, 'ab'), ' ', text);
  return h('p', { class: 'legend', id: 'hex-key' }, 'Key: ',
    k('verified', term('verified', 'received as sent (verified)')), k('corrupted', term('corrupted', 'received wrong (corrupted)')),
    k('poison', term('poison', 'poison in the buffer after completion (expected)')), k('reused', 'buffer refilled for a later write (expected)'),
    k('missing', 'not received yet'));
}

export class HexView {
  readonly el = h('div', { class: 'hex', id: 'hex' });

  draw(w: HexWindow | null, note: string): void {
    if (w === null) {
      this.el.replaceChildren(h('p', { class: 'meta' }, 'Pick a write in the strips above (it must have been submitted).'));
      return;
    }
    const row = (label: string, kind: 'expected' | 'received' | 'buffer', bytes: number[]): HTMLElement =>
      h('div', { class: 'hex-row', 'data-row': kind }, h('span', { class: 'hex-label' }, label),
        h('span', { class: 'hex-bytes' }, ...w.expected.map((e, i) => {
          const b = bytes[i];
          const cls = kind === 'expected' ? 'same' : classify(kind, b, e, w.offset + i);
          return h('span', { class: `byte ${cls}` }, b === undefined ? '··' : hex2(b));
        })));
    const slotNote = w.slotWrite === w.write ? `slot ${w.slot}` : `slot ${w.slot}, now refilled for write ${w.slotWrite}`;
    this.el.replaceChildren(
      h('p', { class: 'meta' }, `write ${w.write}, bytes ${w.offset}..${w.offset + w.expected.length - 1}${note}`),
      row('expected', 'expected', w.expected),
      row('received by target', 'received', w.received),
      row(`send buffer now (${slotNote})`, 'buffer', w.sendBuffer),
      hexKey(),
    );
  }
}
