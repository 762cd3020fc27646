/** A few DOM helpers for plain-DOM views. */
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces an element's children, skipping null/false like `h` does. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A titled panel: `<section class="panel"><h2>title</h2>...</section>`. */
export function panel(title: string | Node, id: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel', id }, h('h2', {}, title), ...children);
}

export function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Brings an element into view and marks it for a moment (the verdict's "jump to the evidence"). */
export function flash(el: Element | null): void {
  if (el === null) return;
  el.scrollIntoView({ block: 'center' });
  el.classList.remove('flash');
  void (el as HTMLElement).offsetWidth;
  el.classList.add('flash');
  if (el instanceof HTMLElement) {
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    el.focus({ preventScroll: true });
  }
}

/** The views' boxes that may scroll sideways or down: reachable with the keyboard (Tab, then arrows). */
const SCROLLERS = '#timeline, .qpair, .grid, #page-cache, #checksums, #cluster-map, .miscompare, .hex, pre, .reqs-box, .event-log';

export function focusableScrollers(root: Element): void {
  for (const el of root.querySelectorAll(SCROLLERS)) {
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '0');
  }
}
