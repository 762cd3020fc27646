/**
 * The initiator's I/O qpair in an NVMe poll group, as upstream's bdev_nvme polls it: the TCP
 * transport's part of the group owns a sock group, so an idle poll is one epoll_wait (no readv, no
 * MSG_ERRQUEUE recvmsg), sockets are flushed by the sock group poll and the error queue is read
 * only on EPOLLERR. A qpair outside a group (the admin queue; the I/O qpair with noPollGroup) is
 * still flushed and read on every poll. A link cut disconnects the qpair, the group reports it
 * through disconnected_qpair_cb, and the reset reconnects it into the same group.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { Kernel } from '../../../host/kernel/kernel.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { ATTACH } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import { pair, qf, randread, roundTrip, type Pair } from './support.js';

const EINPROGRESS = -26;
const ABORTED_SQ_DELETION = 0x08;
/** spdk_wasm_nvme_ctrlr_field: the I/O qpair is in a poll group; disconnected_qpair_cb calls. */
const IN_POLL_GROUP = 21;
const DISCONNECTED_CBS = 22;

interface Calls { epollWait: number; readv: number; recv: number; errqueue: number; sendmsg: number; total(): number }

/** Counts the kernel calls of a machine that poll or move data on sockets. */
function spyKernel(m: SpdkMachine): Calls {
  const k = m.kernel as Kernel;
  const c: Calls = {
    epollWait: 0, readv: 0, recv: 0, errqueue: 0, sendmsg: 0,
    total() { return this.epollWait + this.readv + this.recv + this.errqueue + this.sendmsg; },
  };
  const epollWait = k.epollWait.bind(k);
  const readv = k.readv.bind(k);
  const recvmsg = k.recvmsg.bind(k);
  const sendmsg = k.sendmsg.bind(k);
  k.epollWait = (...a: Parameters<Kernel['epollWait']>) => { c.epollWait++; return epollWait(...a); };
  k.readv = (...a: Parameters<Kernel['readv']>) => { c.readv++; return readv(...a); };
  k.recvmsg = (...a: Parameters<Kernel['recvmsg']>) => {
    if (a[2] & abi.MSG_ERRQUEUE) c.errqueue++; else c.recv++;
    return recvmsg(...a);
  };
  k.sendmsg = (...a: Parameters<Kernel['sendmsg']>) => { c.sendmsg++; return sendmsg(...a); };
  return c;
}

/** Polls the initiator's pollers `n` times at one instant, after one poll that lets any due timed
 *  poller (the admin queue's) run; returns the kernel calls of those n polls. */
function idlePolls(p: Pair, n: number): Calls {
  p.host.call('spdk_wasm_poll_once');
  const c = spyKernel(p.host);
  for (let i = 0; i < n; i++) p.host.call('spdk_wasm_poll_once');
  return c;
}

