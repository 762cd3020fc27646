/**
 * The controller's side of NVMe/TCP for tests that play the target against the real initiator C:
 * encoders for the PDUs a controller sends (ICResp, CapsuleResp, C2HData, R2T, C2HTermReq) and
 * decoders for the ones a host sends (ICReq, CapsuleCmd, H2CData, H2CTermReq). The host-side
 * encoders, the framing (`encodePdu`, `splitPdus`) and the controller-PDU decoders are in
 * ../nvmf/pdu.ts. Layouts: spec nvmf-tcp-rdma.md §4.1 (PDUs) and §4.2 (SQE, CQE).
 */
import {
  crc32c, dataDigest, encodePdu, FLAG, icPdu, le16, le32, PDU, rd16, rd32, typeHasDdgst, typeHasHdgst,
  type Digests, type RxPdu,
} from '../../../host/fuzz/pdu.js';

export function icresp(o: { pfv?: number; cpda?: number; hdgst?: boolean; ddgst?: boolean; maxh2cdata?: number } = {}): Uint8Array {
  return icPdu(PDU.IC_RESP, o.pfv ?? 0, o.cpda ?? 0, o.hdgst === true, o.ddgst === true, o.maxh2cdata ?? 131072);
}

export interface Cqe {
  cdw0?: number;
  cdw1?: number;
  sqhd?: number;
  sqid?: number;
  cid: number;
  sct?: number;
  sc?: number;
  dnr?: boolean;
  /** Phase tag; over NVMe/TCP the initiator uses it to mark a short C2H transfer. */
  p?: boolean;
}

/** The 16-byte CQE: status is P bit 0, SC bits 1-8, SCT bits 9-11, DNR bit 15. */
export function cqeBytes(c: Cqe): Uint8Array {
  const b = new Uint8Array(16);
  le32(b, 0, c.cdw0 ?? 0);
  le32(b, 4, c.cdw1 ?? 0);
  le16(b, 8, c.sqhd ?? 0);
  le16(b, 10, c.sqid ?? 0);
  le16(b, 12, c.cid);
  le16(b, 14, (c.p ? 1 : 0) | (((c.sc ?? 0) & 0xff) << 1) | (((c.sct ?? 0) & 7) << 9) | (c.dnr ? 0x8000 : 0));
  return b;
}

export function capsuleResp(c: Cqe, dg: Digests): Uint8Array {
  const h = new Uint8Array(24);
  h[0] = PDU.CAPSULE_RESP;
  h.set(cqeBytes(c), 8);
  return encodePdu(h, undefined, dg);
}

/** C2HData; `cpda` pads PDO to (cpda+1)*4 as the controller announced in ICResp. */
export function c2hDataPdu(o: { cccid: number; datao: number; data: Uint8Array; last?: boolean; success?: boolean }, dg: Digests, cpda = 0): Uint8Array {
  const h = new Uint8Array(24);
  h[0] = PDU.C2H_DATA;
  le16(h, 8, o.cccid);
  le32(h, 12, o.datao);
  le32(h, 16, o.data.length);
  const flags = (o.last ? FLAG.LAST_PDU : 0) | (o.success ? FLAG.SUCCESS : 0);
  return encodePdu(h, o.data, { ...dg, hpda: cpda }, flags);
}

export function r2tPdu(o: { cccid: number; ttag: number; r2to: number; r2tl: number }, dg: Digests): Uint8Array {
  const h = new Uint8Array(24);
  h[0] = PDU.R2T;
  le16(h, 8, o.cccid);
  le16(h, 10, o.ttag);
  le32(h, 12, o.r2to);
  le32(h, 16, o.r2tl);
  return encodePdu(h, undefined, dg);
}

export function c2hTermReq(fes: number, fei: number, offending: Uint8Array): Uint8Array {
  const b = new Uint8Array(24 + offending.length);
  b[0] = PDU.C2H_TERM_REQ;
  b[2] = 24;
  b[3] = 24;
  le32(b, 4, b.length);
  le16(b, 8, fes);
  le32(b, 10, fei);
  b.set(offending, 24);
  return b;
}

