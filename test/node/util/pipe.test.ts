/**
 * wasm/lib/util/pipe.c (spdk_pipe) and spdk_iovcpy against the real C, in the role of upstream's
 * test/unit/lib/util/pipe.c/pipe_ut.c: capacity (a buffer of sz bytes holds sz bytes), full and
 * empty, the two iovecs of a wrapped region, refused advances, the reset to the front when the
 * pipe empties, and a model check of random writes and reads against a plain byte queue.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { Ptr } from '../../../host/gen/spdk-api.js';
import { Prng } from '../../../host/sim/prng.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { utMachine } from '../support/ut.js';

type Pipe = Ptr<'ut_pipe'>;
interface Iov { base: number; len: number }

async function pipeOf(sz: number): Promise<{ m: SpdkMachine; p: Pipe; buf: number }> {
  const { m } = await utMachine();
  const p = m.api.spdk_wasm_ut_pipe_create(sz);
  expect(p).not.toBe(0);
  return { m, p, buf: m.api.spdk_wasm_ut_pipe_buf(p) };
}

/** The two iovecs the last get_buffer call filled in. */
function iovs(m: SpdkMachine, p: Pipe): [Iov, Iov] {
  const one = (i: number): Iov => ({ base: m.api.spdk_wasm_ut_pipe_iov(p, i, 0), len: m.api.spdk_wasm_ut_pipe_iov(p, i, 1) });
  return [one(0), one(1)];
}

/** Writes `data` into the writer's iovecs and commits it. */
function put(m: SpdkMachine, p: Pipe, data: Uint8Array): void {
  expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, data.length)).toBe(data.length);
  let off = 0;
  for (const v of iovs(m, p)) {
    m.mem.write(v.base, data.subarray(off, off + v.len));
    off += v.len;
  }
  expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, data.length)).toBe(0);
}

/** Reads n bytes through the reader's iovecs and consumes them. */
function take(m: SpdkMachine, p: Pipe, n: number): Uint8Array {
  expect(m.api.spdk_wasm_ut_pipe_reader_get_buffer(p, n)).toBe(n);
  const out = new Uint8Array(n);
  let off = 0;
  for (const v of iovs(m, p)) {
    out.set(m.mem.read(v.base, v.len), off);
    off += v.len;
  }
  expect(m.api.spdk_wasm_ut_pipe_reader_advance(p, n)).toBe(0);
  return out;
}

