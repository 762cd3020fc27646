/**
 * The posix sock receive pipe (wasm/module/sock/posix/posix.c: posix_sock_alloc_pipe,
 * posix_sock_read, posix_sock_recv_from_pipe, posix_sock_readv, socks_with_data in
 * posix_sock_group_impl_poll) driven through a scripted kernel that counts every readv the C
 * makes. Upstream behaviour (SPDK v25.01) is the expectation throughout, quirks included.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { Ptr } from '../../../host/gen/spdk-api.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import type { Flavor, Variant } from '../../../host/spdk/variant.js';
import type { ScriptedKernel } from '../../../host/fuzz/scripted-kernel.js';
import { connectSock, sockField, type Sock, utMachine } from '../support/ut.js';

const MIN_SOCK_PIPE_SIZE = 1024;
const NO_PIPE = 0xffffffff;

/** Bytes 0, 1, 2, ... (mod 251, so offsets inside long runs are told apart). */
const pattern = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);

interface Rig {
  m: SpdkMachine;
  kernel: ScriptedKernel;
  sock: Sock;
  fd: number;
  /** A scratch buffer for receives, allocated before anything the tests measure. */
  buf: number;
}

async function rig(variant: Variant, flavor: Flavor, o: { recvbuf?: number; pipe?: boolean } = {}): Promise<Rig> {
  const { m, kernel } = await utMachine(variant, flavor);
  if (o.pipe === false) {
    expect(createRpcServer(m).call('sock_impl_set_options', { impl_name: 'posix', enable_recv_pipe: false })).toBe(true);
  }
  const buf = m.api.spdk_wasm_malloc(16384);
  const sock = connectSock(m, { threshold: 0 });
  if (o.recvbuf !== 0) expect(m.api.spdk_wasm_sock_set_recvbuf(sock, o.recvbuf ?? 4096)).toBe(0);
  return { m, kernel, sock, fd: sockField(m, sock, 'fd'), buf };
}

/** spdk_sock_recv of n bytes: the return value and the bytes received. */
function recv(r: Rig, n: number): { rc: number; data: number[] } {
  const rc = r.m.api.spdk_wasm_sock_recv(r.sock, r.buf, n);
  return { rc, data: rc > 0 ? [...r.m.mem.read(r.buf, rc)] : [] };
}

const reads = (r: Rig): number => r.kernel.readCalls().length;
const field = (r: Rig, f: Parameters<typeof sockField>[2]): number => sockField(r.m, r.sock, f);

function inGroup(r: Rig): Ptr<'spdk_sock_group'> {
  const group = r.m.api.spdk_wasm_group_create();
  expect(r.m.api.spdk_wasm_group_add(group, r.sock)).toBe(0);
  return group;
}

