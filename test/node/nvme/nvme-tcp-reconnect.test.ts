/**
 * Failure detection and reconnect: with transport_ack_timeout set (TCP_USER_TIMEOUT on the initiator's
 * sockets), a partitioned link fails the I/O qpair within the timeout; the in-flight write completes
 * with ABORTED - SQ DELETION; reconnect attempts fail while the link is down (bounded by the ICReq
 * timeout) and one succeeds once it heals — a new controller, I/O verified again. With no attempts
 * left the controller ends FAILED.
 */
import { describe, expect, it } from 'vitest';
import { ATTACH } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import { pair, roundTrip } from './support.js';

const EINPROGRESS = -26;
const ABORTED_SQ_DELETION = 0x08;

describe('NVMe/TCP initiator: failure and reconnect', () => {
  it('partition: I/O aborted, bounded reconnects, back to READY after the link heals', async () => {
    const p = await pair({ ackTimeoutExp: 10, reconnectDelayMs: 500, maxReconnects: 50 }, 5);
    const { host, tb, id } = p;
    const cntlid = host.api.spdk_wasm_nvme_ctrlr_field(id, 2);
    roundTrip(p, 8192, 0, 1);
    const buf = host.call('malloc', 65536);
    tb.links[0]!.partition(true);
    const slot = host.api.spdk_wasm_nvme_io_submit(id, 1, buf, 128, 128);
    const t0 = tb.world.now;
    tb.runUntil(() => host.api.spdk_wasm_nvme_io_result(slot) !== EINPROGRESS, t0 + 10e6);
    // TCP_USER_TIMEOUT 2^10 ms: the qpair fails after about a second, not at tcp_retries2.
    expect(tb.world.now - t0).toBeLessThan(3e6);
    expect(host.api.spdk_wasm_nvme_io_result(slot)).toBe(ABORTED_SQ_DELETION);
    // Stay down past the target's keep-alive expiry (KATO 10 s, detected within 2 x KATO), so the
    // target has closed its old qpairs before the initiator comes back.
    tb.runUntil(() => false, tb.world.now + 25e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 0)).toBe(ATTACH.RESETTING);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 7)).toBeGreaterThanOrEqual(2);
    expect(p.target.api.spdk_wasm_nvmf_ctrlr_count()).toBe(0);
    tb.links[0]!.partition(false);
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(id, 0) === ATTACH.READY, tb.world.now + 30e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 0)).toBe(ATTACH.READY);
    // At least one reset. A second can happen: the healed initiator may reconnect from the same
    // ephemeral port, and the target's kernel still holding that 4-tuple answers the new stream
    // with a C2HTermReq; the initiator then fails that qpair and reconnects again.
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 6)).toBeGreaterThanOrEqual(1);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 2)).not.toBe(cntlid); // a new controller
    roundTrip(p, 65536, 512, 2);
    host.free(buf);
  });

  it('gives up after max_reconnects and ends FAILED', async () => {
    const p = await pair({ ackTimeoutExp: 9, reconnectDelayMs: 200, maxReconnects: 3 }, 6);
    const { host, tb, id } = p;
    tb.links[0]!.partition(true);
    const buf = host.call('malloc', 8192);
    const slot = host.api.spdk_wasm_nvme_io_submit(id, 1, buf, 0, 16);
    tb.runUntil(() => host.api.spdk_wasm_nvme_ctrlr_field(id, 0) === ATTACH.FAILED, tb.world.now + 60e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 0)).toBe(ATTACH.FAILED);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 7)).toBe(3);
    expect(host.api.spdk_wasm_nvme_io_result(slot)).toBe(ABORTED_SQ_DELETION);
  });
});
