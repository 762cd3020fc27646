/**
 * The host block layer of one machine: block devices by path, each with a page cache shared by
 * every open descriptor, after Linux's block-device inode (fs/block_dev / block/bdev.c, mm/filemap):
 *
 * - 4 KiB pages. A buffered write makes dirty pages (a partial page is read in first); a buffered
 *   read serves cached pages and fills missing ones from the device as clean pages.
 * - Write-back happens only on fsync (then a device FLUSH) and on the last close — no background
 *   flusher, so a run is deterministic (spec §4.5: a background write-back would only move the
 *   moment stale bytes become visible). The last close writes back, then drops every page
 *   (blkdev_put -> sync_blockdev + kill_bdev).
 * - O_DIRECT bypasses the cache: a direct read first writes back dirty pages of its range (as
 *   Linux's direct I/O does) and then reads the device, so clean cached pages never hide what the
 *   device holds; a direct write invalidates the cached pages it covers.
 * - The C model reaches the same devices through io_uring-like rings (host_blk_* imports).
 *
 * Block descriptors live in their own table, numbered from 1000, so they never collide with sockets.
 */
import * as abi from '../gen/abi.js';
import type { BlockBackend, BlockIo } from './blockdev-backend.js';
import { all, Pending, type Scheduler } from './blockdev-wait.js';
import { FdTable } from './fd-table.js';
import type { GuestMemory } from './host-kernel.js';

export const PAGE_SIZE = 4096;

const readFail = (rc: number): Pending<Uint8Array | number> => Pending.of<Uint8Array | number>(rc);
/** Largest single device command the cache builds (a typical max_sectors_kb of 128 KiB). */
export const MAX_IO_BYTES = 128 * 1024;

interface Page {
  data: Uint8Array;
  dirty: boolean;
}

export interface BlockDeviceStats {
  opens: number;
  lastCloses: number;
  cacheHitPages: number;
  cacheMissPages: number;
  dirtiedPages: number;
  writebackPages: number;
  writebackIos: number;
  droppedPages: number;
  directReads: number;
  directWrites: number;
  fsyncs: number;
  errors: number;
}

export class BlockDevice {
  readonly pages = new Map<number, Page>();
  openers = 0;
  readonly stats: BlockDeviceStats = {
    opens: 0, lastCloses: 0, cacheHitPages: 0, cacheMissPages: 0, dirtiedPages: 0, writebackPages: 0,
    writebackIos: 0, droppedPages: 0, directReads: 0, directWrites: 0, fsyncs: 0, errors: 0,
  };

  constructor(readonly name: string, readonly backend: BlockBackend) {
    if (backend.size % PAGE_SIZE !== 0) throw new Error(`block device ${name}: size ${backend.size} is not a multiple of ${PAGE_SIZE}`);
    if (PAGE_SIZE % backend.blocklen !== 0) throw new Error(`block device ${name}: block size ${backend.blocklen} does not divide ${PAGE_SIZE}`);
  }

  get size(): number {
    return this.backend.size;
  }

  get blocklen(): number {
    return this.backend.blocklen;
  }

  /** Cached pages in index order, for tests and views. */
  cached(): { page: number; dirty: boolean }[] {
    return [...this.pages.entries()].sort((a, b) => a[0] - b[0]).map(([page, p]) => ({ page, dirty: p.dirty }));
  }

  dirtyCount(): number {
    let n = 0;
    for (const p of this.pages.values()) if (p.dirty) n++;
    return n;
  }

  /** One device command; settles with rc and (reads) the bytes. */
  io(io: BlockIo): Pending<{ rc: number; data?: Uint8Array }> {
    const p = new Pending<{ rc: number; data?: Uint8Array }>();
    this.backend.submit(io, (rc, data) => {
      if (rc < 0) this.stats.errors++;
      p.resolve(data === undefined ? { rc } : { rc, data });
    });
    return p;
  }
}

interface OpenFile {
  dev: BlockDevice;
  flags: number;
  pos: number;
}

interface Ring {
  entries: number;
  inflight: number;
  cq: { userData: number; res: number }[];
}

export interface BlockLayerOptions {
  /** Trace hook (the kernel records into the world's trace). */
  record?: (ev: string, f: Record<string, string | number | boolean>) => void;
  /** Guest memory of the machine, for the C's ring submissions. */
  mem?: GuestMemory;
}

