/** An independent decoder of a blobstore's on-disk bytes (spec §1), written from the format alone
 *  so tests can check what the C left on the device: super block, the three masks, every live
 *  blob's md chain, extent table / RLE extents and extent pages. */
import { PAGE } from './bs-harness.js';

/** Table-driven CRC-32C (Castagnoli, reflected); bs-harness's bitwise one checks it. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(b: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < b.length; i++) crc = CRC_TABLE[(crc ^ b[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const DESC_AREA = 4072;
const INVALID_PAGE = 0xffffffff;

export interface Super {
  crcOk: boolean;
  signature: string;
  version: number;
  clean: number;
  superBlob: bigint;
  clusterSize: number;
  pageMask: [number, number];
  clusterMask: [number, number];
  blobidMask: [number, number];
  mdStart: number;
  mdLen: number;
  bstype: string;
  size: bigint;
  ioUnit: number;
}

export interface Blob {
  index: number;
  chain: number[];
  extentPages: number[];
  numClusters: number;
  /** Physical cluster per blob cluster, 0 = unallocated. */
  clusters: number[];
  invalidFlags: bigint;
  dataRoFlags: bigint;
  xattrs: Map<string, Uint8Array>;
  internal: Map<string, Uint8Array>;
}

export interface Store {
  sb: Super;
  totalClusters: number;
  mdClusters: number;
  blobs: Map<number, Blob>;
  /** Valid roots whose chain or extent pages do not decode. */
  broken: string[];
}

export function decodeSuper(b: Uint8Array): Super {
  const dv = new DataView(b.buffer, b.byteOffset, PAGE);
  const str = (o: number, n: number) => new TextDecoder().decode(b.subarray(o, o + n)).replace(/\0+$/, '');
  return {
    crcOk: dv.getUint32(4092, true) === crc32c(b.subarray(0, 4092)),
    signature: str(0, 8),
    version: dv.getUint32(8, true),
    clean: dv.getUint32(16, true),
    superBlob: dv.getBigUint64(20, true),
    clusterSize: dv.getUint32(28, true),
    pageMask: [dv.getUint32(32, true), dv.getUint32(36, true)],
    clusterMask: [dv.getUint32(40, true), dv.getUint32(44, true)],
    mdStart: dv.getUint32(48, true),
    mdLen: dv.getUint32(52, true),
    bstype: str(56, 16),
    blobidMask: [dv.getUint32(72, true), dv.getUint32(76, true)],
    size: dv.getBigUint64(80, true),
    ioUnit: dv.getUint32(88, true),
  };
}

/** Bits set in the mask stored at `page` (header type u8, length u32 in bits, then LSB-first). */
export function decodeMask(dev: Uint8Array, page: number, type: number, bits: number): Set<number> {
  const b = dev.subarray(page * PAGE);
  const dv = new DataView(b.buffer, b.byteOffset);
  if (b[0] !== type || dv.getUint32(1, true) !== bits) throw new Error(`mask at page ${page}: type ${b[0]} length ${dv.getUint32(1, true)}, expected type ${type} length ${bits}`);
  const out = new Set<number>();
  for (let i = 0; i < bits; i++) if ((b[5 + (i >> 3)]! >> (i & 7)) & 1) out.add(i);
  return out;
}

interface Page { dv: DataView; b: Uint8Array; crcOk: boolean; id: bigint; seq: number; next: number }

function page(dev: Uint8Array, sb: Super, idx: number): Page {
  const b = dev.subarray((sb.mdStart + idx) * PAGE, (sb.mdStart + idx + 1) * PAGE);
  const dv = new DataView(b.buffer, b.byteOffset, PAGE);
  return { dv, b, crcOk: dv.getUint32(4092, true) === crc32c(b.subarray(0, 4092)), id: dv.getBigUint64(0, true), seq: dv.getUint32(8, true), next: dv.getUint32(4088, true) };
}