describe.each([['unpatched', 'release'], ['patched', 'asan']] as const)('posix receive pipe (%s-%s)', (variant, flavor) => {
  it('set_recvbuf sizes the pipe and raises SO_RCVBUF to at least the module recv_buf_size', async () => {
    const r = await rig(variant, flavor, { recvbuf: 0 });
    expect(field(r, 'pipeBytes')).toBe(NO_PIPE); // no pipe until set_recvbuf
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, 4096)).toBe(0);
    expect(field(r, 'recvBufSz')).toBe(4096);
    expect(field(r, 'pipeBytes')).toBe(0);
    expect(r.kernel.sockopt(r.fd, abi.SOL_SOCKET, abi.SO_RCVBUF)).toBe(2 << 20);
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, MIN_SOCK_PIPE_SIZE - 1)).toBe(-abi.EINVAL);
    expect(field(r, 'recvBufSz')).toBe(4096);
  });

  it('small reads (8-byte header, 64-byte PSH, payload) are served from one kernel readv', async () => {
    const r = await rig(variant, flavor);
    r.kernel.pushRx(r.fd, pattern(0, 200));
    expect(recv(r, 8)).toEqual({ rc: 8, data: [...pattern(0, 8)] });
    // One readv into the pipe: up to 2 iovecs, as much as the pipe has room for.
    expect(r.kernel.readCalls().map((c) => [c.iov!.length, c.offered, c.rc])).toEqual([[2, 4096, 200]]);
    expect(field(r, 'pipeBytes')).toBe(192);
    expect(recv(r, 64)).toEqual({ rc: 64, data: [...pattern(8, 64)] });
    expect(recv(r, 128)).toEqual({ rc: 128, data: [...pattern(72, 128)] });
    expect(reads(r)).toBe(1);
    expect(field(r, 'pipeHasData')).toBe(0);
    // Outside a group nothing says the kernel is empty, so the next read asks it again.
    expect(recv(r, 8).rc).toBe(-abi.EAGAIN);
    expect(reads(r)).toBe(2);
  });

  it('a read of MIN_SOCK_PIPE_SIZE or more with the pipe empty goes straight to the caller', async () => {
    const r = await rig(variant, flavor);
    r.kernel.pushRx(r.fd, pattern(0, 3000));
    expect(recv(r, MIN_SOCK_PIPE_SIZE)).toEqual({ rc: 1024, data: [...pattern(0, 1024)] });
    expect(r.kernel.readCalls().map((c) => [c.iov!.length, c.offered])).toEqual([[1, 1024]]);
    expect(field(r, 'pipeBytes')).toBe(0);
    // One byte less and it goes through the pipe, which takes the rest of the kernel's bytes.
    expect(recv(r, MIN_SOCK_PIPE_SIZE - 1).rc).toBe(1023);
    expect(r.kernel.readCalls().at(-1)!.offered).toBe(4096);
    expect(field(r, 'pipeBytes')).toBe(3000 - 1024 - 1023);
  });

  it('with bytes in the pipe, even a read of MIN_SOCK_PIPE_SIZE or more is served from it', async () => {
    const r = await rig(variant, flavor);
    r.kernel.pushRx(r.fd, pattern(0, 3000));
    recv(r, 8);
    expect(recv(r, 2048)).toEqual({ rc: 2048, data: [...pattern(8, 2048)] });
    expect(reads(r)).toBe(1);
    // A read larger than what is buffered returns what is buffered, without going to the kernel.
    r.kernel.pushRx(r.fd, pattern(3000, 100));
    expect(recv(r, 4096)).toEqual({ rc: 944, data: [...pattern(2056, 944)] });
    expect(reads(r)).toBe(1);
  });

  it('readv into two iovecs from the pipe', async () => {
    const r = await rig(variant, flavor);
    r.kernel.pushRx(r.fd, pattern(0, 40));
    const iov = r.m.api.spdk_wasm_malloc(16);
    r.m.mem.setU32(iov, r.buf);
    r.m.mem.setU32(iov + 4, 8);
    r.m.mem.setU32(iov + 8, r.buf + 100);
    r.m.mem.setU32(iov + 12, 16);
    expect(r.m.api.spdk_wasm_sock_readv(r.sock, iov, 2)).toBe(24);
    expect([...r.m.mem.read(r.buf, 8), ...r.m.mem.read(r.buf + 100, 16)]).toEqual([...pattern(0, 24)]);
    expect(field(r, 'pipeBytes')).toBe(16);
  });

  it('in a group: reads follow epoll; draining the pipe after a drained kernel leaves socks_with_data', async () => {
    const r = await rig(variant, flavor);
    const group = inGroup(r);
    r.kernel.pushRx(r.fd, pattern(0, 100));
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(1);
    expect(r.m.api.spdk_wasm_sock_readable_count(r.sock)).toBe(1);
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData'), field(r, 'pipeHasData')]).toEqual([1, 1, 0]);
    recv(r, 8);
    // 100 bytes where 4096 fitted: the kernel is drained; the pipe keeps the socket listed.
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData'), field(r, 'pipeHasData')]).toEqual([1, 0, 1]);
    expect(recv(r, 92).rc).toBe(92);
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData'), field(r, 'pipeHasData')]).toEqual([0, 0, 0]);
    // Not listed and no epoll event: the read is refused without a kernel call.
    expect(recv(r, 8).rc).toBe(-abi.EAGAIN);
    expect(reads(r)).toBe(1);
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(0);
    expect(r.m.api.spdk_wasm_sock_readable_count(r.sock)).toBe(1);
    expect(r.m.api.spdk_wasm_sock_close(r.sock)).toBe(0);
  });

  it('in a group: a large direct read that finds the kernel empty leaves socks_with_data (no spin until the next segment)', async () => {
    const r = await rig(variant, flavor);
    const group = inGroup(r);
    r.kernel.pushRx(r.fd, pattern(0, 1500));
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(1);
    expect(recv(r, 1500).rc).toBe(1500); // straight to the caller; still listed
    expect(field(r, 'onSocksWithData')).toBe(1);
    expect(recv(r, MIN_SOCK_PIPE_SIZE).rc).toBe(-abi.EAGAIN);
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData')]).toEqual([0, 0]);
    // Nothing to read: the group poll reports nothing, poll after poll.
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(0);
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(0);
    // The next bytes list it again through epoll.
    r.kernel.pushRx(r.fd, pattern(1500, 2000));
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(1);
    expect(recv(r, 2000)).toEqual({ rc: 2000, data: [...pattern(1500, 2000)] });
    expect(r.m.api.spdk_wasm_sock_close(r.sock)).toBe(0);
  });

  it('a group poll returns a socket whose pipe holds bytes though epoll reports nothing new', async () => {
    const r = await rig(variant, flavor);
    const group = inGroup(r);
    r.kernel.pushRx(r.fd, pattern(0, 100));
    r.m.api.spdk_wasm_group_poll(group);
    recv(r, 8); // the kernel's 100 bytes are now all in the pipe
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(1);
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(1);
    expect(r.m.api.spdk_wasm_sock_readable_count(r.sock)).toBe(3);
    expect(recv(r, 92)).toEqual({ rc: 92, data: [...pattern(8, 92)] });
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(0);
    expect(reads(r)).toBe(1);
  });

  it('a listed socket whose cb_fn is NULL is dropped from socks_with_data, not returned', async () => {
    const r = await rig(variant, flavor);
    const group = inGroup(r);
    r.kernel.pushRx(r.fd, pattern(0, 100));
    r.m.api.spdk_wasm_group_poll(group);
    recv(r, 8);
    expect(field(r, 'onSocksWithData')).toBe(1);
    expect(r.m.api.spdk_wasm_ut_sock_clear_cb_fn(r.sock)).toBe(0);
    expect(r.m.api.spdk_wasm_group_poll(group)).toBe(0);
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData'), field(r, 'pipeHasData')]).toEqual([0, 0, 0]);
    expect(field(r, 'pipeBytes')).toBe(92); // the bytes stay in the pipe
    expect(r.m.api.spdk_wasm_sock_readable_count(r.sock)).toBe(1);
    expect(r.m.crash).toBeUndefined();
  });

  it('max_events cuts the list short: it is rotated so every socket gets its turn', async () => {
    const { m, kernel } = await utMachine(variant, flavor);
    const group = m.api.spdk_wasm_group_create();
    const socks = [0, 1, 2].map(() => {
      const s = connectSock(m, { threshold: 0 });
      expect(m.api.spdk_wasm_sock_set_recvbuf(s, 4096)).toBe(0);
      expect(m.api.spdk_wasm_group_add(group, s)).toBe(0);
      kernel.pushRx(sockField(m, s, 'fd'), pattern(0, 10));
      return s;
    });
    const counts = (): number[] => socks.map((s) => m.api.spdk_wasm_sock_readable_count(s));
    // A full poll lists all three (A B C); each read fills its pipe, so they stay listed.
    expect(m.api.spdk_wasm_group_poll(group)).toBe(3);
    for (const s of socks) expect(m.api.spdk_wasm_sock_recv(s, m.api.spdk_wasm_malloc(4), 4)).toBe(4);
    expect(counts()).toEqual([1, 1, 1]);
    // One event per poll: A, and the list turns to B C A; then B, then C.
    expect(m.api.spdk_wasm_group_poll_count(group, 1)).toBe(1);
    expect(counts()).toEqual([2, 1, 1]);
    expect(m.api.spdk_wasm_group_poll_count(group, 1)).toBe(1);
    expect(counts()).toEqual([2, 2, 1]);
    expect(m.api.spdk_wasm_group_poll_count(group, 1)).toBe(1);
    expect(counts()).toEqual([2, 2, 2]);
    expect(m.api.spdk_wasm_group_poll_count(group, 2)).toBe(2);
    expect(counts()).toEqual([3, 3, 2]);
    expect(m.api.spdk_wasm_group_poll_count(group, 2)).toBe(2);
    expect(counts()).toEqual([4, 3, 3]);
  });

  it('end of stream from the kernel: recv returns 0 and the socket leaves socks_with_data', async () => {
    const r = await rig(variant, flavor);
    const group = inGroup(r);
    r.kernel.pushRx(r.fd, pattern(0, 10));
    r.m.api.spdk_wasm_group_poll(group);
    r.kernel.enqueue('readv', 0);
    expect(recv(r, 8).rc).toBe(0);
    expect([field(r, 'onSocksWithData'), field(r, 'socketHasData'), field(r, 'pipeHasData')]).toEqual([0, 0, 0]);
  });

  it('close with bytes in the pipe, listed in a group, frees the socket and its pipe', async () => {
    const { m, kernel } = await utMachine(variant, flavor);
    const buf = m.api.spdk_wasm_malloc(64);
    const group = m.api.spdk_wasm_group_create();
    const heap0 = m.api.spdk_wasm_ut_heap_bytes();
    const sock = connectSock(m, { threshold: 0 });
    expect(m.api.spdk_wasm_sock_set_recvbuf(sock, 8192)).toBe(0);
    expect(m.api.spdk_wasm_group_add(group, sock)).toBe(0);
    kernel.pushRx(sockField(m, sock, 'fd'), pattern(0, 500));
    m.api.spdk_wasm_group_poll(group);
    expect(m.api.spdk_wasm_sock_recv(sock, buf, 8)).toBe(8);
    expect(sockField(m, sock, 'pipeBytes')).toBe(492);
    expect(m.api.spdk_wasm_ut_heap_bytes()).toBeGreaterThan(heap0 + 8192);
    expect(m.api.spdk_wasm_sock_close(sock)).toBe(0);
    expect(m.api.spdk_wasm_ut_heap_bytes()).toBe(heap0);
    expect(m.api.spdk_wasm_group_poll(group)).toBe(0);
    expect(m.crash).toBeUndefined();
  });

  it('enable_recv_pipe off: set_recvbuf makes no pipe and every read goes to the kernel', async () => {
    const r = await rig(variant, flavor, { pipe: false });
    expect(field(r, 'pipeBytes')).toBe(NO_PIPE);
    expect(field(r, 'recvBufSz')).toBe(0);
    expect(r.kernel.sockopt(r.fd, abi.SOL_SOCKET, abi.SO_RCVBUF)).toBe(2 << 20);
    r.kernel.pushRx(r.fd, pattern(0, 200));
    expect(recv(r, 8)).toEqual({ rc: 8, data: [...pattern(0, 8)] });
    expect(recv(r, 64)).toEqual({ rc: 64, data: [...pattern(8, 64)] });
    expect(recv(r, 128)).toEqual({ rc: 128, data: [...pattern(72, 128)] });
    expect(r.kernel.readCalls().map((c) => c.offered)).toEqual([8, 64, 128]);
  });

  it('resize keeps the buffered bytes, in order; it cannot shrink below them', async () => {
    const r = await rig(variant, flavor);
    r.kernel.pushRx(r.fd, pattern(0, 3000));
    recv(r, 8);
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, 2048)).toBe(-abi.EINVAL); // 2992 buffered
    expect(field(r, 'recvBufSz')).toBe(4096);
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, 8192)).toBe(0);
    expect([field(r, 'recvBufSz'), field(r, 'pipeBytes')]).toEqual([8192, 2992]);
    expect(recv(r, 1000)).toEqual({ rc: 1000, data: [...pattern(8, 1000)] });
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, 2048)).toBe(0); // 1992 buffered: fits
    expect(recv(r, 2048)).toEqual({ rc: 1992, data: [...pattern(1008, 1992)] });
    expect(reads(r)).toBe(1);
  });

  it('upstream quirk kept: resizing an empty pipe leaves it marked full, and the next read reports 0', async () => {
    // posix_sock_alloc_pipe commits the 0 bytes it moved with spdk_pipe_writer_advance, which
    // marks an empty pipe full (see pipe.test.ts). Upstream v25.01 behaves the same; no caller
    // in this tree (or upstream's NVMe/TCP) sizes a pipe twice.
    const r = await rig(variant, flavor);
    expect(r.m.api.spdk_wasm_sock_set_recvbuf(r.sock, 8192)).toBe(0);
    expect(field(r, 'pipeBytes')).toBe(8192);
    r.kernel.pushRx(r.fd, pattern(0, 10));
    expect(recv(r, 8).rc).toBe(0);
    expect(reads(r)).toBe(0);
  });
});
