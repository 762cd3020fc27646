/** The host block layer's page-cache rules (host/kernel/blockdev.ts), each observed from bytes on
 *  the device versus bytes read through descriptors: shared cache across fds, write-back only on
 *  fsync and the last close, the drop at the last close, O_DIRECT bypass, rings for the C. */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { BlockLayer, PAGE_SIZE } from '../../../host/kernel/blockdev.js';
import { MemoryBackend } from '../../../host/kernel/blockdev-backend.js';
import { spawn, wait, type Pending, type Proc } from '../../../host/kernel/blockdev-wait.js';
import { World } from '../../../host/sim/world.js';

const SIZE = 64 * PAGE_SIZE;

function setup(latencyUs = 5) {
  const world = new World(1);
  const blk = new BlockLayer(world);
  const disk = new MemoryBackend(world, SIZE, { latencyUs });
  const dev = blk.addDevice('/dev/vda', disk);
  /** Runs a process to the end in virtual time and returns its value. */
  const run = <R>(body: Proc<R>): R => {
    const p = spawn(world, 'test', body) as Pending<R>;
    world.run(() => p.settled, 1e9);
    if (!p.settled) throw new Error('process did not finish');
    const v = p.value;
    if (v !== null && typeof v === 'object' && 'cause' in (v as object)) throw (v as unknown as { cause: unknown }).cause;
    return v;
  };
  return { world, blk, disk, dev, run };
}

const page = (byte: number, n = 1): Uint8Array => new Uint8Array(n * PAGE_SIZE).fill(byte);

