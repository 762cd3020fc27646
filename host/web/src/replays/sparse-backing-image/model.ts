/**
 * What the sparse-backing-image views draw (no DOM; the node tests feed it a CLI run): from the
 * trace, the device commands, cluster claims and the physical clusters a deleted lvol left its
 * bytes in (its unmap was ignored); from the probe, the page cache of the exposed head at every
 * close and the lvols' cluster maps; from the session snapshot and the verdict, the SHA-512s and
 * the blocks that hold stale bytes.
 */
import type { RunResult } from '../../../../scenarios/contract.js';
import type { StaleRange } from '../../../../scenarios/sparse-backing-image.js';
import type { TraceEvent } from '../../../../sim/trace.js';
import type { CacheFrame, LiveCache, LvolMap, LvsMap, SparseObservations } from './probe.js';

export type { StaleRange };

export const PAGE = 4096;

export interface DiskEvidence {
  disk: string;
  sha512: string;
  numAllocatedClusters: number;
  mismatchedBlocks: number;
  ranges: StaleRange[];
}

export type ChecksumKey = 'image' | 'while-open' | 'after-close' | 'after-close-direct' | 'snapshot';

export interface Checksum {
  key: ChecksumKey;
  label: string;
  sha?: string;
  /** Against the image's; undefined until both are known. */
  equal?: boolean;
}

/** Block states of the image lvol: u unallocated, w written by the copy, n not written (not yet
 *  checked), s stale bytes, z reads zero as it should, x other wrong bytes. */
export type BlockState = 'u' | 'w' | 'n' | 's' | 'z' | 'x';

export interface ClusterRow {
  cluster: number;
  physical: number;
  /** The physical cluster held a deleted lvol's bytes (its unmap was ignored). */
  reused: boolean;
  blocks: BlockState[];
  staleBlocks: number;
  ranges: StaleRange[];
}

export const COUNTER_LABELS: Record<string, string> = {
  allocated: 'num_allocated_clusters (image lvol)',
  clustersTotal: 'clusters of the image lvol',
  staleBlocks: '4 KiB blocks holding stale bytes',
  dirtiedPages: 'pages dirtied by the copy',
  writebackPages: 'dirty pages written back at the last close',
  writebackIos: 'write-back commands',
  droppedPages: 'pages dropped from the cache',
  cacheMissPages: 'pages read from the device',
  deviceReads: 'reads the lvol served',
  deviceWrites: 'writes the lvol served',
  chunksSkipped: 'zero chunks skipped (seek)',
  writeZeroesBytes: 'write_zeroes bytes on the disk',
};

export const ALARMS = new Set(['staleBlocks']);

interface LogLine {
  t: number;
  key: string;
  text: string;
  items: number[];
}

export class SparseModel {
  phase = '';
  readonly frames: CacheFrame[] = [];
  live: LiveCache[] = [];
  lvstores: LvsMap[] = [];
  result: RunResult | undefined;
  readonly log: LogLine[] = [];
  private readonly commands = { read: 0, write: 0 };
  private snap: Record<string, unknown> = {};
  private cache: Record<string, number> = {};
  /** Per blobstore (in the order they were made): clusters ever claimed, and those an ignored unmap left dirty. */
  private readonly claimed: Set<number>[] = [];
  private readonly reused: Set<number>[] = [];
  private readonly blocksPerCluster: number[] = [];
  private readonly diskSizes: number[] = [];

  /** One step's batch: trace events, the probe's observations, the snapshot and the verdict. */
  apply(events: readonly TraceEvent[], probe?: unknown, snapshot?: Record<string, unknown>, result?: RunResult): void {
    for (const e of events) this.one(e);
    const o = probe as SparseObservations | undefined;
    if (o !== undefined) {
      this.frames.push(...o.frames);
      this.live = o.live;
      if (o.lvstores.length > 0 || this.lvstores.length === 0) this.lvstores = o.lvstores;
    }
    if (snapshot !== undefined) {
      this.snap = snapshot;
      this.phase = String(snapshot['phase'] ?? this.phase);
      const c = snapshot['cache'] as Record<string, number> | undefined;
      if (c !== undefined) this.cache = c;
    }
    if (result !== undefined) this.result = result;
  }

  /** Pages the copy wrote: dirty in any page cache captured at a close of the device. */
  writtenPages(dev?: string): Set<number> {
    const out = new Set<number>();
    for (const f of this.frames) {
      if (dev !== undefined && f.dev !== dev) continue;
      for (let i = 0; i < f.pages.length; i++) if (f.pages[i] === 'd') out.add(i);
    }
    return out;
  }