export class BlockLayer {
  private readonly devices = new Map<string, BlockDevice>();
  private readonly fds = new FdTable<OpenFile>(1000);
  private readonly rings = new Map<number, Ring>();
  private nextRing = 1;
  private readonly exports = new Map<number, (rc: number) => void>();
  private nextTag = 1;

  constructor(private readonly sched: Scheduler, private readonly opts: BlockLayerOptions = {}) {}

  // ---- devices ----

  addDevice(path: string, backend: BlockBackend): BlockDevice {
    if (this.devices.has(path)) throw new Error(`block device ${path} exists`);
    const d = new BlockDevice(path, backend);
    this.devices.set(path, d);
    this.record('blk.add', { dev: path, kind: backend.kind, size: backend.size });
    return d;
  }

  /** Removes a device nobody has open (-EBUSY otherwise, -ENOENT if unknown). */
  removeDevice(path: string): number {
    const d = this.devices.get(path);
    if (d === undefined) return -abi.ENOENT;
    if (d.openers > 0) return -abi.EBUSY;
    this.devices.delete(path);
    this.record('blk.remove', { dev: path });
    return 0;
  }

  device(path: string): BlockDevice | undefined {
    return this.devices.get(path);
  }

  // ---- file operations (host processes) ----

  open(path: string, flags: number): number {
    const dev = this.devices.get(path);
    if (dev === undefined) return -abi.ENOENT;
    dev.openers++;
    dev.stats.opens++;
    const fd = this.fds.alloc({ dev, flags, pos: 0 });
    this.record('blk.open', { dev: path, fd, direct: (flags & abi.O_DIRECT) !== 0, openers: dev.openers });
    return fd;
  }

  /** The device behind fd (tests and views). */
  deviceOf(fd: number): BlockDevice | undefined {
    return this.fds.get(fd)?.dev;
  }

  lseek(fd: number, offset: number, whence: number): number {
    const f = this.fds.get(fd);
    if (f === undefined) return -abi.EBADF;
    const base = whence === abi.SEEK_SET ? 0 : whence === abi.SEEK_CUR ? f.pos : whence === abi.SEEK_END ? f.dev.size : NaN;
    if (Number.isNaN(base)) return -abi.EINVAL;
    if (base + offset < 0) return -abi.EINVAL;
    f.pos = base + offset;
    return f.pos;
  }

  /** Reads up to len bytes at offset: the bytes (short at the end of the device) or -errno. */
  pread(fd: number, len: number, offset: number): Pending<Uint8Array | number> {
    const f = this.fds.get(fd);
    if (f === undefined) return readFail(-abi.EBADF);
    if ((f.flags & abi.O_ACCMODE) === abi.O_WRONLY) return readFail(-abi.EBADF);
    return f.flags & abi.O_DIRECT ? this.directRead(f.dev, offset, len) : this.bufferedRead(f.dev, offset, len);
  }

  /** Writes data at offset: bytes written or -errno. */
  pwrite(fd: number, data: Uint8Array, offset: number): Pending<number> {
    const f = this.fds.get(fd);
    if (f === undefined) return Pending.of(-abi.EBADF);
    if ((f.flags & abi.O_ACCMODE) === abi.O_RDONLY) return Pending.of(-abi.EBADF);
    return f.flags & abi.O_DIRECT ? this.directWrite(f.dev, offset, data) : this.bufferedWrite(f.dev, offset, data);
  }

  /** read(2): at the descriptor's position, which advances by what was read. */
  read(fd: number, len: number): Pending<Uint8Array | number> {
    const f = this.fds.get(fd);
    if (f === undefined) return readFail(-abi.EBADF);
    const out = new Pending<Uint8Array | number>();
    this.pread(fd, len, f.pos).then((r) => {
      if (typeof r !== 'number') f.pos += r.length;
      out.resolve(r);
    });
    return out;
  }

  /** write(2): at the descriptor's position, which advances by what was written. */
  write(fd: number, data: Uint8Array): Pending<number> {
    const f = this.fds.get(fd);
    if (f === undefined) return Pending.of(-abi.EBADF);
    const out = new Pending<number>();
    this.pwrite(fd, data, f.pos).then((n) => {
      if (n > 0) f.pos += n;
      out.resolve(n);
    });
    return out;
  }

  /** Writes back every dirty page of the device, then sends the device a FLUSH. */
  fsync(fd: number): Pending<number> {
    const f = this.fds.get(fd);
    if (f === undefined) return Pending.of(-abi.EBADF);
    const out = new Pending<number>();
    f.dev.stats.fsyncs++;
    this.writeback(f.dev, 0, f.dev.size).then((rc) => {
      if (rc < 0) return out.resolve(rc);
      f.dev.io({ op: 'flush', offset: 0, len: 0 }).then((r) => out.resolve(r.rc));
    });
    return out;
  }