describe('NVMe/TCP initiator: the I/O qpair in an NVMe poll group', () => {
  it('the I/O qpair is in a poll group (and is not with noPollGroup)', async () => {
    const p = await pair();
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, IN_POLL_GROUP)).toBe(1);
    expect(qf(p, 1, 1)).toBe(5); // NVME_QPAIR_ENABLED
    const d = await pair({ noPollGroup: true });
    expect(d.host.api.spdk_wasm_nvme_ctrlr_field(d.id, IN_POLL_GROUP)).toBe(0);
    expect(d.host.api.spdk_wasm_nvme_ctrlr_field(d.id, DISCONNECTED_CBS)).toBe(0);
  });

  it('an idle poll is one epoll_wait: no readv, no MSG_ERRQUEUE recvmsg', async () => {
    const p = await pair();
    roundTrip(p, 8192, 0, 1);
    p.tb.runUntil(() => false, p.tb.world.now + 1000);
    const c = idlePolls(p, 10);
    expect({ epollWait: c.epollWait, readv: c.readv, recv: c.recv, errqueue: c.errqueue, sendmsg: c.sendmsg })
      .toEqual({ epollWait: 10, readv: 0, recv: 0, errqueue: 0, sendmsg: 0 });
    // Outside a group the I/O qpair's socket is flushed and read on every poll (and, while
    // zero-copy sends wait for their notification, its error queue read too).
    const d = await pair({ noPollGroup: true });
    roundTrip(d, 8192, 0, 1);
    d.tb.runUntil(() => false, d.tb.world.now + 1000);
    const cd = idlePolls(d, 10);
    expect(cd.epollWait).toBe(0);
    expect(cd.readv).toBe(10);
  });

  it.each([
    ['poll group', false], ['direct', true],
  ])('%s: randread 4 KiB QD32 verifies; kernel calls per I/O logged', async (_name, noPollGroup) => {
    const p = await pair({ noPollGroup, blocks: 8192 });
    const c = spyKernel(p.host);
    randread(p, 32, 2000);
    expect(p.host.api.spdk_wasm_bdevperf_counter(2)).toBe(0); // none failed
    const per = (n: number): number => Math.round((n / 2000) * 1000) / 1000;
    // eslint-disable-next-line no-console
    console.log(`${_name}: per I/O epoll_wait ${per(c.epollWait)} readv ${per(c.readv)} recv ${per(c.recv)} errqueue ${per(c.errqueue)} sendmsg ${per(c.sendmsg)} total ${per(c.total())}`);
    // Then the verify workload (write, read back, compare) at the same depth.
    expect(p.host.api.spdk_wasm_bdevperf_start(p.id, 0, 4096, 32, 0, 0, 512, 2, 0)).toBe(0);
    p.tb.runUntil(() => p.host.api.spdk_wasm_bdevperf_status() !== 0, p.tb.world.now + 60e6);
    expect(p.host.api.spdk_wasm_bdevperf_status()).toBe(1);
    expect(p.host.api.spdk_wasm_bdevperf_counter(7)).toBeGreaterThan(0); // verified
    expect(p.host.api.spdk_wasm_bdevperf_counter(8)).toBe(0); // miscompares
    expect(p.host.api.spdk_wasm_bdevperf_counter(2)).toBe(0);
  });

  it('link cut: disconnected_qpair_cb fires, the reset reconnects the qpair into its group, I/O verifies', async () => {
    const p = await pair({ ackTimeoutExp: 10, reconnectDelayMs: 500, maxReconnects: 50 }, 5);
    const { host, tb, id } = p;
    roundTrip(p, 8192, 0, 1);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, DISCONNECTED_CBS)).toBe(0);
    const buf = host.call('malloc', 65536);
    tb.links[0]!.partition(true);
    const slot = host.api.spdk_wasm_nvme_io_submit(id, 1, buf, 128, 128);
    tb.runUntil(() => host.api.spdk_wasm_nvme_io_result(slot) !== EINPROGRESS, tb.world.now + 10e6);
    expect(host.api.spdk_wasm_nvme_io_result(slot)).toBe(ABORTED_SQ_DELETION);
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(id, 0) === ATTACH.RESETTING, tb.world.now + 1e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 0)).toBe(ATTACH.RESETTING);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, DISCONNECTED_CBS)).toBeGreaterThanOrEqual(1);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 16)).not.toBe(0); // a failure reason
    tb.runUntil(() => false, tb.world.now + 25e6);
    tb.links[0]!.partition(false);
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(id, 0) === ATTACH.READY, tb.world.now + 30e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 0)).toBe(ATTACH.READY);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, IN_POLL_GROUP)).toBe(1);
    roundTrip(p, 65536, 512, 2);
    host.free(buf);
  });

  it('detach takes the qpair out of its group and destroys the group', async () => {
    const p = await pair();
    roundTrip(p, 4096, 0, 3);
    expect(p.host.api.spdk_wasm_nvme_detach(p.id)).toBe(0);
    p.tb.runUntil(() => false, p.tb.world.now + 1000);
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, 0)).toBe(-abi.ENODEV);
  });
});
