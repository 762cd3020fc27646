/**
 * The qpairs and the controller over virtual time: one lane for the host's link (and socket
 * aborts), one per qpair, one for the controller. A bar lives from creation to destruction (orange
 * once disconnecting); numbered marks are listed below with their times. Dashed guides: the link
 * cut and one and two keep-alive timeouts after it.
 */
import { formatUs } from '../../../../report.js';
import { h, svg } from '../../dom.js';
import { term } from '../../glossary.js';
import type { Mark, TzdModel } from './model.js';

const W = 1060;
const LEFT = 190;
const LANE = 30;
const TOP = 22;

interface Lane {
  key: Mark['lane'];
  name: string;
  /** Bars: [from, to, class]. */
  bars: [number, number, string][];
}

export class TimelineView {
  readonly el = h('div', { id: 'timeline' });
  private readonly box = svg('svg', { class: 'timeline', width: W, role: 'img', 'aria-label': 'qpair and controller timeline' });
  private readonly list = h('ol', { class: 'marks' });

  constructor() {
    this.el.append(this.box, this.list);
  }

  draw(m: TzdModel): void {
    const kato = m.katoMs();
    const horizon = m.cutAt >= 0 && kato !== undefined ? m.cutAt + 2 * kato * 1000 + 1e6 : 0;
    const end = Math.max(m.now, horizon, 1);
    const x = (t: number): number => LEFT + (Math.min(t, end) / end) * (W - LEFT - 12);
    const lanes = this.lanes(m);
    const height = TOP + lanes.length * LANE + 26;
    const parts: SVGElement[] = [];
    lanes.forEach((lane, i) => {
      const y = TOP + i * LANE;
      parts.push(svg('text', { x: 4, y: y + 17, class: 'lane-name' }, lane.name));
      parts.push(svg('line', { x1: LEFT, y1: y + 13, x2: W - 12, y2: y + 13, class: 'lane-axis' }));
      for (const [a, b, cls] of lane.bars) parts.push(svg('rect', { x: x(a), y: y + 6, width: Math.max(2, x(b) - x(a)), height: 14, class: `bar ${cls}` }));
    });
    const guide = (t: number, label: string, cls: string): void => {
      if (t > end) return;
      parts.push(svg('line', { x1: x(t), y1: TOP - 6, x2: x(t), y2: height - 18, class: `guide ${cls}` }),
        svg('text', { x: x(t) + 3, y: TOP - 9, class: `guide-label ${cls}` }, label));
    };
    if (m.cutAt >= 0) {
      guide(m.cutAt, 'cut', 'cut');
      if (kato !== undefined) {
        guide(m.cutAt + kato * 1000, 'KATO', 'kato');
        guide(m.cutAt + 2 * kato * 1000, '2×KATO', 'kato');
      }
    }
    parts.push(svg('line', { x1: x(m.now), y1: TOP - 6, x2: x(m.now), y2: height - 18, class: 'guide now' }));
    // Marks at (nearly) the same time on one lane are set side by side; the list has the times.
    const lastX = new Map<Mark['lane'], number>();
    m.marks.forEach((k, i) => {
      const lane = lanes.findIndex((l) => l.key === k.lane);
      if (lane < 0) return;
      const y = TOP + lane * LANE + 13;
      const cx = Math.max(x(k.t), (lastX.get(k.lane) ?? -Infinity) + 15);
      lastX.set(k.lane, cx);
      parts.push(svg('g', { class: `mark ${k.kind}`, 'data-mark': k.kind },
        svg('title', {}, `${formatUs(k.t)}: ${k.label}`),
        svg('circle', { cx, cy: y, r: 7 }),
        svg('text', { x: cx, y: y + 4, 'text-anchor': 'middle' }, String(i + 1))));
    });
    const nowLabel = x(m.now) < W - 150 ? [svg('text', { x: x(m.now) + 3, y: height - 4, class: 'guide-label now' }, `now ${formatUs(m.now)}`)] : [];
    parts.push(svg('text', { x: LEFT, y: height - 4, class: 'time' }, '0'), ...nowLabel,
      svg('text', { x: W - 12, y: height - 4, class: 'time', 'text-anchor': 'end' }, formatUs(end)));
    this.box.setAttribute('height', String(height));
    this.box.setAttribute('viewBox', `0 0 ${W} ${height}`);
    this.box.replaceChildren(...parts);
    this.list.replaceChildren(...m.marks.map((k) => h('li', { class: k.kind, 'data-mark': k.kind }, h('span', { class: 'mono' }, formatUs(k.t)), ' ', k.label)));
  }

  /** What the bars, guides and marks mean. */
  static legend(): HTMLElement {
    const bar = (cls: string, text: string | HTMLElement): HTMLElement => h('span', { class: 'key' }, h('span', { class: `swatch bar-${cls}` }), text);
    return h('p', { class: 'legend', id: 'timeline-legend' }, 'Key: ',
      bar('alive', 'alive / link up'), bar('draining', 'disconnecting (draining)'), bar('down', 'link down'),
      h('span', { class: 'key' }, h('span', { class: 'swatch mark-bad' }), 'numbered mark: fault or timeout'),
      h('span', { class: 'key' }, h('span', { class: 'swatch mark-good' }), 'numbered mark: cleaned up'),
      ' · dashed lines: the cut, one and two ', term('KATO'), ' later · blue line: now · lanes: ', term('qpair', 'qpairs'), ' (', term('admin'), ' and I/O), the ', term('controller'));
  }

  private lanes(m: TzdModel): Lane[] {
    const link: Lane = { key: 'link', name: 'host link, sockets', bars: [] };
    let upSince = 0;
    let downSince = -1;
    for (const k of m.marks) {
      if (k.kind === 'link-down' && downSince < 0) {
        link.bars.push([upSince, k.t, 'up']);
        downSince = k.t;
      } else if (k.kind === 'link-up' && downSince >= 0) {
        link.bars.push([downSince, k.t, 'down']);
        upSince = k.t;
        downSince = -1;
      }
    }
    link.bars.push(downSince >= 0 ? [downSince, m.now, 'down'] : [upSince, m.now, 'up']);
    const out: Lane[] = [link];
    const qpairs = [...m.qpairs.values()].filter((q) => q.qid !== undefined).sort((a, b) => a.qid! - b.qid!);
    for (const q of qpairs) {
      const born = m.marks.find((k) => k.kind === 'connect' && k.lane === q.qid)?.t ?? 0;
      const gone = q.destroyedAt ?? m.now;
      const bars: Lane['bars'] = q.disconnectAt !== undefined
        ? [[born, q.disconnectAt, 'alive'], [q.disconnectAt, gone, 'draining']]
        : [[born, gone, 'alive']];
      out.push({ key: q.qid!, name: m.qpairName(q), bars });
    }
    for (const c of m.ctrlrs.values()) {
      const gone = c.destroyedAt ?? m.now;
      const bars: Lane['bars'] = c.keepAliveExpiredAt !== undefined
        ? [[c.createdAt, c.keepAliveExpiredAt, 'alive'], [c.keepAliveExpiredAt, gone, 'draining']]
        : [[c.createdAt, gone, 'alive']];
      out.push({ key: 'ctrlr', name: `controller cntlid ${c.cntlid}`, bars });
    }
    return out;
  }
}