describe('page cache', () => {
  it('a buffered write only dirties pages: the device is unchanged until write-back', () => {
    const { blk, disk, dev, run } = setup();
    run((function* () {
      const fd = blk.open('/dev/vda', abi.O_RDWR);
      expect(yield* wait(blk.pwrite(fd, page(0xaa, 2), 4 * PAGE_SIZE))).toBe(2 * PAGE_SIZE);
      expect(dev.dirtyCount()).toBe(2);
      expect(disk.counters.writes).toBe(0);
      expect(disk.bytes.subarray(4 * PAGE_SIZE, 6 * PAGE_SIZE).every((b) => b === 0)).toBe(true);
      // the writer reads its own data from the cache
      const r = yield* wait(blk.pread(fd, PAGE_SIZE, 5 * PAGE_SIZE));
      expect((r as Uint8Array).every((b) => b === 0xaa)).toBe(true);
    })());
  });

  it('the cache is shared by every fd: a second opener sees the first one\'s dirty data', () => {
    const { blk, disk, run } = setup();
    run((function* () {
      const w = blk.open('/dev/vda', abi.O_RDWR);
      yield* wait(blk.pwrite(w, page(0x11), 0));
      const r = blk.open('/dev/vda', abi.O_RDONLY);
      const got = (yield* wait(blk.pread(r, PAGE_SIZE, 0))) as Uint8Array;
      expect(got.every((b) => b === 0x11)).toBe(true);
      expect(disk.bytes[0]).toBe(0);
      // closing a non-last fd writes nothing back and keeps the cache
      yield* wait(blk.close(r));
      expect(disk.counters.writes).toBe(0);
      expect(blk.device('/dev/vda')!.pages.size).toBeGreaterThan(0);
    })());
  });

  it('a read miss fills clean pages from the device; later device changes stay hidden behind them', () => {
    const { blk, disk, dev, run } = setup();
    run((function* () {
      const fd = blk.open('/dev/vda', abi.O_RDONLY);
      yield* wait(blk.pread(fd, 2 * PAGE_SIZE, 0));
      expect(dev.cached()).toEqual([{ page: 0, dirty: false }, { page: 1, dirty: false }]);
      expect(dev.stats.cacheMissPages).toBe(2);
      disk.bytes.fill(0x77, 0, PAGE_SIZE); // the device changes underneath (another writer)
      const cached = (yield* wait(blk.pread(fd, PAGE_SIZE, 0))) as Uint8Array;
      expect(cached.every((b) => b === 0)).toBe(true);
      expect(dev.stats.cacheHitPages).toBe(1);
      // O_DIRECT bypasses the cache and sees the device
      const d = blk.open('/dev/vda', abi.O_RDONLY | abi.O_DIRECT);
      const direct = (yield* wait(blk.pread(d, PAGE_SIZE, 0))) as Uint8Array;
      expect(direct.every((b) => b === 0x77)).toBe(true);
    })());
  });

  it('fsync writes dirty pages back (ascending, merged) and flushes; pages stay cached and clean', () => {
    const { blk, disk, dev, run } = setup();
    run((function* () {
      const fd = blk.open('/dev/vda', abi.O_RDWR);
      yield* wait(blk.pwrite(fd, page(1), 9 * PAGE_SIZE));
      yield* wait(blk.pwrite(fd, page(2), 3 * PAGE_SIZE));
      yield* wait(blk.pwrite(fd, page(3), 4 * PAGE_SIZE));
      expect(yield* wait(blk.fsync(fd))).toBe(0);
      expect(disk.counters.writes).toBe(2); // pages 3-4 merged, page 9
      expect(disk.counters.flushes).toBe(1);
      expect(disk.bytes[3 * PAGE_SIZE]).toBe(2);
      expect(disk.bytes[4 * PAGE_SIZE]).toBe(3);
      expect(disk.bytes[9 * PAGE_SIZE]).toBe(1);
      expect(dev.dirtyCount()).toBe(0);
      expect(dev.pages.size).toBe(3);
    })());
  });

  it('the last close writes back, then drops the whole cache; the next reader sees the device', () => {
    const { blk, disk, dev, run } = setup();
    run((function* () {
      const w = blk.open('/dev/vda', abi.O_RDWR);
      const r = blk.open('/dev/vda', abi.O_RDONLY);
      yield* wait(blk.pwrite(w, page(0x5a), 0));
      yield* wait(blk.pread(r, PAGE_SIZE, PAGE_SIZE)); // clean page 1, reads zero
      disk.bytes.fill(0x66, PAGE_SIZE, 2 * PAGE_SIZE); // device differs from the clean page
      yield* wait(blk.close(r));
      expect(disk.counters.writes).toBe(0);
      yield* wait(blk.close(w)); // last close
      expect(disk.bytes[0]).toBe(0x5a);
      expect(dev.pages.size).toBe(0);
      expect(dev.stats.droppedPages).toBe(2);
      expect(dev.stats.lastCloses).toBe(1);
      const again = blk.open('/dev/vda', abi.O_RDONLY);
      const got = (yield* wait(blk.pread(again, PAGE_SIZE, PAGE_SIZE))) as Uint8Array;
      expect(got.every((b) => b === 0x66)).toBe(true);
    })());
  });

  it('O_DIRECT: a direct read writes back dirty pages of its range first (Linux), then reads the device', () => {
    const { blk, disk, run } = setup();
    run((function* () {
      const w = blk.open('/dev/vda', abi.O_RDWR);
      yield* wait(blk.pwrite(w, page(0x21), 2 * PAGE_SIZE));
      yield* wait(blk.pwrite(w, page(0x22), 8 * PAGE_SIZE));
      const d = blk.open('/dev/vda', abi.O_RDONLY | abi.O_DIRECT);
      const got = (yield* wait(blk.pread(d, 4 * PAGE_SIZE, 0))) as Uint8Array;
      expect(got[2 * PAGE_SIZE]).toBe(0x21);
      expect(disk.bytes[2 * PAGE_SIZE]).toBe(0x21); // written back
      expect(disk.bytes[8 * PAGE_SIZE]).toBe(0); // outside the range: still only dirty
      // misaligned direct I/O is refused
      expect(yield* wait(blk.pread(d, 100, 0))).toBe(-abi.EINVAL);
    })());
  });

  it('O_DIRECT write reaches the device at once and invalidates the cached copy', () => {
    const { blk, disk, dev, run } = setup();
    run((function* () {
      const b = blk.open('/dev/vda', abi.O_RDWR);
      yield* wait(blk.pread(b, PAGE_SIZE, 0));
      const d = blk.open('/dev/vda', abi.O_RDWR | abi.O_DIRECT);
      expect(yield* wait(blk.pwrite(d, page(0x99), 0))).toBe(PAGE_SIZE);
      expect(disk.bytes[0]).toBe(0x99);
      expect(dev.pages.has(0)).toBe(false);
      expect(((yield* wait(blk.pread(b, PAGE_SIZE, 0))) as Uint8Array)[0]).toBe(0x99);
    })());
  });

  it('partial-page writes read the page in first; seek + write follows the position', () => {
    const { blk, disk, run } = setup();
    disk.bytes.fill(0x33, 0, 2 * PAGE_SIZE);
    run((function* () {
      const fd = blk.open('/dev/vda', abi.O_RDWR);
      expect(blk.lseek(fd, 100, abi.SEEK_SET)).toBe(100);
      expect(yield* wait(blk.write(fd, new Uint8Array(10).fill(0x44)))).toBe(10);
      expect(blk.lseek(fd, 0, abi.SEEK_CUR)).toBe(110);
      const got = (yield* wait(blk.pread(fd, PAGE_SIZE, 0))) as Uint8Array;
      expect(got[99]).toBe(0x33);
      expect(got[100]).toBe(0x44);
      expect(got[110]).toBe(0x33);
      expect(blk.lseek(fd, 0, abi.SEEK_END)).toBe(SIZE);
      expect(yield* wait(blk.read(fd, 10))).toEqual(new Uint8Array(0)); // EOF
      expect(yield* wait(blk.pwrite(fd, page(1), SIZE))).toBe(-abi.ENOSPC);
    })());
  });

  it('descriptor errors: unknown path, closed fd, write on a read-only fd, busy device removal', () => {
    const { blk, run } = setup();
    expect(blk.open('/dev/nope', abi.O_RDONLY)).toBe(-abi.ENOENT);
    run((function* () {
      const r = blk.open('/dev/vda', abi.O_RDONLY);
      expect(yield* wait(blk.pwrite(r, page(1), 0))).toBe(-abi.EBADF);
      expect(blk.removeDevice('/dev/vda')).toBe(-abi.EBUSY);
      yield* wait(blk.close(r));
      expect(yield* wait(blk.close(r))).toBe(-abi.EBADF);
      expect(blk.removeDevice('/dev/vda')).toBe(0);
    })());
  });
});