  /**
   * A captured page cache with the clean pages read back after the writer's write-back marked 's'
   * where the snapshot's bytes (same device, same blocks) turned out stale.
   */
  framePages(i: number): string {
    const f = this.frames[i]!;
    const wroteBack = this.frames.findIndex((x) => x.openersLeft === 0 && x.pages.includes('d'));
    if (wroteBack < 0 || i <= wroteBack) return f.pages;
    const per = this.pagesPerCluster();
    const stale = new Set<number>();
    this.clusterRows(0).forEach((row) => row.blocks.forEach((b, j) => {
      if (b === 's') stale.add(row.cluster * per + j);
    }));
    if (stale.size === 0) return f.pages;
    return Array.from(f.pages, (c, p) => (c === 'c' && stale.has(p) ? 's' : c)).join('');
  }

  /** The lvol the image went into: the thin temp head, then its snapshot. */
  imageLvol(lvs: LvsMap): LvolMap | undefined {
    return lvs.lvols.find((l) => l.snapshot) ?? lvs.lvols.find((l) => l.thin);
  }

  evidence(): DiskEvidence[] {
    const s = this.result?.evidence['snapshots'];
    return Array.isArray(s) ? (s as DiskEvidence[]) : [];
  }

  clusterRows(lvsIndex: number): ClusterRow[] {
    const lvs = this.lvstores[lvsIndex];
    const lvol = lvs === undefined ? undefined : this.imageLvol(lvs);
    if (lvol === undefined) return [];
    const per = this.blocksPerCluster[lvsIndex] ?? 256;
    const written = this.writtenPages();
    const ev = this.result !== undefined ? this.evidence()[lvsIndex] : undefined;
    const reused = this.reused[lvsIndex] ?? new Set<number>();
    return lvol.clusters.map((physical, cluster) => {
      const ranges = (ev?.ranges ?? []).filter((r) => r.cluster === cluster);
      const wrong = new Map<number, BlockState>();
      for (const r of ranges) {
        for (const [a, b] of r.blocks) for (let x = a; x <= b; x++) wrong.set(x, r.kind === 'stale' ? 's' : 'x');
      }
      const blocks: BlockState[] = [];
      for (let b = 0; b < per; b++) {
        if (physical === 0) blocks.push(wrong.get(b) ?? 'u');
        else if (written.has(cluster * per + b)) blocks.push(wrong.get(b) ?? 'w');
        else blocks.push(wrong.get(b) ?? (ev !== undefined ? 'z' : 'n'));
      }
      return { cluster, physical, reused: physical !== 0 && reused.has(physical), blocks, staleBlocks: blocks.filter((x) => x === 's').length, ranges };
    });
  }

  checksums(): Checksum[] {
    const ev = this.result?.evidence ?? {};
    const image = (ev['imageSha512'] ?? this.snap['imageSha']) as string | undefined;
    const out: Checksum[] = [
      { key: 'image', label: 'the image (expected)', sha: image },
      { key: 'while-open', label: 'while the writer\'s fd is open (GetFileChecksum)', sha: (ev['checksumWhileOpen'] ?? this.snap['checksumWhileOpen']) as string | undefined },
      { key: 'after-close', label: 'after the last close (buffered read)', sha: (ev['checksumAfterClose'] ?? this.snap['checksumAfterClose']) as string | undefined },
      { key: 'after-close-direct', label: 'after the last close (O_DIRECT)', sha: ev['checksumAfterCloseDirect'] as string | undefined },
    ];
    const disks = this.evidence();
    const snaps = disks.length > 0 ? disks.map((d) => ({ disk: d.disk, sha: d.sha512 })) : ((this.snap['snapshots'] as (string | undefined)[] | undefined) ?? []).map((sha, i) => ({ disk: this.lvstores[i]?.name ?? `disk ${i}`, sha }));
    for (const s of snaps) out.push({ key: 'snapshot', label: `snapshot lvol on ${s.disk}`, sha: s.sha === '' ? undefined : s.sha });
    if (out.every((c) => c.key !== 'snapshot')) out.push({ key: 'snapshot', label: 'snapshot lvol' });
    for (const c of out) if (c.key !== 'image' && c.sha !== undefined && image !== undefined) c.equal = c.sha === image;
    return out;
  }