  /** close(2). The descriptor is gone at once; the last close of a device writes its dirty pages
   *  back and then drops its whole cache, and the Pending settles after that. */
  close(fd: number): Pending<number> {
    const f = this.fds.delete(fd);
    if (f === undefined) return Pending.of(-abi.EBADF);
    const dev = f.dev;
    dev.openers--;
    this.record('blk.close', { dev: dev.name, fd, openers: dev.openers });
    if (dev.openers > 0) return Pending.of(0);
    dev.stats.lastCloses++;
    const out = new Pending<number>();
    this.writeback(dev, 0, dev.size).then(() => {
      if (dev.openers === 0) {
        const n = dev.pages.size;
        dev.pages.clear();
        dev.stats.droppedPages += n;
        this.record('blk.drop_cache', { dev: dev.name, pages: n });
      }
      out.resolve(0);
    });
    return out;
  }

  /** sync(1): writes back every device's dirty pages (no FLUSH; the caches stay). */
  syncAll(): Pending<number> {
    const out = new Pending<number>();
    all([...this.devices.values()].map((d) => this.writeback(d, 0, d.size))).then((rcs) => out.resolve(rcs.find((rc) => rc < 0) ?? 0));
    return out;
  }

  // ---- the cache ----

  private bufferedRead(dev: BlockDevice, offset: number, len: number): Pending<Uint8Array | number> {
    if (offset < 0 || len < 0) return readFail(-abi.EINVAL);
    const end = Math.min(offset + len, dev.size);
    if (offset >= end) return Pending.of<Uint8Array | number>(new Uint8Array(0));
    const out = new Pending<Uint8Array | number>();
    this.fill(dev, Math.floor(offset / PAGE_SIZE), Math.ceil(end / PAGE_SIZE)).then((rc) => {
      if (rc < 0) return out.resolve(rc);
      const buf = new Uint8Array(end - offset);
      for (let p = Math.floor(offset / PAGE_SIZE); p * PAGE_SIZE < end; p++) {
        const page = dev.pages.get(p);
        if (page === undefined) return out.resolve(-abi.EIO);
        const from = Math.max(offset, p * PAGE_SIZE);
        const to = Math.min(end, (p + 1) * PAGE_SIZE);
        buf.set(page.data.subarray(from - p * PAGE_SIZE, to - p * PAGE_SIZE), from - offset);
      }
      out.resolve(buf);
    });
    return out;
  }

