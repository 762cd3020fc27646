/**
 * The image lvol (thin temp head, then its snapshot) of each lvol store, one row per logical
 * cluster: the physical cluster behind it (marked when a deleted lvol left its bytes there) and its
 * 4 KiB blocks — written by the copy, never written (then, once the snapshot was read back: zero as
 * it should, or stale bytes in red), or not allocated at all (reads zero).
 */
import { h } from '../../dom.js';
import { legend, strip } from './grid.js';
import type { ClusterRow, SparseModel, StaleRange } from './model.js';

const COLORS: Record<string, string> = { u: '#ececec', w: '#3b6fd8', n: '#f2c14e', z: '#9fd3ad', s: '#d43d3d', x: '#7a2b8f' };
const NAMES: Record<string, string> = {
  w: 'written by the copy', n: 'not written (holds whatever the disk had)', z: 'not written, reads zero', s: 'stale bytes of a deleted lvol', x: 'other wrong bytes', u: 'cluster not allocated (reads zero)',
};

function runs(rs: [number, number][]): string {
  const parts = rs.slice(0, 8).map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`));
  return parts.join(', ') + (rs.length > 8 ? `, … (${rs.length} runs)` : '');
}

function rangeLine(r: StaleRange): string {
  const what = r.kind === 'stale' ? 'stale bytes of the deleted lvol' : r.kind === 'zero' ? 'zero instead of data' : 'unexpected bytes';
  return `cluster ${r.cluster} (physical ${r.physicalCluster}): blocks ${runs(r.blocks)} (${r.count}) hold ${what}; expected ${r.expected}, got ${r.got}`;
}

function row(x: ClusterRow): HTMLElement {
  const phys = x.physical === 0 ? 'not allocated' : `physical ${x.physical}${x.reused ? ' (a deleted lvol\'s bytes were left here)' : ''}`;
  return h('div', { class: `grid-row cluster${x.staleBlocks > 0 ? ' stale' : ''}${x.physical === 0 ? ' unallocated' : ''}`, 'data-cluster': x.cluster, 'data-stale-blocks': x.staleBlocks },
    h('span', { class: 'grid-label' }, `cluster ${x.cluster}`),
    strip(x.blocks.join(''), COLORS, `logical cluster ${x.cluster}: ${phys}`),
    h('span', { class: 'grid-note' }, phys, x.staleBlocks > 0 ? h('strong', {}, ` — ${x.staleBlocks} stale blocks`) : null));
}

export class ClusterMapView {
  readonly el = h('div', { id: 'cluster-map' });

  draw(m: SparseModel): void {
    const parts: HTMLElement[] = [legend(COLORS, NAMES)];
    m.lvstores.forEach((lvs, i) => {
      const lvol = m.imageLvol(lvs);
      const others = lvs.lvols.filter((l) => l !== lvol);
      parts.push(h('h3', {}, `lvol store ${lvs.name}`));
      for (const o of others) {
        parts.push(h('p', { class: 'meta' }, `${o.name}: ${o.thin ? 'thin' : 'thick'}, ${o.allocated} of ${o.numClusters} clusters allocated (physical ${o.clusters.filter((c) => c !== 0).join(', ') || 'none'})`));
      }
      if (lvol === undefined) {
        parts.push(h('p', { class: 'meta' }, 'No image lvol yet.'));
        return;
      }
      const rows = m.clusterRows(i);
      const reused = [...m.reusedClusters(i)].sort((a, b) => a - b);
      parts.push(
        h('p', { class: 'alloc', 'data-lvs': lvs.name, 'data-allocated': lvol.allocated, 'data-clusters': lvol.numClusters },
          h('strong', {}, `${lvol.name}`), ` (${lvol.snapshot ? 'snapshot' : 'thin temp head'}): num_allocated_clusters ${lvol.allocated} of ${lvol.numClusters}`,
          reused.length > 0 ? `; physical clusters ${reused.join(', ')} were freed by a deleted lvol without unmap` : ''),
        h('div', { class: 'grid' }, ...rows.map(row)));
      const ranges = rows.flatMap((x) => x.ranges);
      if (ranges.length > 0) parts.push(h('ul', { class: 'ranges' }, ...ranges.map((r) => h('li', {}, rangeLine(r)))));
    });
    if (m.lvstores.length === 0) parts.push(h('p', { class: 'meta' }, 'No lvol store yet.'));
    this.el.replaceChildren(...parts);
  }
}