const seq = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('spdk_pipe (lib/util/pipe.c)', () => {
  it('create/destroy: destroy gives back the buffer the pipe was made with', async () => {
    const { m, p } = await pipeOf(10);
    expect(m.api.spdk_wasm_ut_pipe_destroy(p)).toBe(0);
  });

  it('an empty pipe reads nothing and offers its whole buffer, in one piece, to the writer', async () => {
    const { m, p, buf } = await pipeOf(10);
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(0);
    expect(m.api.spdk_wasm_ut_pipe_reader_get_buffer(p, 10)).toBe(0);
    expect(iovs(m, p)).toEqual([{ base: 0, len: 0 }, { base: 0, len: 0 }]);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 64)).toBe(10);
    expect(iovs(m, p)).toEqual([{ base: buf, len: 10 }, { base: 0, len: 0 }]);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 0)).toBe(0);
  });

  it('a buffer of sz bytes holds sz bytes; full offers the writer nothing and refuses more', async () => {
    const { m, p } = await pipeOf(10);
    put(m, p, seq(1, 10));
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(10);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 1)).toBe(0);
    expect(iovs(m, p)).toEqual([{ base: 0, len: 0 }, { base: 0, len: 0 }]);
    expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, 1)).toBe(-abi.EINVAL);
    expect([...take(m, p, 10)]).toEqual([...seq(1, 10)]);
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(0);
  });

  it('advancing past the free space or past the data is refused and changes nothing', async () => {
    const { m, p } = await pipeOf(10);
    expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, 11)).toBe(-abi.EINVAL);
    put(m, p, seq(0, 6));
    expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, 5)).toBe(-abi.EINVAL);
    expect(m.api.spdk_wasm_ut_pipe_reader_advance(p, 7)).toBe(-abi.EINVAL);
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(6);
    expect(m.api.spdk_wasm_ut_pipe_reader_advance(p, 0)).toBe(0);
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(6);
  });

  it('wraparound: free space and data both come as two iovecs, bytes stay in order', async () => {
    const { m, p, buf } = await pipeOf(10);
    put(m, p, seq(0, 7));
    expect([...take(m, p, 5)]).toEqual([0, 1, 2, 3, 4]); // read 5, write 7
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 100)).toBe(8);
    expect(iovs(m, p)).toEqual([{ base: buf + 7, len: 3 }, { base: buf, len: 5 }]);
    put(m, p, seq(100, 8)); // fills it: write catches up with read
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(10);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 1)).toBe(0);
    expect(m.api.spdk_wasm_ut_pipe_reader_get_buffer(p, 100)).toBe(10);
    expect(iovs(m, p)).toEqual([{ base: buf + 5, len: 5 }, { base: buf, len: 5 }]);
    // A short request from a wrapped pipe takes only the first piece.
    expect(m.api.spdk_wasm_ut_pipe_reader_get_buffer(p, 4)).toBe(4);
    expect(iovs(m, p)).toEqual([{ base: buf + 5, len: 4 }, { base: 0, len: 0 }]);
    expect([...take(m, p, 10)]).toEqual([5, 6, 100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it('a wrapped writer with read ahead of it is offered only the gap up to read', async () => {
    const { m, p, buf } = await pipeOf(10);
    put(m, p, seq(0, 10));
    take(m, p, 6); // read 6, write 0 (wrapped, 4 bytes left)
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 100)).toBe(6);
    expect(iovs(m, p)).toEqual([{ base: buf, len: 6 }, { base: 0, len: 0 }]);
    expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, 7)).toBe(-abi.EINVAL);
  });

  it('emptying the pipe moves both positions back to the front of the buffer', async () => {
    const { m, p, buf } = await pipeOf(10);
    put(m, p, seq(0, 4));
    take(m, p, 4);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 10)).toBe(10);
    expect(iovs(m, p)).toEqual([{ base: buf, len: 10 }, { base: 0, len: 0 }]);
  });

  it('upstream quirk kept: committing 0 bytes to an empty pipe marks it full', async () => {
    // spdk_pipe_writer_advance sets full whenever write ends equal to read. posix_sock_alloc_pipe
    // does this when it resizes an empty pipe (see posix-recv-pipe.test.ts).
    const { m, p } = await pipeOf(10);
    expect(m.api.spdk_wasm_ut_pipe_writer_advance(p, 0)).toBe(0);
    expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(10);
    expect(m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, 1)).toBe(0);
  });

  it.each([1, 7, 64, 1024])('model check, size %i: 3000 random writes and reads match a byte queue', async (sz) => {
    const { m, p } = await pipeOf(sz);
    const rng = new Prng(sz);
    const queue: number[] = [];
    let next = 0;
    for (let step = 0; step < 3000; step++) {
      const free = sz - queue.length;
      if (rng.u32() % 2 === 0) {
        // Ask for up to twice the free space; the pipe offers exactly the free space.
        const want = rng.u32() % (2 * sz + 1);
        const got = m.api.spdk_wasm_ut_pipe_writer_get_buffer(p, want);
        expect(got).toBe(Math.min(want, free));
        const n = got === 0 ? 0 : 1 + (rng.u32() % got);
        if (n === 0) continue; // committing 0 to an empty pipe would mark it full (quirk above)
        const data = seq(next, n);
        next += n;
        put(m, p, data);
        queue.push(...data);
      } else {
        const want = rng.u32() % (2 * sz + 1);
        expect(m.api.spdk_wasm_ut_pipe_reader_get_buffer(p, want)).toBe(Math.min(want, queue.length));
        const n = queue.length === 0 ? 0 : rng.u32() % (queue.length + 1);
        if (n === 0) continue;
        expect([...take(m, p, n)]).toEqual(queue.splice(0, n));
      }
      expect(m.api.spdk_wasm_ut_pipe_reader_bytes_available(p)).toBe(queue.length);
    }
  });
});

describe('spdk_iovcpy (lib/util/iov.c)', () => {
  /** Builds an iovec array in guest memory over `lens` pieces of fresh buffers. */
  function iovArray(m: SpdkMachine, lens: number[]): { arr: number; bases: number[] } {
    const arr = m.api.spdk_wasm_malloc(8 * lens.length);
    const bases = lens.map((len, i) => {
      const b = len > 0 ? m.api.spdk_wasm_malloc(len) : 0;
      m.mem.setU32(arr + 8 * i, b);
      m.mem.setU32(arr + 8 * i + 4, len);
      return b;
    });
    return { arr, bases };
  }

  it('copies across pieces of different sizes, up to the shorter side', async () => {
    const { m } = await utMachine();
    const src = iovArray(m, [3, 5]);
    m.mem.write(src.bases[0]!, seq(0, 3));
    m.mem.write(src.bases[1]!, seq(3, 5));
    const dst = iovArray(m, [2, 2, 10]);
    expect(m.api.spdk_wasm_ut_iovcpy(src.arr, 2, dst.arr, 3)).toBe(8);
    const got = [...m.mem.read(dst.bases[0]!, 2), ...m.mem.read(dst.bases[1]!, 2), ...m.mem.read(dst.bases[2]!, 4)];
    expect(got).toEqual([...seq(0, 8)]);
    expect(m.api.spdk_wasm_ut_iovcpy(dst.arr, 3, src.arr, 2)).toBe(8);
  });

  it('stops at the first zero-length element of either list, as upstream\'s iterator', async () => {
    const { m } = await utMachine();
    const src = iovArray(m, [4, 0, 4]);
    const dst = iovArray(m, [16]);
    expect(m.api.spdk_wasm_ut_iovcpy(src.arr, 3, dst.arr, 1)).toBe(4);
    const src2 = iovArray(m, [16]);
    const dst2 = iovArray(m, [0, 16]);
    expect(m.api.spdk_wasm_ut_iovcpy(src2.arr, 1, dst2.arr, 2)).toBe(0);
  });
});