// ---- decoding what a host sends ----

export function icreqFields(p: RxPdu): { pfv: number; hpda: number; hdgst: boolean; ddgst: boolean; maxr2t: number } {
  const b = p.bytes;
  return { pfv: rd16(b, 8), hpda: b[10]!, hdgst: (b[11]! & 1) !== 0, ddgst: (b[11]! & 2) !== 0, maxr2t: rd32(b, 12) };
}

export function icrespFields(p: RxPdu): { pfv: number; cpda: number; hdgst: boolean; ddgst: boolean; maxh2cdata: number } {
  const b = p.bytes;
  return { pfv: rd16(b, 8), cpda: b[10]!, hdgst: (b[11]! & 1) !== 0, ddgst: (b[11]! & 2) !== 0, maxh2cdata: rd32(b, 12) };
}

/** The SQE of a CapsuleCmd (byte 8 on) and its in-capsule data (PDO on, without DDGST). */
export interface Sqe {
  opc: number;
  fuse: number;
  psdt: number;
  cid: number;
  nsid: number;
  /** Fabrics commands: fctype (byte 4 of the SQE). */
  fctype: number;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  sglAddress: number;
  sglLength: number;
  /** SGL descriptor type (high nibble of byte 15) and subtype (low nibble). */
  sglType: number;
  sglSubtype: number;
  raw: Uint8Array;
}

export function sqeFields(raw: Uint8Array): Sqe {
  return {
    opc: raw[0]!, fuse: raw[1]! & 3, psdt: (raw[1]! >> 6) & 3, cid: rd16(raw, 2), nsid: rd32(raw, 4), fctype: raw[4]!,
    cdw10: rd32(raw, 40), cdw11: rd32(raw, 44), cdw12: rd32(raw, 48), cdw13: rd32(raw, 52),
    sglAddress: rd32(raw, 24), sglLength: rd32(raw, 32), sglType: raw[39]! >> 4, sglSubtype: raw[39]! & 0xf, raw,
  };
}

export function capsuleCmdFields(p: RxPdu): { sqe: Sqe; icd: Uint8Array } {
  const dd = (p.flags & FLAG.DDGSTF) !== 0 ? 4 : 0;
  const icd = p.pdo > 0 && p.plen > p.pdo + dd ? p.bytes.subarray(p.pdo, p.plen - dd) : new Uint8Array(0);
  return { sqe: sqeFields(p.bytes.subarray(8, 72)), icd };
}

export function h2cDataFields(p: RxPdu): { cccid: number; ttag: number; datao: number; datal: number; data: Uint8Array; last: boolean } {
  const datal = rd32(p.bytes, 16);
  return {
    cccid: rd16(p.bytes, 8), ttag: rd16(p.bytes, 10), datao: rd32(p.bytes, 12), datal,
    data: p.bytes.subarray(p.pdo, p.pdo + datal), last: (p.flags & FLAG.LAST_PDU) !== 0,
  };
}

/** Where the data of a PDU lies and what its digests say: `hdgst`/`ddgst` are undefined when the
 *  PDU carries none, else whether the received digest equals the CRC32C recomputed here. */
export function digestCheck(p: RxPdu): { hdgst?: boolean; ddgst?: boolean } {
  const out: { hdgst?: boolean; ddgst?: boolean } = {};
  if ((p.flags & FLAG.HDGSTF) !== 0 && typeHasHdgst(p.type)) out.hdgst = rd32(p.bytes, p.hlen) === crc32c(p.bytes.subarray(0, p.hlen));
  if ((p.flags & FLAG.DDGSTF) !== 0 && typeHasDdgst(p.type) && p.pdo > 0) {
    const data = p.bytes.subarray(p.pdo, p.plen - 4);
    out.ddgst = rd32(p.bytes, p.plen - 4) === dataDigest(data);
  }
  return out;
}
