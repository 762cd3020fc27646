/** The index page: every replay (the catalog) with links to its page in both variants. */
import { CATALOG } from '../../scenarios/catalog.js';
import { h } from './dom.js';
import { glossaryList, term } from './glossary.js';

const list = h('ul', { class: 'replays', id: 'replays' },
  ...CATALOG.map((s) => {
    const href = (variant: string): string => `replay.html?replay=${encodeURIComponent(s.id)}&variant=${variant}`;
    return h('li', { 'data-replay': s.id },
      h('h2', {}, h('a', { href: href('unpatched') }, s.id)),
      h('p', {}, s.title),
      h('p', { class: 'meta' }, 'the bug: ', h('a', { href: s.bugDoc }, s.bugDoc), ' · ', term('oracle'), ` ${s.oracle} · fix ${s.fix}`),
      h('p', {}, h('a', { href: href('unpatched') }, 'unpatched (the bug)'), ' · ', h('a', { href: href('patched') }, 'patched (the fix)'),
        ' · lab: ', h('code', {}, `docs/labs/${s.id}.md`)));
  }));

document.body.append(
  h('header', {},
    h('h1', {}, 'spdk-wasm replays'),
    h('p', { class: 'title' }, 'Real SPDK storage bugs, replayed in your browser: SPDK modules in C compiled to WebAssembly, an emulated Linux kernel and network, one deterministic world with a virtual clock.')),
  h('main', {}, list, glossaryList(['replay', 'oracle', 'verdict', 'variant', 'flavor', 'seed', 'trace hash', 'virtual time'])),
  h('footer', {}, 'Each page runs its world in a Web Worker; a link carries the replay, variant, seed and knobs, so it reproduces the run exactly.'));