  counters(): Record<string, number> {
    const r = this.result?.counters ?? {};
    const sum = (prefix: string): number => Object.entries(r).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + Math.max(0, v), 0);
    const lvs = this.lvstores[0];
    const lvol = lvs === undefined ? undefined : this.imageLvol(lvs);
    const rows = this.lvstores.map((_, i) => this.clusterRows(i));
    return {
      allocated: lvol?.allocated ?? r['allocated./dev/sda'] ?? 0,
      clustersTotal: lvol?.numClusters ?? r['clustersTotal'] ?? 0,
      staleBlocks: rows.flat().reduce((s, x) => s + x.staleBlocks, 0),
      dirtiedPages: this.cache['dirtiedPages'] ?? 0,
      writebackPages: r['writebackPages'] ?? this.cache['writebackPages'] ?? 0,
      writebackIos: r['writebackIos'] ?? this.cache['writebackIos'] ?? 0,
      droppedPages: r['droppedPages'] ?? this.cache['droppedPages'] ?? 0,
      cacheMissPages: r['cacheMissPages'] ?? this.cache['cacheMissPages'] ?? 0,
      deviceReads: this.commands.read,
      deviceWrites: this.commands.write,
      chunksSkipped: r['chunksSkipped'] ?? 0,
      writeZeroesBytes: sum('diskWriteZeroesBytes.'),
    };
  }

  /** 4 KiB pages (or blocks) per cluster of the first blobstore. */
  pagesPerCluster(): number {
    return this.blocksPerCluster[0] ?? 256;
  }

  /** Physical clusters of blobstore i a deleted lvol left its bytes in. */
  reusedClusters(i: number): ReadonlySet<number> {
    return this.reused[i] ?? new Set();
  }

  private line(t: number, key: string, text: string, item?: number): void {
    const last = this.log[this.log.length - 1];
    if (item !== undefined && last !== undefined && last.key === key && last.t === t) {
      last.items.push(item);
      return;
    }
    this.log.push({ t, key, text, items: item === undefined ? [] : [item] });
  }

  private one(e: TraceEvent): void {
    const f = e.f ?? {};
    const num = (k: string): number => Number(f[k] ?? 0);
    const bs = this.claimed.length - 1;
    switch (e.ev) {
      case 'blk.add':
        if (f['kind'] !== 'export') this.diskSizes.push(num('size'));
        this.line(e.t, 'add', `${String(f['dev'])} appears (${num('size') / 1048576} MiB, ${String(f['kind'])})`);
        break;
      case 'blk.open':
        if (f['direct'] === false) this.line(e.t, 'open', `open ${String(f['dev'])} buffered: fd ${num('fd')}, ${num('openers')} open`);
        break;
      case 'blk.close':
        this.line(e.t, 'close', `close fd ${num('fd')} of ${String(f['dev'])}: ${num('openers')} still open${num('openers') === 0 ? ' (last close)' : ''}`);
        break;
      case 'blk.writeback':
        this.line(e.t, 'writeback', `last close writes back ${num('pages')} dirty pages in ${num('ios')} commands`);
        break;
      case 'blk.drop_cache':
        if (num('pages') > 0) this.line(e.t, 'drop', `the page cache of ${String(f['dev'])} is dropped (${num('pages')} pages)`);
        break;
      case 'blockdev_export_submit':
        if (num('b') === 0) this.commands.read++;
        else if (num('b') === 1) this.commands.write++;
        break;
      case 'spdk_bs_init':
        this.claimed.push(new Set());
        this.reused.push(new Set());
        this.blocksPerCluster.push(num('b') > 0 ? (this.diskSizes[this.claimed.length - 1] ?? 0) / num('b') / PAGE : 256);
        this.line(e.t, 'bs', `blobstore ${this.claimed.length - 1} initialised: ${num('b')} clusters`);
        break;
      case 'bs_claim_cluster':
        this.claimed[bs]?.add(num('a'));
        this.line(e.t, 'claim', 'bs_claim_cluster: physical cluster', num('a'));
        break;
      case 'bs_release_cluster':
        this.line(e.t, 'release', 'bs_release_cluster: physical cluster', num('a'));
        break;
      case 'blob_aio_unmap_ignored': {
        const per = this.blocksPerCluster[bs] ?? 256;
        const first = Math.floor(num('a') / per);
        const last = Math.floor((num('a') + num('b') - 1) / per);
        for (let c = first; c <= last; c++) {
          // Only a cluster that was in use keeps bytes worth calling stale.
          if (this.claimed[bs]?.has(c)) {
            this.reused[bs]?.add(c);
            this.line(e.t, 'unmap', 'unmap ignored by the AIO disk, old bytes stay in physical cluster', c);
          }
        }
        break;
      }
      case 'spdk_lvol_create':
        this.line(e.t, 'lvol', `lvol created (blob 0x${num('a').toString(16)}${num('b').toString(16).padStart(8, '0')})`);
        break;
      case 'spdk_lvol_destroy':
        this.line(e.t, 'lvol-del', `lvol deleted (blob 0x${num('a').toString(16)}${num('b').toString(16).padStart(8, '0')})`);
        break;
      case 'bs_allocate_and_copy_cluster':
        this.line(e.t, 'alloc', 'first write into an unallocated cluster: bs_allocate_and_copy_cluster for logical cluster', num('b'));
        break;
      case 'spdk_bs_create_snapshot':
        this.line(e.t, 'snap', 'snapshot of the temp head created (it takes over the head\'s clusters)');
        break;
    }
  }
}
