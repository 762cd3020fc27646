/**
 * The NVMe/TCP initiator (lib/nvme) against the real target (lib/nvmf) over the emulated wire: two
 * machines, the target with a malloc bdev, a subsystem and a TCP listener; the initiator attaches
 * (ICReq/ICResp, Fabrics Connect admin then I/O, Property Get/Set CC.EN=1 until CSTS.RDY, Identify
 * controller and namespace, keep-alive timeout), then writes and reads back byte for byte in sizes
 * that take every data path: in-capsule data, R2T answered by one or several H2CData PDUs
 * (maxh2cdata), and C2HData, with and without digests and zero copy.
 */
import { describe, expect, it } from 'vitest';
import { NVME_SUBNQN, type NvmeTcpSetup } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import { PDU, pair, qf, roundTrip } from './support.js';

const MATRIX: { name: string; o: NvmeTcpSetup }[] = [
  { name: 'no digests, zero copy', o: {} },
  { name: 'header + data digests, zero copy', o: { hdgst: true, ddgst: true } },
  { name: 'header digest only, no zero copy', o: { hdgst: true, sockZcopy: false, ioZcopy: false } },
  { name: 'data digest, zcopy transport (bdev ZCOPY), threshold 8 KiB', o: { ddgst: true, transportZcopy: true, threshold: 8192 } },
];

describe('NVMe/TCP initiator against the target, end to end', () => {
  it('connects: ICReq/ICResp, Connect admin then I/O, CC.EN=1 and CSTS.RDY, Identify, KATO', async () => {
    const p = await pair();
    const { host, id } = p;
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 1)).toBe(24); // NVME_CTRLR_STATE_READY
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 3)).toBe(5); // admin NVME_QPAIR_ENABLED
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 4)).toBe(5); // I/O NVME_QPAIR_ENABLED
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 17) & 1).toBe(1); // CSTS.RDY
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 11)).toBe(512);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 12)).toBe(2048);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 13)).toBe(131072); // MDTS
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 14)).toBe(4096); // IOCCSZ - SQE
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 10)).toBe(10000); // KATO the target chose
    const cdata = host.api.spdk_wasm_nvme_ctrlr_data(id);
    const subnqn = new TextDecoder().decode(host.mem.bytes().subarray(cdata + 768, cdata + 768 + NVME_SUBNQN.length));
    expect(subnqn).toBe(NVME_SUBNQN);
    expect(qf(p, 0, 6)).toBe(1); // admin Connect
    expect(qf(p, 1, 6)).toBe(1); // I/O Connect
    expect(qf(p, 0, 120 + PDU.ICReq)).toBe(1);
    expect(qf(p, 0, 140 + PDU.ICResp)).toBe(1);
    expect(qf(p, 1, 104)).toBe(131072); // maxh2cdata from ICResp
    // The target has one controller with the admin and the I/O qpair.
    expect(p.target.api.spdk_wasm_nvmf_ctrlr_count()).toBe(1);
    expect(p.target.api.spdk_wasm_nvmf_ctrlr_field(0, 1)).toBe(0b11);
    // Keep Alive every KATO/2: after 12 s, at least two went out and none failed.
    p.tb.runUntil(() => false, p.tb.world.now + 12e6);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 8)).toBeGreaterThanOrEqual(2);
    expect(host.api.spdk_wasm_nvme_ctrlr_field(id, 9)).toBe(0);
    expect(p.target.api.spdk_wasm_nvmf_ctrlr_field(0, 2) & 2).toBe(0); // no CSTS.CFS on the target
  });

  it.each(MATRIX)('writes and reads back byte for byte: $name', async ({ o }) => {
    const p = await pair(o);
    const before = { icd: qf(p, 1, 115), r2t: qf(p, 1, 140 + PDU.R2T), h2c: qf(p, 1, 120 + PDU.H2CData) };
    roundTrip(p, 512, 0, 1); // in-capsule
    roundTrip(p, 4096, 8, 2); // in-capsule, the largest
    expect(qf(p, 1, 115) - before.icd).toBe(512 + 4096);
    roundTrip(p, 8192, 16, 3); // R2T + one H2CData
    roundTrip(p, 131072, 256, 4); // R2T + one 128 KiB H2CData; 128 KiB C2HData
    expect(qf(p, 1, 140 + PDU.R2T) - before.r2t).toBe(2);
    expect(qf(p, 1, 120 + PDU.H2CData) - before.h2c).toBe(2);
    expect(qf(p, 1, 102)).toBe(o.hdgst ? 1 : 0);
    expect(qf(p, 1, 103)).toBe(o.ddgst ? 1 : 0);
    expect(qf(p, 1, 110)).toBe(0); // no header digest errors
    expect(qf(p, 1, 111)).toBe(0); // no data digest errors
    expect(qf(p, 1, 107)).toBe(0); // no H2CTermReq
    expect(qf(p, 1, 4)).toBe(0); // no error completions
  });
});
