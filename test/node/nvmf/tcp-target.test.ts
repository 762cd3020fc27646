/**
 * The NVMe/TCP target's real C (lib/nvmf/tcp.c, ctrlr.c) driven through the scripted kernel: the
 * test plays the host by pushing PDU bytes into an accepted socket and parsing what the target
 * sends. Covers ICReq/ICResp, Fabrics Connect (good and bad NQN), Property Set, Identify through
 * the request machine (every state change traced by its upstream name), malformed PDUs answered
 * with C2HTermReq, commands before Connect, and CRC32C.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { IoVec } from '../../../host/kernel/host-kernel.js';
import { utMachine, type Ut } from '../support/ut.js';
import { capsule, connectCapsule, HOSTNQN, icreq as pduIcreq, le16, le32, NQN, rd16, rd32, sqe as pduSqe } from '../../../host/fuzz/pdu.js';

const TCP_REQ_STATE = 'TCP_REQ_STATE';

interface Host {
  fd: number;
  rx: number[];
  tq: number;
}

/** ICReq with hlen/plen overridable (the PDU builders are shared: ./pdu.ts). */
function icreq(o: { hlen?: number; plen?: number; pfv?: number; hpda?: number } = {}): Uint8Array {
  const b = pduIcreq({ pfv: o.pfv, hpda: o.hpda });
  b[2] = o.hlen ?? 128;
  le32(b, 4, o.plen ?? 128);
  return b;
}

function sqe(opc: number, cid: number): Uint8Array {
  return pduSqe(opc, cid);
}

function connectCmd(cid: number, qid: number, subnqn: string, hostnqn = HOSTNQN): Uint8Array {
  return connectCapsule(cid, { qid, subnqn, hostnqn, sqsize: 31, kato: 10000 });
}

