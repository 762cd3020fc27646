/**
 * Worker side of the sparse-backing-image page. Beyond the trace it observes two things, read-only:
 * the host page cache of every device opened buffered (captured at each close, just before the
 * last close writes back and drops it, and at every step), and each lvol store's lvols with the
 * physical cluster behind every logical cluster (the C's own cluster maps). Completions of device
 * commands and blob metadata writes are only counted.
 */
import type { Kernel } from '../../../../kernel/kernel.js';
import type { Session } from '../../../../scenarios/contract.js';
import type { World } from '../../../../sim/world.js';
import type { SpdkMachine } from '../../../../spdk/machine.js';
import { lvolsOf, lvsName, str, stores } from '../../../../spdk/rpc/lvol.js';
import type { ReplayProbe } from '../probe.js';

/** One page per character: '.' not cached, 'c' clean, 'd' dirty. */
export type PageMap = string;

export interface CacheFrame {
  t: number;
  dev: string;
  /** The descriptor being closed and how many stay open. */
  fd: number;
  openersLeft: number;
  pages: PageMap;
}

export interface LiveCache {
  dev: string;
  openers: number;
  pages: PageMap;
}

export interface LvolMap {
  name: string;
  thin: boolean;
  snapshot: boolean;
  numClusters: number;
  allocated: number;
  /** Physical cluster behind each logical cluster (0: not allocated). */
  clusters: number[];
}

export interface LvsMap {
  name: string;
  lvols: LvolMap[];
}

export interface SparseObservations {
  /** Page caches captured at closes since the last step. */
  frames: CacheFrame[];
  live: LiveCache[];
  lvstores: LvsMap[];
}

const MACHINE = 'node';
const NOT_DRAWN = new Set(['blockdev_export_done', 'blob_op_done', 'blob_persist', 'blob_persist_complete']);

function kernelOf(world: World): Kernel | undefined {
  const m = world.find(MACHINE) as SpdkMachine | undefined;
  const k = m?.kernel as Partial<Kernel> | undefined;
  return k?.blk !== undefined ? (k as Kernel) : undefined;
}

export function pageMap(k: Kernel, dev: string): PageMap | undefined {
  const d = k.blk.device(dev);
  if (d === undefined) return undefined;
  const out = new Array<string>(Math.ceil(d.size / 4096)).fill('.');
  for (const p of d.cached()) out[p.page] = p.dirty ? 'd' : 'c';
  return out.join('');
}

function lvstores(world: World): LvsMap[] {
  const m = world.find(MACHINE) as SpdkMachine | undefined;
  if (m === undefined) return [];
  return stores(m).map((lvs) => ({
    name: lvsName(m, lvs),
    lvols: lvolsOf(m, lvs).map((l) => {
      const info = (f: number): number => m.api.spdk_wasm_lvol_info(l, f);
      const blob = m.api.spdk_wasm_lvol_blob(l);
      const numClusters = blob === 0 ? 0 : info(0);
      const clusters = Array.from({ length: numClusters }, (_, i) => m.api.spdk_wasm_blob_cluster(blob, i));
      return { name: str(m, m.api.spdk_wasm_lvol_name(l)), thin: info(2) === 1, snapshot: info(4) === 1, numClusters, allocated: blob === 0 ? 0 : info(1), clusters };
    }),
  }));
}

export function sparseBackingImageProbe(): ReplayProbe {
  const buffered = new Set<string>();
  /** Descriptors opened buffered (an O_DIRECT close says nothing about the cache). */
  const bufferedFds = new Set<number>();
  let frames: CacheFrame[] = [];
  return {
    keep: (e) => !NOT_DRAWN.has(e.ev),
    attach(world) {
      world.trace.subscribe((e) => {
        if (e.m !== MACHINE) return;
        const dev = String(e.f?.['dev'] ?? '');
        const fd = Number(e.f?.['fd']);
        if (e.ev === 'blk.open' && e.f?.['direct'] === false) {
          buffered.add(dev);
          bufferedFds.add(fd);
        }
        // The close is recorded before a last close writes back and drops the cache.
        if (e.ev === 'blk.close' && bufferedFds.delete(fd)) {
          const k = kernelOf(world);
          const pages = k === undefined ? undefined : pageMap(k, dev);
          if (pages !== undefined) frames.push({ t: e.t, dev, fd, openersLeft: Number(e.f?.['openers']), pages });
        }
      });
    },
    inspect: () => null,
    collect(session: Session): SparseObservations {
      const out: SparseObservations = { frames, live: [], lvstores: [] };
      frames = [];
      const k = kernelOf(session.world);
      if (k === undefined) return out;
      for (const dev of buffered) {
        const pages = pageMap(k, dev);
        const d = k.blk.device(dev);
        if (pages !== undefined && d !== undefined) out.live.push({ dev, openers: d.openers, pages });
      }
      try {
        out.lvstores = lvstores(session.world);
      } catch {
        // A crashed machine cannot be asked; the verdict says why.
      }
      return out;
    },
  };
}