function* descriptors(p: Page): Generator<{ type: number; len: number; off: number }> {
  let cur = 0;
  while (cur + 5 <= DESC_AREA) {
    const type = p.b[16 + cur]!, len = p.dv.getUint32(16 + cur + 1, true);
    if (type === 0 && len === 0) return;
    if (cur + 5 + len > DESC_AREA) throw new Error(`descriptor at ${cur} overruns the page`);
    yield { type, len, off: 16 + cur + 5 };
    cur += 5 + len;
  }
}

const blobid = (idx: number) => (1n << 32n) | BigInt(idx);

function decodeBlob(dev: Uint8Array, sb: Super, root: number, totalClusters: number): Blob {
  const blob: Blob = { index: root, chain: [], extentPages: [], numClusters: 0, clusters: [], invalidFlags: 0n, dataRoFlags: 0n, xattrs: new Map(), internal: new Map() };
  let idx = root;
  let table: number[] | undefined;
  for (;;) {
    const p = page(dev, sb, idx);
    if (!p.crcOk || p.id !== blobid(root) || p.seq !== blob.chain.length) throw new Error(`chain page ${idx} (seq ${blob.chain.length}) does not belong to blob ${root}`);
    if (blob.chain.includes(idx)) throw new Error(`chain loops at page ${idx}`);
    blob.chain.push(idx);
    for (const d of descriptors(p)) {
      if (d.type === 3) {
        blob.invalidFlags = p.dv.getBigUint64(d.off, true);
        blob.dataRoFlags = p.dv.getBigUint64(d.off + 8, true);
      } else if (d.type === 2 || d.type === 4) {
        const nl = p.dv.getUint16(d.off, true), vl = p.dv.getUint16(d.off + 2, true);
        const name = new TextDecoder().decode(p.b.subarray(d.off + 4, d.off + 4 + nl));
        (d.type === 2 ? blob.xattrs : blob.internal).set(name, p.b.slice(d.off + 4 + nl, d.off + 4 + nl + vl));
      } else if (d.type === 1) {
        for (let o = 0; o < d.len; o += 8) {
          const c = p.dv.getUint32(d.off + o, true), n = p.dv.getUint32(d.off + o + 4, true);
          for (let k = 0; k < n; k++) blob.clusters.push(c === 0 ? 0 : c + k);
        }
        blob.numClusters = blob.clusters.length;
      } else if (d.type === 5) {
        blob.numClusters = Number(p.dv.getBigUint64(d.off, true));
        table ??= [];
        for (let o = 8; o < d.len; o += 8) {
          const pi = p.dv.getUint32(d.off + o, true), n = p.dv.getUint32(d.off + o + 4, true);
          for (let k = 0; k < n; k++) table.push(pi);
        }
      }
    }
    if (p.next === INVALID_PAGE) break;
    if (p.next >= sb.mdLen) throw new Error(`next ${p.next} beyond md_len`);
    idx = p.next;
  }
  if (table !== undefined) {
    blob.clusters = new Array<number>(blob.numClusters).fill(0);
    table.forEach((ep, k) => {
      if (ep === 0) return;
      const p = page(dev, sb, ep);
      if (!p.crcOk || p.id !== blobid(root)) throw new Error(`extent page ${ep} does not belong to blob ${root}`);
      const [d] = [...descriptors(p)];
      if (d === undefined || d.type !== 6) throw new Error(`extent page ${ep} holds no EXTENT_PAGE descriptor`);
      const start = p.dv.getUint32(d.off, true);
      if (start !== k * 512) throw new Error(`extent page ${ep} starts at cluster ${start}, expected ${k * 512}`);
      // Entries past the root's num_clusters name nothing (a grow whose root never landed).
      for (let i = 0; i < Math.min((d.len - 4) / 4, blob.numClusters - start); i++) {
        blob.clusters[start + i] = p.dv.getUint32(d.off + 4 + 4 * i, true);
      }
      blob.extentPages.push(ep);
    });
  }
  for (const c of blob.clusters) if (c !== 0 && c >= totalClusters) throw new Error(`cluster ${c} beyond total ${totalClusters}`);
  return blob;
}

