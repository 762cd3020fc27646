/** A grid of named numbers (counters that prove which paths fired). */
import { h } from '../dom.js';

export class CountersView {
  readonly el: HTMLElement;
  private readonly cells = new Map<string, HTMLElement>();

  constructor(id: string, private readonly labels: Record<string, string>) {
    this.el = h('dl', { class: 'counters', id });
    for (const [key, label] of Object.entries(labels)) {
      const dd = h('dd', { 'data-counter': key }, '0');
      this.cells.set(key, dd);
      this.el.append(h('div', {}, h('dt', {}, label), dd));
    }
  }

  set(values: Record<string, number>, alarm: ReadonlySet<string> = new Set()): void {
    for (const [key, dd] of this.cells) {
      const v = values[key] ?? 0;
      dd.textContent = v.toLocaleString('en-US');
      dd.classList.toggle('alarm', alarm.has(key) && v > 0);
    }
  }
}