describe('nvmf/tcp target through the scripted kernel', () => {
  let ut: Ut;
  let transitions: [number, number, number][];
  const wire = new Map<number, number[]>();

  beforeEach(async () => {
    ut = await utMachine('unpatched');
    const { m, kernel, world } = ut;
    world.add(m);
    transitions = [];
    m.onTrace = (ev, a, b, c) => {
      if (ev === TCP_REQ_STATE) transitions.push([a, b, c]);
    };
    wire.clear();
    const orig = kernel.sendmsg.bind(kernel);
    kernel.sendmsg = (fd: number, iov: IoVec[], flags: number): number => {
      const rc = orig(fd, iov, flags);
      let left = rc;
      const out = wire.get(fd) ?? [];
      for (const v of iov) {
        if (left <= 0) break;
        const n = Math.min(v.len, left);
        out.push(...m.mem.bytes().subarray(v.base, v.base + n));
        left -= n;
      }
      wire.set(fd, out);
      return rc;
    };
    // Plain (copying) sends: write callbacks run at once, no error-queue scripting needed.
    expect(m.callStr('spdk_wasm_sock_set_opts', 'posix', 0, 0, 0, 0, 0)).toBe(0);
    expect(m.callStr('spdk_wasm_bdev_malloc_create', 'Malloc0', 256, 512)).toBe(0);
    expect(m.callStr('spdk_wasm_nvmf_create_transport', 'TCP', 16, 4096, 131072, 131072, 1, 1, 0, 0)).toBe(0);
    expect(m.callStr('spdk_wasm_nvmf_create_subsystem', NQN, 0)).toBe(0);
    expect(m.callStr('spdk_wasm_nvmf_subsystem_add_host', NQN, HOSTNQN)).toBe(0);
    expect(m.callStr('spdk_wasm_nvmf_subsystem_add_ns', NQN, 'Malloc0', 0)).toBe(1);
    expect(m.callStr('spdk_wasm_nvmf_subsystem_add_listener', NQN, '192.0.2.1', '4420')).toBe(0);
  });

  function connectHost(): Host {
    const { m, kernel, world } = ut;
    const before = m.call('spdk_wasm_nvmf_tcp_qpair_count');
    kernel.pushAccept();
    expect(world.run(() => m.call('spdk_wasm_nvmf_tcp_qpair_count') === before + 1, world.now + 1e6)).toBe('done');
    const acc = kernel.calls.filter((c) => c.fn === 'accept' && typeof c.rc === 'object').pop()!;
    const fd = (acc.rc as { fd: number }).fd;
    return { fd, rx: [], tq: m.call('spdk_wasm_nvmf_tcp_qpair_get', before) };
  }

  /** Sends bytes as the host and runs until the target has sent at least `want` more bytes. */
  function exchange(h: Host, bytes: Uint8Array, want: number): number[] {
    const { m, kernel, world } = ut;
    const start = wire.get(h.fd)?.length ?? 0;
    kernel.pushRx(h.fd, bytes);
    world.run(() => (wire.get(h.fd)?.length ?? 0) >= start + want, world.now + 100_000);
    void m;
    return (wire.get(h.fd) ?? []).slice(start);
  }

  const qf = (h: Host, f: number): number => ut.m.call('spdk_wasm_nvmf_tcp_qpair_field', h.tq, f);

  function sumStates(h: Host): number {
    let s = 0;
    for (let i = 0; i < 16; i++) s += qf(h, 100 + i);
    return s;
  }

  it('CRC32C of "123456789" is 0xE3069283', () => {
    const { m } = ut;
    const p = m.cstr('123456789');
    expect((m.call('spdk_wasm_crc32c_update', p, 9, 0xffffffff) ^ 0xffffffff) >>> 0).toBe(0xe3069283);
    m.free(p);
  });

  it('ICReq gets an ICResp; Connect gets a cntlid; Identify runs the request machine to FREE', () => {
    const { m } = ut;
    const h = connectHost();
    const icresp = exchange(h, icreq(), 128);
    expect(icresp[0]).toBe(0x01);
    expect(icresp[2]).toBe(128);
    expect(rd32(icresp, 4)).toBe(128);
    expect(rd32(icresp, 12)).toBe(131072); // maxh2cdata = max_io_size
    expect(qf(h, 2)).toBe(2); // RUNNING

    const rsp = exchange(h, connectCmd(1, 0, NQN), 24);
    expect(rsp[0]).toBe(0x05);
    expect(rd16(rsp, 8 + 12)).toBe(1); // cid
    expect(rd16(rsp, 8 + 14) >> 1).toBe(0); // status: success
    expect(rd16(rsp, 8)).toBe(1); // cntlid
    expect(qf(h, 1)).toBe(3); // ENABLED
    expect(m.call('spdk_wasm_nvmf_ctrlr_count')).toBe(1);

    // Property Set CC.EN = 1, then CSTS.RDY reads 1.
    const ps = sqe(0x7f, 2);
    ps[4] = 0x00;
    le32(ps, 44, 0x14);
    le32(ps, 48, 1);
    const psr = exchange(h, capsule(ps), 24);
    expect(rd16(psr, 8 + 14) >> 1).toBe(0);
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', 0, 2) & 1).toBe(1);

    // Identify controller: transport SGL, 4096 bytes C2H with SUCCESS and no CapsuleResp: at the
    // base c2h_success applies whatever the SQ flow control (decisions.md 20).
    transitions.length = 0;
    const id = sqe(0x06, 3);
    le32(id, 32, 4096);
    id[39] = 0x5a;
    le32(id, 40, 1);
    const out = exchange(h, capsule(id), 24 + 4096);
    expect(out[0]).toBe(0x07); // C2HData
    expect(out[1]! & 0x04).toBe(0x04); // LAST_PDU
    expect(out[1]! & 0x08).toBe(0x08); // SUCCESS: no CapsuleResp follows
    expect(rd32(out, 16)).toBe(4096);
    const cdata = out.slice(24, 24 + 4096);
    expect(rd16(cdata, 78)).toBe(1); // cntlid
    expect(rd16(cdata, 320)).toBe(100); // kas
    expect(new TextDecoder().decode(new Uint8Array(cdata.slice(768, 768 + NQN.length)))).toBe(NQN);
    expect(out.length).toBe(24 + 4096);
    const path = transitions.map(([, from, to]) => `${from}>${to}`);
    expect(path).toEqual(['0>1', '1>2', '2>3', '3>8', '8>9', '9>11', '11>12', '12>13', '13>15', '15>0']);
    expect(sumStates(h)).toBe(qf(h, 4));
    expect(qf(h, 100)).toBe(qf(h, 4)); // every request FREE
    expect(qf(h, 11)).toBe(0); // no invariant violation
  });

  it('Connect to an unknown subsystem fails with SCT 1 / SC 0x82 (invalid parameter)', () => {
    const h = connectHost();
    exchange(h, icreq(), 128);
    const rsp = exchange(h, connectCmd(7, 0, 'nqn.2016-06.io.spdk:nope'), 24);
    const status = rd16(rsp, 8 + 14);
    expect((status >> 9) & 7).toBe(1);
    expect((status >> 1) & 0xff).toBe(0x82);
    expect(ut.m.call('spdk_wasm_nvmf_ctrlr_count')).toBe(0);
  });

  it('a host not allowed gets SC 0x84 (invalid host)', () => {
    const h = connectHost();
    exchange(h, icreq(), 128);
    const rsp = exchange(h, connectCmd(7, 0, NQN, 'nqn.2014-08.org.nvmexpress:uuid:stranger'), 24);
    expect((rd16(rsp, 8 + 14) >> 1) & 0xff).toBe(0x84);
  });

  it('an ICReq with a bad hlen gets a C2HTermReq FES 1 naming the hlen field', () => {
    const h = connectHost();
    const out = exchange(h, icreq({ hlen: 100 }), 24);
    expect(out[0]).toBe(0x03);
    expect(rd16(out, 8)).toBe(0x01);
    expect(rd32(out, 10)).toBe(2); // offset of hlen
    expect(qf(h, 8)).toBe(1);
  });

  it('an unknown PDU type after ICResp gets FES 1 at offset 0', () => {
    const h = connectHost();
    exchange(h, icreq(), 128);
    const bad = new Uint8Array(24);
    bad[0] = 0x08;
    bad[2] = 24;
    le32(bad, 4, 24);
    const out = exchange(h, bad, 24);
    expect(out[0]).toBe(0x03);
    expect(rd16(out, 8)).toBe(0x01);
    expect(rd32(out, 10)).toBe(0);
  });

  it('a command before Connect is answered with COMMAND_SEQUENCE_ERROR and the qpair is closed', () => {
    const { m, world } = ut;
    const h = connectHost();
    exchange(h, icreq(), 128);
    const ka = sqe(0x18, 9);
    const rsp = exchange(h, capsule(ka), 24);
    expect((rd16(rsp, 8 + 14) >> 1) & 0xff).toBe(0x0c);
    expect(world.run(() => m.call('spdk_wasm_nvmf_tcp_qpair_count') === 0, world.now + 1e6)).toBe('done');
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', -1, 1)).toBe(1); // qpairs destroyed
  });

  it('an SGL longer than max_io_size gets a C2HTermReq FES 5', () => {
    const h = connectHost();
    exchange(h, icreq(), 128);
    exchange(h, connectCmd(1, 0, NQN), 24);
    const rd = sqe(0x06, 3);
    le32(rd, 32, 1 << 20);
    rd[39] = 0x5a;
    le32(rd, 40, 1);
    const out = exchange(h, capsule(rd), 24);
    expect(out[0]).toBe(0x03);
    expect(rd16(out, 8)).toBe(0x05);
  });

  function adminUp(): Host {
    const h = connectHost();
    exchange(h, icreq(), 128);
    exchange(h, connectCmd(1, 0, NQN), 24);
    const ps = sqe(0x7f, 2);
    le32(ps, 44, 0x14);
    le32(ps, 48, 1);
    exchange(h, capsule(ps), 24);
    return h;
  }

  function ioQpair(): Host {
    const h = connectHost();
    exchange(h, icreq(), 128);
    const c = connectCmd(1, 1, NQN);
    new DataView(c.buffer).setUint16(72 + 16, 1, true); // cntlid 1
    new DataView(c.buffer).setUint16(8 + 44, 15, true); // sqsize < max_queue_depth 16
    const rsp = exchange(h, c, 24);
    expect((rd16(rsp, 8 + 14) >> 1) & 0xff).toBe(0);
    return h;
  }

  function readCmd(cid: number, lba: number, blocks: number): Uint8Array {
    const r = sqe(0x02, cid);
    le32(r, 4, 1); // nsid
    le32(r, 32, blocks * 512);
    r[39] = 0x5a;
    le32(r, 40, lba);
    le32(r, 48, blocks - 1);
    return capsule(r);
  }

  it('a zcopy READ walks the zcopy states and returns the disk bytes', () => {
    const { m } = ut;
    adminUp();
    const io = ioQpair();
    const disk = m.callStr('spdk_wasm_bdev_malloc_buf', 'Malloc0');
    for (let i = 0; i < 8 * 512; i++) m.mem.bytes()[disk + 512 * 4 + i] = (i * 7) & 0xff;
    transitions.length = 0;
    const out = exchange(io, readCmd(5, 4, 8), 24 + 4096);
    expect(out[0]).toBe(0x07);
    expect(out.slice(24, 24 + 4096)).toEqual(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff));
    ut.world.run(() => qf(io, 100) === qf(io, 4), ut.world.now + 100_000);
    const path = transitions.map(([, from, to]) => `${from}>${to}`);
    expect(path).toEqual(['0>1', '1>2', '2>3', '3>4', '4>5', '5>11', '11>12', '12>13', '13>15', '15>14', '14>15', '15>0']);
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', -1, 2)).toBe(0); // no bdev_io left
  });

  it('seed 001 in miniature: C2HData never written back, KATO expiry leaves the zcopy READ in COMPLETED with pdu_in_use; a socket error frees it', () => {
    const { m, kernel, world } = ut;
    adminUp();
    const io = ioQpair();
    kernel.set('sendmsg', -abi.EAGAIN); // the host vanished: nothing more leaves
    kernel.pushRx(io.fd, readCmd(5, 0, 8));
    world.run(() => false, world.now + 25e6); // past 2 x KATO (10 s)
    const idx = Array.from({ length: qf(io, 4) }, (_, i) => i).find((i) => m.call('spdk_wasm_nvmf_tcp_req_field', io.tq, i, 4) === 5)!;
    const rf = (f: number): number => m.call('spdk_wasm_nvmf_tcp_req_field', io.tq, idx, f);
    expect(rf(0)).toBe(15); // TCP_REQUEST_STATE_COMPLETED
    expect(rf(1)).toBe(1); // pdu_in_use
    expect(rf(2)).toBe(2); // zcopy phase EXECUTE
    expect(rf(7)).toBe(0x07); // ABORTED_BY_REQUEST
    expect(rf(10)).toBe(1); // still on qpair->outstanding
    expect(qf(io, 1)).toBe(4); // DEACTIVATING
    expect(qf(io, 7)).toBe(1); // destroy waits for outstanding
    expect(qf(io, 10)).toBeGreaterThan(0); // "Delaying completion" taken
    expect(m.call('spdk_wasm_nvmf_ctrlr_count')).toBe(1); // the controller lives on
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', 0, 2) & 2).toBe(2); // CSTS.CFS
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', 0, 1)).toBe(2); // qpair_mask: only qid 1 left

    // The kernel finally fails the connection (TCP_USER_TIMEOUT / tcp_retries2).
    kernel.set('sendmsg', -abi.ETIMEDOUT);
    kernel.set('readv', -abi.ETIMEDOUT);
    expect(world.run(() => m.call('spdk_wasm_nvmf_tcp_qpair_count') === 0, world.now + 1e6)).toBe('done');
    // The controller goes by a message sent from the qpair's teardown: it runs on a later poll.
    expect(world.run(() => m.call('spdk_wasm_nvmf_ctrlr_count') === 0, world.now + 1e6)).toBe('done');
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', -1, 0)).toBe(1); // controller destroyed
    expect(m.call('spdk_wasm_nvmf_ctrlr_field', -1, 2)).toBe(0); // zcopy bdev_io released
  });
});
