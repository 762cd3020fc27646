/**
 * A capture of the initiator talking to the target, decoded by Debian's tshark as NVMe/TCP: every PDU
 * type of the data paths appears (ICReq, ICResp, CapsuleCmd, CapsuleResp, R2T, H2CData, C2HData) and
 * no frame is malformed or carries a bad checksum — with and without digests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapRecorder } from '../../../host/net/pcap.js';
import { ensureTshark, nvmeTcpPduTypes, problemFrames } from '../pcap/tshark.js';
import { pair, roundTrip } from './support.js';

const tsh = ensureTshark();
const name = tsh.path !== undefined ? 'NVMe/TCP capture (tshark)' : `NVMe/TCP capture (tshark) (SKIPPED: ${tsh.why})`;

describe.skipIf(tsh.path === undefined)(name, () => {
  it.each([
    ['without digests', {}],
    ['with header and data digests', { hdgst: true, ddgst: true }],
  ])('decodes every PDU type, nothing malformed: %s', async (_n, o) => {
    let rec: PcapRecorder | undefined;
    const p = await pair(o, 3, (f) => { rec = new PcapRecorder(f); });
    roundTrip(p, 4096, 0, 1);
    roundTrip(p, 65536, 64, 2);
    const file = join(mkdtempSync(join(tmpdir(), 'spdk-wasm-nvme-')), 'nvme.pcap');
    writeFileSync(file, rec!.stop());
    const types = nvmeTcpPduTypes(file, 4420);
    for (const t of ['ICReq', 'ICResp', 'CapsuleCmd', 'CapsuleResp', 'R2T', 'H2CData', 'C2HData']) {
      expect(types, `tshark saw ${[...types].join(', ')}`).toContain(t);
    }
    expect(types.has('H2CTermReq') || types.has('C2HTermReq')).toBe(false);
    expect(problemFrames(file)).toEqual([]);
  });
});