/** Every live blob (valid root at its own index with a valid chain), as dirty-load recovery sees it. */
export function decodeStore(dev: Uint8Array): Store {
  const sb = decodeSuper(dev);
  const totalClusters = Number(sb.size / BigInt(sb.clusterSize));
  const mdClusters = Math.ceil((sb.mdStart + sb.mdLen) / (sb.clusterSize / PAGE));
  const blobs = new Map<number, Blob>();
  const broken: string[] = [];
  for (let i = 0; i < sb.mdLen; i++) {
    const p = page(dev, sb, i);
    if (!p.crcOk || p.seq !== 0 || p.id !== blobid(i)) continue;
    try {
      blobs.set(i, decodeBlob(dev, sb, i, totalClusters));
    } catch (e) {
      broken.push(`blob ${i}: ${(e as Error).message}`);
    }
  }
  return { sb, totalClusters, mdClusters, blobs, broken };
}

/** Problems with a store on disk: clusters or md pages owned twice, parents that do not exist,
 *  unfinished snapshot markers, and (when the super block says clean) masks that differ from what
 *  the live blobs own (leaks or missing bits). */
export function storeProblems(dev: Uint8Array): string[] {
  const s = decodeStore(dev);
  const out = [...s.broken];
  if (!s.sb.crcOk || s.sb.signature !== 'SPDKBLOB') out.push('super block does not decode');
  const clusterOwner = new Map<number, number>();
  const pageOwner = new Map<number, number>();
  for (const b of s.blobs.values()) {
    for (const p of [...b.chain, ...b.extentPages]) {
      if (pageOwner.has(p)) out.push(`md page ${p} owned by blobs ${pageOwner.get(p)} and ${b.index}`);
      pageOwner.set(p, b.index);
    }
    b.clusters.forEach((c, i) => {
      if (c === 0) return;
      if (c < s.mdClusters) out.push(`blob ${b.index} cluster ${i} maps metadata cluster ${c}`);
      if (clusterOwner.has(c)) out.push(`cluster ${c} owned by blobs ${clusterOwner.get(c)} and ${b.index}`);
      clusterOwner.set(c, b.index);
    });
    for (const m of ['SNAPTMP', 'SNAPRM']) if (b.internal.has(m)) out.push(`blob ${b.index} still carries ${m}`);
    const snap = b.internal.get('SNAP');
    if (snap) {
      const parent = new DataView(snap.buffer, snap.byteOffset).getBigUint64(0, true);
      if (!s.blobs.has(Number(parent & 0xffffffffn))) out.push(`blob ${b.index} names parent ${parent.toString(16)}, which is not a live blob`);
    }
  }
  if (s.sb.clean === 1) {
    const pages = decodeMask(dev, s.sb.pageMask[0], 0, s.sb.mdLen);
    const clusters = decodeMask(dev, s.sb.clusterMask[0], 1, s.totalClusters);
    const ids = decodeMask(dev, s.sb.blobidMask[0], 2, s.sb.mdLen);
    const wantClusters = new Set([...Array(s.mdClusters).keys(), ...clusterOwner.keys()]);
    diff(out, 'used_clusters', clusters, wantClusters);
    diff(out, 'used_md_pages', pages, new Set(pageOwner.keys()));
    diff(out, 'used_blobids', ids, new Set(s.blobs.keys()));
  }
  return out;
}

function diff(out: string[], what: string, got: Set<number>, want: Set<number>): void {
  const leaked = [...got].filter((x) => !want.has(x));
  const missing = [...want].filter((x) => !got.has(x));
  if (leaked.length) out.push(`${what}: bits set that nothing owns (leak): ${leaked.join(',')}`);
  if (missing.length) out.push(`${what}: bits clear that a live blob uses: ${missing.join(',')}`);
}