  /** Makes pages [first, last) present: missing runs are read from the device and inserted
   *  clean, unless a write created the page meanwhile (the newer data wins). */
  private fill(dev: BlockDevice, first: number, last: number): Pending<number> {
    const reads: Pending<number>[] = [];
    const maxPages = MAX_IO_BYTES / PAGE_SIZE;
    let p = first;
    while (p < last) {
      if (dev.pages.has(p)) {
        dev.stats.cacheHitPages++;
        p++;
        continue;
      }
      const start = p;
      while (p < last && !dev.pages.has(p) && p - start < maxPages) p++;
      const n = p - start;
      dev.stats.cacheMissPages += n;
      const r = new Pending<number>();
      dev.io({ op: 'read', offset: start * PAGE_SIZE, len: n * PAGE_SIZE }).then(({ rc, data }) => {
        if (rc < 0 || data === undefined) return r.resolve(rc < 0 ? rc : -abi.EIO);
        for (let i = 0; i < n; i++) {
          if (!dev.pages.has(start + i)) dev.pages.set(start + i, { data: data.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), dirty: false });
        }
        r.resolve(0);
      });
      reads.push(r);
    }
    const out = new Pending<number>();
    all(reads).then((rcs) => out.resolve(rcs.find((rc) => rc < 0) ?? 0));
    return out;
  }

  private bufferedWrite(dev: BlockDevice, offset: number, data: Uint8Array): Pending<number> {
    if (offset < 0) return Pending.of(-abi.EINVAL);
    if (offset >= dev.size) return Pending.of(data.length === 0 ? 0 : -abi.ENOSPC);
    const end = Math.min(offset + data.length, dev.size);
    const src = data.slice(0, end - offset);
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.ceil(end / PAGE_SIZE);
    // Partial pages at either edge need their other bytes: read them in first.
    const fills: Pending<number>[] = [];
    if (offset % PAGE_SIZE !== 0) fills.push(this.fill(dev, first, first + 1));
    if (end % PAGE_SIZE !== 0 && (last - 1 !== first || offset % PAGE_SIZE === 0)) fills.push(this.fill(dev, last - 1, last));
    const out = new Pending<number>();
    all(fills).then((rcs) => {
      const bad = rcs.find((rc) => rc < 0);
      if (bad !== undefined) return out.resolve(bad);
      for (let p = first; p < last; p++) {
        const from = Math.max(offset, p * PAGE_SIZE);
        const to = Math.min(end, (p + 1) * PAGE_SIZE);
        let page = dev.pages.get(p);
        if (page === undefined) {
          // Only whole pages get here without a fill.
          page = { data: new Uint8Array(PAGE_SIZE), dirty: false };
          dev.pages.set(p, page);
        }
        page.data.set(src.subarray(from - offset, to - offset), from - p * PAGE_SIZE);
        if (!page.dirty) dev.stats.dirtiedPages++;
        page.dirty = true;
      }
      out.resolve(end - offset);
    });
    return out;
  }

  /** Writes back the dirty pages overlapping [offset, end), in ascending runs of at most
   *  MAX_IO_BYTES. Pages turn clean when their write is submitted (a later write re-dirties). */
  private writeback(dev: BlockDevice, offset: number, end: number): Pending<number> {
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.ceil(end / PAGE_SIZE);
    const dirty = [...dev.pages.entries()].filter(([i, p]) => p.dirty && i >= first && i < last).map(([i]) => i).sort((a, b) => a - b);
    const writes: Pending<number>[] = [];
    const maxPages = MAX_IO_BYTES / PAGE_SIZE;
    for (let k = 0; k < dirty.length;) {
      let n = 1;
      while (k + n < dirty.length && dirty[k + n] === dirty[k]! + n && n < maxPages) n++;
      const start = dirty[k]!;
      const buf = new Uint8Array(n * PAGE_SIZE);
      for (let i = 0; i < n; i++) {
        const page = dev.pages.get(start + i)!;
        buf.set(page.data, i * PAGE_SIZE);
        page.dirty = false;
      }
      dev.stats.writebackPages += n;
      dev.stats.writebackIos++;
      const w = new Pending<number>();
      dev.io({ op: 'write', offset: start * PAGE_SIZE, len: n * PAGE_SIZE, data: buf }).then(({ rc }) => w.resolve(rc));
      writes.push(w);
      k += n;
    }
    if (dirty.length > 0) this.record('blk.writeback', { dev: dev.name, pages: dirty.length, ios: writes.length });
    const out = new Pending<number>();
    all(writes).then((rcs) => out.resolve(rcs.find((rc) => rc < 0) ?? 0));
    return out;
  }

  private aligned(dev: BlockDevice, offset: number, len: number): boolean {
    return offset >= 0 && len >= 0 && offset % dev.blocklen === 0 && len % dev.blocklen === 0;
  }

  private directRead(dev: BlockDevice, offset: number, len: number): Pending<Uint8Array | number> {
    if (!this.aligned(dev, offset, len)) return readFail(-abi.EINVAL);
    const end = Math.min(offset + len, dev.size);
    if (offset >= end) return Pending.of<Uint8Array | number>(new Uint8Array(0));
    dev.stats.directReads++;
    const out = new Pending<Uint8Array | number>();
    this.writeback(dev, offset, end).then((rc) => {
      if (rc < 0) return out.resolve(rc);
      dev.io({ op: 'read', offset, len: end - offset }).then((r) => out.resolve(r.rc < 0 ? r.rc : r.data ?? -abi.EIO));
    });
    return out;
  }

  private directWrite(dev: BlockDevice, offset: number, data: Uint8Array): Pending<number> {
    if (!this.aligned(dev, offset, data.length)) return Pending.of(-abi.EINVAL);
    if (offset + data.length > dev.size) return Pending.of(-abi.ENOSPC);
    dev.stats.directWrites++;
    const out = new Pending<number>();
    this.writeback(dev, offset, offset + data.length).then((rc) => {
      if (rc < 0) return out.resolve(rc);
      dev.io({ op: 'write', offset, len: data.length, data }).then((r) => {
        this.invalidate(dev, offset, offset + data.length);
        out.resolve(r.rc < 0 ? r.rc : data.length);
      });
    });
    return out;
  }

  /** Drops cached pages overlapping [offset, end) (truncate_bdev_range / invalidation). */
  private invalidate(dev: BlockDevice, offset: number, end: number): void {
    for (let p = Math.floor(offset / PAGE_SIZE); p * PAGE_SIZE < end; p++) dev.pages.delete(p);
  }

  // ---- rings (the C model's asynchronous I/O, host_blk_* imports) ----

  blkOpen(path: string, flags: number): number {
    return this.open(path, flags);
  }

  blkInfo(fd: number): { blocklen: number; size: number } | number {
    const f = this.fds.get(fd);
    return f === undefined ? -abi.EBADF : { blocklen: f.dev.blocklen, size: f.dev.size };
  }

  blkClose(fd: number): number {
    const p = this.close(fd);
    return p.settled ? p.value : 0;
  }

  blkRingCreate(entries: number): number {
    if (entries < 1 || entries > 32768) return -abi.EINVAL;
    const id = this.nextRing++;
    this.rings.set(id, { entries, inflight: 0, cq: [] });
    return id;
  }

  blkRingDestroy(ring: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -abi.EBADF;
    if (r.inflight > 0) return -abi.EBUSY;
    this.rings.delete(ring);
    return 0;
  }

  /** One submission from the C: the guest buffer is read now (WRITE) or filled at completion
   *  (READ); the completion is queued on the ring for blkReap. */
  blkSubmit(ring: number, fd: number, op: number, offset: number, len: number, buf: number, userData: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -abi.EBADF;
    const f = this.fds.get(fd);
    if (f === undefined) return -abi.EBADF;
    if (r.inflight >= r.entries) return -abi.EAGAIN;
    const mem = this.opts.mem;
    if (mem === undefined && (op === abi.HOST_BLK_OP_READ || op === abi.HOST_BLK_OP_WRITE)) return -abi.ENOSYS;
    const writable = (f.flags & abi.O_ACCMODE) !== abi.O_RDONLY;
    let p: Pending<number>;
    switch (op) {
      case abi.HOST_BLK_OP_READ:
        p = new Pending<number>();
        this.pread(fd, len, offset).then((res) => {
          if (typeof res === 'number') return p.resolve(res);
          mem!.bytes().set(res, buf);
          p.resolve(res.length);
        });
        break;
      case abi.HOST_BLK_OP_WRITE:
        p = this.pwrite(fd, mem!.bytes().slice(buf, buf + len), offset);
        break;
      case abi.HOST_BLK_OP_FLUSH:
        p = this.fsync(fd);
        break;
      case abi.HOST_BLK_OP_DISCARD:
      case abi.HOST_BLK_OP_WRITE_ZEROES: {
        if (!writable) return -abi.EBADF;
        if (!this.aligned(f.dev, offset, len) || offset + len > f.dev.size) return -abi.EINVAL;
        // blkdev_fallocate: the cached range goes first, then the device command.
        this.invalidate(f.dev, offset, offset + len);
        p = new Pending<number>();
        f.dev.io({ op: op === abi.HOST_BLK_OP_DISCARD ? 'discard' : 'write-zeroes', offset, len }).then((x) => p.resolve(x.rc < 0 ? x.rc : len));
        break;
      }
      default:
        return -abi.EINVAL;
    }
    r.inflight++;
    p.then((res) => {
      r.inflight--;
      r.cq.push({ userData: userData >>> 0, res });
    });
    return 0;
  }

  blkReap(ring: number, max: number): { userData: number; res: number }[] | number {
    const r = this.rings.get(ring);
    if (r === undefined) return -abi.EBADF;
    return r.cq.splice(0, Math.max(0, max));
  }

  // ---- exposure of SPDK storage (blockdev-export.ts) ----

  /** A tag for one request handed to the C; `done` runs from the scheduler when the C completes it. */
  exportTag(done: (rc: number) => void): number {
    const tag = this.nextTag;
    this.nextTag = (this.nextTag % 0x7fffffff) + 1;
    this.exports.set(tag, done);
    return tag;
  }

  exportCancel(tag: number): void {
    this.exports.delete(tag);
  }

  /** host_blk_export_done: called from inside the C, so the continuation is deferred. */
  blkExportDone(tag: number, rc: number): void {
    const done = this.exports.get(tag);
    if (done === undefined) {
      this.record('blk.export_unknown_tag', { tag, rc });
      return;
    }
    this.exports.delete(tag);
    this.sched.after(0, 'blk.export_done', () => done(rc));
  }

  private record(ev: string, f: Record<string, string | number | boolean>): void {
    this.opts.record?.(ev, f);
  }
}
