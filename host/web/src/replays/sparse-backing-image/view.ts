/** The sparse-backing-image page: checksums, page cache, cluster map, counters and what happened. */
import { formatUs } from '../../../../report.js';
import { flash, h, panel } from '../../dom.js';
import { term } from '../../glossary.js';
import { CountersView } from '../../views/counters.js';
import type { ReplayViewFactory } from '../view.js';
import { PageCacheView } from './cache.js';
import { ChecksumsView } from './checksums.js';
import { ClusterMapView } from './clusters.js';
import { ALARMS, COUNTER_LABELS, SparseModel } from './model.js';


export const sparseBackingImageView: ReplayViewFactory = (root) => {
  const model = new SparseModel();
  const counters = new CountersView('counters', COUNTER_LABELS);
  const checksums = new ChecksumsView();
  const cache = new PageCacheView();
  const clusters = new ClusterMapView();
  const phase = h('p', { class: 'meta', id: 'phase' });
  const log = h('ol', { class: 'event-log', id: 'sparse-log', tabindex: 0, 'aria-label': 'what the host and SPDK did, scrollable' });
  let logged = 0;

  root.append(
    panel(h('span', {}, term('SHA-512'), ' checksums'), 'checksums-panel', phase, checksums.el),
    panel('Counters', 'counters-panel', counters.el),
    panel(h('span', {}, term('cluster', 'Cluster'), ' map of the image ', term('lvol'), ' (', term('backing image'), ' copy; ', term('stale'), ' clusters hold a deleted volume\'s bytes)'), 'clusters-panel', clusters.el),
    panel(h('span', {}, 'Host ', term('page cache'), ' of the exposed temp head'), 'cache-panel', cache.el),
    panel('What the host and SPDK did', 'log-panel', log),
  );

  return {
    update(batch) {
      model.apply(batch.events, batch.probe, batch.snapshot, batch.result);
      phase.textContent = `phase: ${model.phase}`;
      checksums.draw(model);
      counters.set(model.counters(), ALARMS);
      clusters.draw(model);
      cache.draw(model, model.pagesPerCluster());
      // Every line of the run, appended as it comes (lines already drawn may still gain items).
      if (batch.events.length > 0) {
        const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        const from = Math.max(0, logged - 1);
        while (log.children.length > from) log.lastElementChild!.remove();
        log.append(...model.log.slice(from).map((l) =>
          h('li', {}, h('span', { class: 'mono' }, formatUs(l.t)), ' ', l.items.length > 0 ? `${l.text} ${l.items.join(', ')}` : l.text)));
        logged = model.log.length;
        if (atBottom) log.scrollTop = log.scrollHeight;
      }
    },
    evidence(r) {
      if (r.verdict !== 'reproduced' || r.oracle === 'crash') return undefined;
      return { label: 'the checksum that differs, and the stale clusters', go: () => flash(root.querySelector('#checksums tr[data-equal="false"]')) };
    },
  };
};
