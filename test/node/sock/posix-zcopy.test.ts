/**
 * The posix sock zero-copy send path (wasm/module/sock/posix/posix.c) driven through a scripted
 * kernel, in the style of SPDK's test/unit/lib/sock/posix.c/posix_ut.c. Covers sock-zcopy.md §9.
 * Where pre-fix and post-fix code differ, each variant is held to its own behaviour.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { connectSock, LIST, makeReq, ON_COMPLETE, reqField, sockField, utMachine } from '../support/ut.js';

const UINT32_MAX = 0xffffffff;
const zc = (flags: number | undefined): boolean => ((flags ?? 0) & abi.MSG_ZEROCOPY) !== 0;

describe.each(['unpatched', 'patched'] as const)('posix zero-copy send path (%s)', (variant) => {
  const patched = variant === 'patched';

  it('§9.1 threshold 8192, 128 KiB split by a short write: only the first call is zero copy', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 8192 });
    const fd = sockField(m, sock, 'fd');
    expect(sockField(m, sock, 'zcopy')).toBe(1);
    expect(kernel.sockopt(fd, abi.SOL_SOCKET, abi.SO_ZEROCOPY)).toBe(1);
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(UINT32_MAX);
    const { req } = makeReq(m, 131072);
    kernel.enqueue('sendmsg', 126976, 4096);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'offset')).toBe(126976);
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(0);
    m.call('spdk_wasm_sock_flush', sock);
    const sends = kernel.sendCalls();
    expect(sends.map((c) => c.offered)).toEqual([131072, 4096]);
    expect(sends.map((c) => zc(c.flags))).toEqual([true, false]);
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(0);
    if (patched) {
      // §9.3: pended with the sticky flag, callback not run, completes only on notification 0.
      expect(reqField(m, req, 'completions')).toBe(0);
      expect(reqField(m, req, 'list')).toBe(LIST.pending);
      expect(reqField(m, req, 'zcopyFlag')).toBe(1);
      expect(reqField(m, req, 'zcopyIdx')).toBe(0);
      kernel.notify(fd, 0, 0);
      m.call('spdk_wasm_sock_flush', sock);
      expect(reqField(m, req, 'completions')).toBe(1);
      expect(reqField(m, req, 'lastErr')).toBe(0);
    } else {
      // §9.2: the bug — completed inside the second flush, before any notification existed.
      expect(reqField(m, req, 'completions')).toBe(1);
      expect(kernel.errqueueReads().every((c) => c.rc === -abi.EAGAIN)).toBe(true);
    }
  });

  it('flush_req_chunks_with_zero_copy_threshold (upstream UT): 100 B as 75 zero copy + 25 copy', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 50 });
    const fd = sockField(m, sock, 'fd');
    const { req } = makeReq(m, 100, 2);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    kernel.set('sendmsg', 75);
    expect(m.call('spdk_wasm_posix_flush', sock) | 0).toBe(-abi.EAGAIN);
    expect(reqField(m, req, 'completions')).toBe(0);
    expect(zc(kernel.sendCalls()[0]!.flags)).toBe(true);
    kernel.set('sendmsg', 25);
    kernel.set('recvmsg', -abi.EAGAIN);
    m.call('spdk_wasm_sock_flush', sock);
    expect(zc(kernel.sendCalls()[1]!.flags)).toBe(false);
    expect(reqField(m, req, 'completions')).toBe(patched ? 0 : 1);
    kernel.clear('recvmsg');
    kernel.notify(fd, 0, 0);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'completions')).toBe(1);
  });

  it('flush_two_reqs_chunks_with_zero_copy_threshold (upstream UT): 175/20/5 with head-of-queue clearing', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 50 });
    const fd = sockField(m, sock, 'fd');
    const r1 = makeReq(m, 100).req;
    const r2 = makeReq(m, 100).req;
    m.call('spdk_wasm_sock_writev_async', sock, r1);
    m.call('spdk_wasm_sock_writev_async', sock, r2);
    kernel.enqueue('sendmsg', 175);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, r1, 'list')).toBe(LIST.pending);
    expect(reqField(m, r2, 'list')).toBe(LIST.queued);
    expect(reqField(m, r2, 'offset')).toBe(75);
    expect(reqField(m, r1, 'completions') + reqField(m, r2, 'completions')).toBe(0);
    kernel.enqueue('sendmsg', 20);
    kernel.notify(fd, 0, 0);
    m.call('spdk_wasm_sock_flush', sock);
    expect(zc(kernel.sendCalls()[1]!.flags)).toBe(false);
    expect(reqField(m, r1, 'completions')).toBe(1);
    expect(reqField(m, r2, 'completions')).toBe(0);
    if (patched) expect(reqField(m, r2, 'zcopyFlag')).toBe(0); // cleared: its id was just consumed
    kernel.enqueue('sendmsg', 5);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, r2, 'completions')).toBe(1);
    expect(kernel.errqueueReads().filter((c) => typeof c.rc !== 'number').length).toBe(1);
  });

  it('§9.4 spdk_sock_flush reads the error queue only while pending_reqs is non-empty', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const { req } = makeReq(m, 1000);
    kernel.enqueue('sendmsg', 400);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    expect(kernel.errqueueReads().length).toBe(0); // only a partial request, nothing pending
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'list')).toBe(LIST.pending);
    expect(kernel.errqueueReads().length).toBeGreaterThan(0);
  });

  it('§9.4 group poll reads the error queue on EPOLLERR, and only then', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    const group = m.call('spdk_wasm_group_create');
    expect(m.call('spdk_wasm_group_add', group, sock)).toBe(0);
    const { req } = makeReq(m, 4096);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_group_poll', group); // flushes: zero copy, pending on id 0
    expect(reqField(m, req, 'list')).toBe(LIST.pending);
    m.call('spdk_wasm_group_poll', group);
    expect(kernel.errqueueReads().length).toBe(0);
    kernel.notify(fd, 0, 0);
    m.call('spdk_wasm_group_poll', group);
    expect(kernel.errqueueReads().length).toBeGreaterThan(0);
    expect(reqField(m, req, 'completions')).toBe(1);
  });

  it('§9.6 a copy-only request behind a pending zero-copy one completes in order on the notification', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 50 });
    const fd = sockField(m, sock, 'fd');
    const r1 = makeReq(m, 100).req;
    const r2 = makeReq(m, 10).req;
    const order: number[] = [];
    m.onTrace = (ev, a) => { if (ev === 'ut.req_complete') order.push(a); };
    m.call('spdk_wasm_sock_writev_async', sock, r1);
    m.call('spdk_wasm_sock_flush', sock);
    m.call('spdk_wasm_sock_writev_async', sock, r2);
    m.call('spdk_wasm_sock_flush', sock);
    expect(zc(kernel.sendCalls()[1]!.flags)).toBe(false);
    expect(reqField(m, r2, 'list')).toBe(LIST.pending);
    expect(order).toEqual([]);
    kernel.notify(fd, 0, 0);
    m.call('spdk_wasm_sock_flush', sock);
    expect(order).toEqual([r1, r2]);
  });

  it('§9.7 coalesced range [0,2] completes every request it covers', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    const reqs = [0, 1, 2].map(() => makeReq(m, 64).req);
    for (const r of reqs) {
      m.call('spdk_wasm_sock_writev_async', sock, r);
      m.call('spdk_wasm_posix_flush', sock);
    }
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(2);
    expect(reqs.map((r) => reqField(m, r, 'completions'))).toEqual([0, 0, 0]);
    kernel.notify(fd, 0, 2);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqs.map((r) => reqField(m, r, 'completions'))).toEqual([1, 1, 1]);
  });

  it('§9.7 ids wrap: a range crossing UINT32_MAX -> 0 completes the requests on both sides', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    m.call('spdk_wasm_posix_set_sendmsg_idx', sock, UINT32_MAX - 2);
    const reqs = [0, 1, 2].map(() => makeReq(m, 64).req);
    for (const r of reqs) {
      m.call('spdk_wasm_sock_writev_async', sock, r);
      m.call('spdk_wasm_posix_flush', sock);
    }
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(0);
    kernel.notify(fd, UINT32_MAX - 1, 0);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqs.map((r) => reqField(m, r, 'completions'))).toEqual([1, 1, 1]);
  });

  it.each([
    ['threshold 0 sends everything with MSG_ZEROCOPY', { threshold: 0 }, true],
    ['client without enable_zerocopy_send_client', { zcopyClient: false }, false],
    ['opts.zcopy = false', { zcopy: false }, false],
  ] as const)('§9.8 %s', async (_n, o, expectZc) => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, o);
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    expect(zc(kernel.sendCalls()[0]!.flags)).toBe(expectZc);
    expect(reqField(m, req, 'completions')).toBe(expectZc ? 0 : 1);
  });

  it('§9.8 a loopback connection never enables zero copy', async () => {
    const { m, kernel } = await utMachine(variant);
    kernel.ifs = [{ name: 'lo', addr: '127.0.0.1', flags: abi.IFF_UP | abi.IFF_LOOPBACK | abi.IFF_RUNNING }];
    kernel.local = { addr: '127.0.0.1', port: 40000 };
    const sock = connectSock(m, { threshold: 0 });
    expect(sockField(m, sock, 'zcopy')).toBe(0);
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    expect(zc(kernel.sendCalls()[0]!.flags)).toBe(false);
    expect(reqField(m, req, 'completions')).toBe(1);
  });

  it.each([
    ['EAGAIN', -abi.EAGAIN],
    ['a zero return', 0],
    ['ENOBUFS on a zero-copy socket', -abi.ENOBUFS],
  ])('§9.9 %s from sendmsg is retried; nothing consumed', async (_n, rc) => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    kernel.enqueue('sendmsg', rc);
    expect(m.call('spdk_wasm_posix_flush', sock) | 0).toBe(-abi.EAGAIN);
    expect(reqField(m, req, 'offset')).toBe(0);
    expect(reqField(m, req, 'list')).toBe(LIST.queued);
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(UINT32_MAX);
    m.call('spdk_wasm_posix_flush', sock);
    expect(reqField(m, req, 'list')).toBe(LIST.pending);
    expect(sockField(m, sock, 'sendmsgIdx')).toBe(0);
  });

  it('§9.9 any other sendmsg error aborts queued and pending requests with -ECANCELED (group poll)', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const group = m.call('spdk_wasm_group_create');
    m.call('spdk_wasm_group_add', group, sock);
    const r1 = makeReq(m, 100).req;
    const r2 = makeReq(m, 100).req;
    m.call('spdk_wasm_sock_writev_async', sock, r1);
    m.call('spdk_wasm_group_poll', group); // r1 pending on id 0
    expect(reqField(m, r1, 'list')).toBe(LIST.pending);
    m.call('spdk_wasm_sock_writev_async', sock, r2);
    kernel.enqueue('sendmsg', -abi.ECONNRESET);
    m.call('spdk_wasm_group_poll', group);
    for (const r of [r1, r2]) {
      expect(reqField(m, r, 'completions')).toBe(1);
      expect(reqField(m, r, 'lastErr')).toBe(-abi.ECANCELED);
      expect(reqField(m, r, 'list')).toBe(LIST.none);
    }
  });

  it('§9.9 spdk_sock_flush reports a hard sendmsg error and consumes nothing', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    kernel.enqueue('sendmsg', -abi.ECONNRESET);
    expect(m.call('spdk_wasm_sock_flush', sock) | 0).toBe(-abi.ECONNRESET);
    expect(reqField(m, req, 'list')).toBe(LIST.queued);
    expect(reqField(m, req, 'offset')).toBe(0);
  });

  it('close aborts outstanding requests with -ECANCELED; use after close gives -EBADF, not a trap', async () => {
    const { m } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const r1 = makeReq(m, 100).req;
    m.call('spdk_wasm_sock_writev_async', sock, r1);
    m.call('spdk_wasm_sock_flush', sock);
    expect(m.call('spdk_wasm_sock_close', sock)).toBe(0);
    expect(reqField(m, r1, 'lastErr')).toBe(-abi.ECANCELED);
    const r2 = makeReq(m, 10).req;
    m.call('spdk_wasm_sock_writev_async', 0, r2);
    expect(reqField(m, r2, 'lastErr')).toBe(-abi.EBADF);
    expect(m.crash).toBeUndefined();
  });

  it('§9.10 completion resets offset and the zero-copy fields before the callback', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    const { req } = makeReq(m, 100);
    kernel.enqueue('sendmsg', 60, 40);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    m.call('spdk_wasm_sock_flush', sock);
    kernel.notify(fd, 0, 1);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'completions')).toBe(1);
    expect(reqField(m, req, 'offset')).toBe(0);
    expect(reqField(m, req, 'zcopyFlag')).toBe(0);
    expect(reqField(m, req, 'list')).toBe(LIST.none);
  });

  it('§9.10 the callback sees offset and zero-copy flag already reset; flush from inside it is -EAGAIN', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_req_set_on_complete', req, ON_COMPLETE.flush);
    kernel.enqueue('sendmsg', 60, 40);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    m.call('spdk_wasm_sock_flush', sock);
    kernel.notify(fd, 0, 1);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'completions')).toBe(1);
    expect(reqField(m, req, 'cbOffset')).toBe(0);
    expect(reqField(m, req, 'cbZcopyFlag')).toBe(0);
    expect(reqField(m, req, 'cbFlushRc')).toBe(-abi.EAGAIN);
  });

  it('§9.10 a request re-queued from its own callback starts clean and completes again', async () => {
    const { m, kernel } = await utMachine(variant);
    const sock = connectSock(m, { threshold: 0 });
    const fd = sockField(m, sock, 'fd');
    const { req } = makeReq(m, 100);
    m.call('spdk_wasm_req_set_on_complete', req, ON_COMPLETE.requeue);
    m.call('spdk_wasm_sock_writev_async', sock, req);
    m.call('spdk_wasm_sock_flush', sock);
    kernel.notify(fd, 0, 0);
    m.call('spdk_wasm_sock_flush', sock); // completes; the callback queues it again
    expect(reqField(m, req, 'completions')).toBe(1);
    expect(reqField(m, req, 'list')).toBe(LIST.queued);
    expect(reqField(m, req, 'offset')).toBe(0);
    m.call('spdk_wasm_sock_flush', sock); // sent whole as id 1
    expect(kernel.sendCalls().at(-1)!.offered).toBe(100);
    kernel.notify(fd, 1, 1);
    m.call('spdk_wasm_sock_flush', sock);
    expect(reqField(m, req, 'completions')).toBe(2);
    expect(reqField(m, req, 'list')).toBe(LIST.none);
  });
});