describe('rings (the C model\'s asynchronous I/O)', () => {
  it('submissions complete later, in order, into guest memory; discard drops cached pages', () => {
    const world = new World(1);
    const guest = new Uint8Array(4 * PAGE_SIZE);
    const blk = new BlockLayer(world, { mem: { bytes: () => guest } });
    const disk = new MemoryBackend(world, SIZE, { latencyUs: 3, discardZeroes: true });
    blk.addDevice('/dev/vdb', disk);
    const fd = blk.blkOpen('/dev/vdb', abi.O_RDWR | abi.O_DIRECT);
    const ring = blk.blkRingCreate(2);
    guest.fill(0xab, 0, PAGE_SIZE);
    expect(blk.blkSubmit(ring, fd, abi.HOST_BLK_OP_WRITE, PAGE_SIZE, PAGE_SIZE, 0, 7)).toBe(0);
    expect(blk.blkSubmit(ring, fd, abi.HOST_BLK_OP_READ, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, 8)).toBe(0);
    expect(blk.blkSubmit(ring, fd, abi.HOST_BLK_OP_FLUSH, 0, 0, 0, 9)).toBe(-abi.EAGAIN); // ring full
    expect(blk.blkReap(ring, 8)).toEqual([]); // nothing completes synchronously
    world.run(() => false, 100);
    expect(blk.blkReap(ring, 8)).toEqual([{ userData: 7, res: PAGE_SIZE }, { userData: 8, res: PAGE_SIZE }]);
    expect(guest[PAGE_SIZE]).toBe(0xab);
    expect(blk.blkSubmit(ring, fd, abi.HOST_BLK_OP_DISCARD, PAGE_SIZE, PAGE_SIZE, 0, 10)).toBe(0);
    world.run(() => false, 200);
    expect(blk.blkReap(ring, 8)).toEqual([{ userData: 10, res: PAGE_SIZE }]);
    expect(disk.bytes[PAGE_SIZE]).toBe(0);
    expect(blk.blkSubmit(ring, fd, abi.HOST_BLK_OP_READ, 3, 100, 0, 11)).toBe(0);
    world.run(() => false, 300);
    expect(blk.blkReap(ring, 8)).toEqual([{ userData: 11, res: -abi.EINVAL }]);
    expect(blk.blkRingDestroy(ring)).toBe(0);
    expect(blk.blkInfo(fd)).toEqual({ blocklen: 4096, size: SIZE });
  });
});

describe('file-backed device (Node only)', () => {
  it('bytes written back at the last close are in the file', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { FileBackend } = await import('../../../host/kernel/blockdev-file.node.js');
    const dir = mkdtempSync(join(tmpdir(), 'blk-'));
    try {
      const world = new World(1);
      const blk = new BlockLayer(world);
      const file = new FileBackend(world, join(dir, 'disk.img'), { size: 8 * PAGE_SIZE, latencyUs: 2 });
      blk.addDevice('/dev/loop0', file);
      const fd = blk.open('/dev/loop0', abi.O_RDWR);
      const p = spawn(world, 'w', (function* () {
        yield* wait(blk.pwrite(fd, page(0x3c), PAGE_SIZE));
        return yield* wait(blk.close(fd));
      })());
      world.run(() => p.settled, 1e6);
      file.close();
      const bytes = readFileSync(join(dir, 'disk.img'));
      expect(bytes.length).toBe(8 * PAGE_SIZE);
      expect(bytes[PAGE_SIZE]).toBe(0x3c);
      expect(bytes[0]).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
