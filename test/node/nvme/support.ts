/** Test support for the NVMe/TCP suites: two machines (target + initiator) over the emulated wire. */
import { expect } from 'vitest';
import type { RunOptions } from '../../../host/scenarios/contract.js';
import { buildTestbed, type Testbed } from '../../../host/scenarios/testbed.js';
import { ATTACH, NVME_HOST_IP, NVME_TARGET_IP, setupNvmeTcp, waitAttached, type NvmeTcpSetup } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import type { Fabric } from '../../../host/net/fabric.js';

export interface Pair {
  tb: Testbed;
  host: SpdkMachine;
  target: SpdkMachine;
  id: number;
}

/** A target and an initiator attached to it; `configure` runs on both machines before anything
 *  is set up or connects (e.g. sock_impl_set_options). */
export async function pair(o: NvmeTcpSetup = {}, seed = 1, onFabric?: (f: Fabric) => void, configure?: (m: SpdkMachine) => void): Promise<Pair> {
  const opts: RunOptions = { variant: 'unpatched', flavor: 'release', seed, params: {}, load: loadVariant, onFabric };
  const tb = await buildTestbed(opts, {
    mss: 1448, latencyUs: 20, jitterUs: 0, lossPpm: 0, tsoBytes: 65536,
    machines: [{ name: 'host', ip: NVME_HOST_IP }, { name: 'target', ip: NVME_TARGET_IP }],
  });
  const host = tb.machine('host');
  const target = tb.machine('target');
  if (configure !== undefined) for (const m of [host, target]) configure(m);
  const id = setupNvmeTcp(target, host, o);
  expect(waitAttached(tb, host, id)).toBe(ATTACH.READY);
  return { tb, host, target, id };
}

/** Runs one I/O to completion; returns its status (sct << 8 | sc). */
/** What io() and qf() need: the initiator machine, its controller id and the world. */
export type Initiator = Pick<Pair, 'tb' | 'host' | 'id'>;

export function io(p: Initiator, write: boolean, buf: number, lba: number, blocks: number): number {
  const slot = p.host.api.spdk_wasm_nvme_io_submit(p.id, write ? 1 : 0, buf, lba, blocks);
  expect(slot).toBeGreaterThanOrEqual(0);
  const EINPROGRESS = -26;
  p.tb.runUntil(() => p.host.api.spdk_wasm_nvme_io_result(slot) !== EINPROGRESS || p.tb.crashed() !== undefined, p.tb.world.now + 5e6);
  return p.host.api.spdk_wasm_nvme_io_result(slot);
}

export function fill(m: SpdkMachine, at: number, len: number, salt: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  m.mem.bytes().set(b, at);
  return b;
}

export const qf = (p: Initiator, which: number, f: number): number => p.host.api.spdk_wasm_nvme_qpair_field(p.id, which, f);
export const PDU = { ICReq: 0, ICResp: 1, CapsuleCmd: 4, CapsuleResp: 5, H2CData: 6, C2HData: 7, R2T: 9 };

/** Writes then reads back `size` bytes at `lba`, byte for byte; returns the I/O qpair's PDU counts. */
export function roundTrip(p: Pair, size: number, lba: number, salt: number): void {
  const m = p.host;
  const wbuf = m.call('malloc', size);
  const rbuf = m.call('malloc', size);
  const want = fill(m, wbuf, size, salt);
  m.mem.bytes().fill(0, rbuf, rbuf + size);
  expect(io(p, true, wbuf, lba, size / 512)).toBe(0);
  expect(io(p, false, rbuf, lba, size / 512)).toBe(0);
  const got = m.mem.bytes().slice(rbuf, rbuf + size);
  expect(Buffer.compare(Buffer.from(got), Buffer.from(want))).toBe(0);
  m.free(wbuf);
  m.free(rbuf);
}


/** A bdevperf 4 KiB randread of `ios` I/Os at queue depth `qd`, run to a clean finish. */
export function randread(p: Pair, qd: number, ios: number): void {
  expect(p.host.api.spdk_wasm_bdevperf_start(p.id, 1, 4096, qd, 0, 0, ios, 1, 0)).toBe(0);
  p.tb.runUntil(() => p.host.api.spdk_wasm_bdevperf_status() !== 0, p.tb.world.now + 60e6);
  expect(p.host.api.spdk_wasm_bdevperf_status()).toBe(1);
  expect(p.host.api.spdk_wasm_bdevperf_counter(1)).toBe(ios);
}
