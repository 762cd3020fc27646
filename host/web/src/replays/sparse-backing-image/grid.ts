/** One row of 4 KiB blocks (or pages) as a strip of colored cells on a canvas, one character each. */
import { h } from '../../dom.js';

const CELL_W = 3;
const CELL_H = 12;

export function strip(states: string, colors: Record<string, string>, title: string): HTMLCanvasElement {
  const c = h('canvas', { class: 'blocks', width: states.length * CELL_W, height: CELL_H, title });
  const g = c.getContext('2d');
  if (g === null) return c;
  for (let i = 0; i < states.length; i++) {
    g.fillStyle = colors[states[i]!] ?? '#000';
    g.fillRect(i * CELL_W, 0, CELL_W - (states.length <= 64 ? 1 : 0), CELL_H);
  }
  return c;
}

/** A legend line: a swatch per state. */
export function legend(colors: Record<string, string>, names: Record<string, string>): HTMLElement {
  return h('p', { class: 'legend' }, ...Object.entries(names).flatMap(([k, name]) => [
    h('span', { class: 'swatch', style: `background:${colors[k]}` }), `${name} `,
  ]));
}
