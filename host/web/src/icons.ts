/** Button icons as inline SVG (no glyph that depends on a font): decorative, the button's text names it. */
import { svg } from './dom.js';

const PATHS = {
  play: 'M4 2.5v11l9-5.5z',
  pause: 'M4 2.5h3v11H4zM9 2.5h3v11H9z',
  step: 'M3 2.5v11l7-5.5zM11 2.5h2.5v11H11z',
  end: 'M2 2.5v11l5.5-5.5zM7.5 2.5v11l5.5-5.5zM13 2.5h1.5v11H13z',
  restart: 'M8 2.5a5.5 5.5 0 1 0 5.3 7h-2.1A3.6 3.6 0 1 1 8 4.4V6.8l3.8-3.2L8 .4z',
  left: 'M11 2.5v11L4 8z',
  right: 'M5 2.5v11l7-5.5z',
  link: 'M6.5 9.5l3-3M5 8L3.6 9.4a2.3 2.3 0 0 0 3.2 3.2L8.2 11M11 8l1.4-1.4a2.3 2.3 0 0 0-3.2-3.2L7.8 4.8',
} as const;

export type IconName = keyof typeof PATHS;

export function icon(name: IconName): SVGSVGElement {
  const stroke = name === 'link';
  return svg('svg', { class: `icon icon-${name}`, width: 14, height: 14, viewBox: '0 0 16 16', 'aria-hidden': 'true', focusable: 'false' },
    svg('path', stroke ? { d: PATHS[name], fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6, 'stroke-linecap': 'round' } : { d: PATHS[name], fill: 'currentColor' }));
}
