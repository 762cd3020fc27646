/**
 * NVMe/TCP PDUs for tests that play the host against the real target C: encoders for every
 * host-to-controller PDU (with header/data digests, padding to PDO and in-capsule data), SQE
 * builders for the commands the target serves, and a decoder for what the target sends back.
 * Layouts: spec nvmf-tcp-rdma.md §4 (NVMe/TCP 1.0 PDUs, SQE/CQE).
 */
import { crc32c } from './crc32c.js';

export const PDU = {
  IC_REQ: 0x00, IC_RESP: 0x01, H2C_TERM_REQ: 0x02, C2H_TERM_REQ: 0x03, CAPSULE_CMD: 0x04,
  CAPSULE_RESP: 0x05, H2C_DATA: 0x06, C2H_DATA: 0x07, R2T: 0x09,
} as const;

/** C2HTermReq fatal error status (enum spdk_nvme_tcp_term_req_fes). */
export const FES = {
  INVALID_HEADER_FIELD: 1, PDU_SEQUENCE_ERROR: 2, HDGST_ERROR: 3, DATA_TRANSFER_OUT_OF_RANGE: 4,
  DATA_TRANSFER_LIMIT_EXCEEDED: 5, UNSUPPORTED_PARAMETER: 6,
} as const;

export const FLAG = { HDGSTF: 0x01, DDGSTF: 0x02, LAST_PDU: 0x04, SUCCESS: 0x08 } as const;

export const OPC = { FLUSH: 0x00, WRITE: 0x01, READ: 0x02, IDENTIFY: 0x06, SET_FEATURES: 0x09, GET_FEATURES: 0x0a, KEEP_ALIVE: 0x18, FABRIC: 0x7f } as const;
export const FCTYPE = { PROPERTY_SET: 0x00, CONNECT: 0x01, PROPERTY_GET: 0x04 } as const;

/** Generic status codes (SCT 0) and fabrics command-specific ones (SCT 1). */
export const SC = {
  SUCCESS: 0x00, INVALID_OPCODE: 0x01, INVALID_FIELD: 0x02, ABORTED_BY_REQUEST: 0x07,
  INVALID_NAMESPACE: 0x0b, COMMAND_SEQUENCE_ERROR: 0x0c, TRANSIENT_TRANSPORT_ERROR: 0x22,
  LBA_OUT_OF_RANGE: 0x80,
  FABRIC_INCOMPATIBLE_FORMAT: 0x80, FABRIC_INVALID_PARAM: 0x82, FABRIC_INVALID_HOST: 0x84,
} as const;

export const NQN = 'nqn.2016-06.io.spdk:cnode1';
export const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:host1';

export function le16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
export function le32(b: Uint8Array, off: number, v: number): void {
  le16(b, off, v & 0xffff);
  le16(b, off + 2, (v >>> 16) & 0xffff);
}
export function rd16(b: ArrayLike<number>, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}
export function rd32(b: ArrayLike<number>, off: number): number {
  return (rd16(b, off) | (rd16(b, off + 2) << 16)) >>> 0;
}

export { crc32c };

/** What the connection negotiated in ICReq/ICResp; applies to every later PDU. */
export interface Digests {
  hdgst: boolean;
  ddgst: boolean;
  /** Host PDU data alignment (0's-based dwords); the target echoes it as CPDA. */
  hpda?: number;
}

export const NO_DIGESTS: Digests = { hdgst: false, ddgst: false, hpda: 0 };

const HAS_HDGST: ReadonlySet<number> = new Set([PDU.CAPSULE_CMD, PDU.CAPSULE_RESP, PDU.H2C_DATA, PDU.C2H_DATA, PDU.R2T]);
const HAS_DDGST: ReadonlySet<number> = new Set([PDU.CAPSULE_CMD, PDU.H2C_DATA, PDU.C2H_DATA]);

export function typeHasHdgst(type: number): boolean {
  return HAS_HDGST.has(type);
}
export function typeHasDdgst(type: number): boolean {
  return HAS_DDGST.has(type);
}

function digestBytes(crc: number): Uint8Array {
  const d = new Uint8Array(4);
  le32(d, 0, crc);
  return d;
}

/** The data digest: CRC32C of the data and zero padding to a multiple of 4 bytes. */
export function dataDigest(data: Uint8Array): number {
  const pad = (4 - (data.length % 4)) % 4;
  if (pad === 0) return crc32c(data);
  const b = new Uint8Array(data.length + pad);
  b.set(data);
  return crc32c(b);
}

/**
 * One PDU on the wire: `header` (hlen bytes; common header fields are filled in here), HDGST when
 * negotiated and the type has one, zero padding up to PDO (aligned to (hpda+1)*4 when hpda != 0),
 * data, DDGST. Returns the bytes; plen/pdo/flags are set consistently.
 */
export function encodePdu(header: Uint8Array, data: Uint8Array | undefined, dg: Digests = NO_DIGESTS, extraFlags = 0): Uint8Array {
  const type = header[0]!;
  const hlen = header.length;
  const hd = dg.hdgst && typeHasHdgst(type) ? 4 : 0;
  const dd = dg.ddgst && data !== undefined && data.length > 0 && typeHasDdgst(type) ? 4 : 0;
  let pdo = 0;
  if (data !== undefined && data.length > 0) {
    pdo = hlen + hd;
    const hpda = dg.hpda ?? 0;
    if (hpda !== 0) {
      const a = (hpda + 1) * 4;
      pdo = Math.ceil(pdo / a) * a;
    }
  }
  const plen = (pdo || hlen + hd) + (data?.length ?? 0) + dd;
  const out = new Uint8Array(plen);
  out.set(header);
  out[1] = (header[1]! | extraFlags | (hd ? FLAG.HDGSTF : 0) | (dd ? FLAG.DDGSTF : 0)) & 0xff;
  out[2] = hlen;
  out[3] = pdo;
  le32(out, 4, plen);
  if (hd) out.set(digestBytes(crc32c(out.subarray(0, hlen))), hlen);
  if (data !== undefined && data.length > 0) {
    out.set(data, pdo);
    if (dd) out.set(digestBytes(dataDigest(data)), pdo + data.length);
  }
  return out;
}

/** ICReq and ICResp share one 128-byte layout: PFV, the PDU data alignment (HPDA / CPDA), the
 *  digest bits, and one dword (MAXR2T / MAXH2CDATA). */
export function icPdu(type: number, pfv: number, pda: number, hdgst: boolean, ddgst: boolean, dword: number): Uint8Array {
  const b = new Uint8Array(128);
  b[0] = type;
  b[2] = 128;
  le32(b, 4, 128);
  le16(b, 8, pfv);
  b[10] = pda;
  b[11] = (hdgst ? 1 : 0) | (ddgst ? 2 : 0);
  le32(b, 12, dword);
  return b;
}

export function icreq(o: { pfv?: number; hpda?: number; hdgst?: boolean; ddgst?: boolean; maxr2t?: number } = {}): Uint8Array {
  return icPdu(PDU.IC_REQ, o.pfv ?? 0, o.hpda ?? 0, o.hdgst === true, o.ddgst === true, o.maxr2t ?? 0);
}

/** The ICReq that negotiates `dg`. */
export function icreqFor(dg: Digests): Uint8Array {
  return icreq({ hdgst: dg.hdgst, ddgst: dg.ddgst, hpda: dg.hpda ?? 0 });
}

/** CapsuleCmd carrying `sqe` and, optionally, in-capsule data. */
export function capsule(sqe: Uint8Array, icd?: Uint8Array, dg: Digests = NO_DIGESTS): Uint8Array {
  const h = new Uint8Array(72);
  h[0] = PDU.CAPSULE_CMD;
  h.set(sqe, 8);
  return encodePdu(h, icd, dg);
}

export function h2cData(o: { cccid: number; ttag: number; datao: number; data: Uint8Array; last?: boolean }, dg: Digests = NO_DIGESTS): Uint8Array {
  const h = new Uint8Array(24);
  h[0] = PDU.H2C_DATA;
  le16(h, 8, o.cccid);
  le16(h, 10, o.ttag);
  le32(h, 12, o.datao);
  le32(h, 16, o.data.length);
  return encodePdu(h, o.data, dg, o.last === false ? 0 : FLAG.LAST_PDU);
}

export function h2cTermReq(fes: number, offending: Uint8Array = new Uint8Array(8), fei = 0): Uint8Array {
  const b = new Uint8Array(24 + offending.length);
  b[0] = PDU.H2C_TERM_REQ;
  b[2] = 24;
  b[3] = 24;
  le32(b, 4, b.length);
  le16(b, 8, fes);
  le32(b, 10, fei);
  b.set(offending, 24);
  return b;
}

export type Sgl = { kind: 'transport'; len: number } | { kind: 'icd'; len: number; offset?: number } | { kind: 'raw'; bytes: Uint8Array };

export function sqe(opc: number, cid: number, o: { nsid?: number; sgl?: Sgl; cdw10?: number; cdw11?: number; cdw12?: number; fuse?: number; psdt?: number } = {}): Uint8Array {
  const s = new Uint8Array(64);
  s[0] = opc;
  s[1] = ((o.fuse ?? 0) & 3) | (((o.psdt ?? 0) & 3) << 6);
  le16(s, 2, cid);
  le32(s, 4, o.nsid ?? 0);
  const sgl = o.sgl;
  if (sgl?.kind === 'transport') {
    le32(s, 32, sgl.len);
    s[39] = 0x5a;
  } else if (sgl?.kind === 'icd') {
    le32(s, 24, sgl.offset ?? 0);
    le32(s, 32, sgl.len);
    s[39] = 0x01;
  } else if (sgl?.kind === 'raw') {
    s.set(sgl.bytes.subarray(0, 16), 24);
  }
  le32(s, 40, o.cdw10 ?? 0);
  le32(s, 44, o.cdw11 ?? 0);
  le32(s, 48, o.cdw12 ?? 0);
  return s;
}

export interface ConnectOpts {
  qid?: number;
  subnqn?: string;
  hostnqn?: string;
  cntlid?: number;
  sqsize?: number;
  kato?: number;
  cattr?: number;
  recfmt?: number;
  /** 'icd' (default): the 1024 data bytes in the capsule; 'r2t': by R2T/H2CData. */
  via?: 'icd' | 'r2t';
}

export function connectData(o: ConnectOpts = {}): Uint8Array {
  const data = new Uint8Array(1024);
  le16(data, 16, o.cntlid ?? 0xffff);
  data.set(new TextEncoder().encode(o.subnqn ?? NQN).subarray(0, 256), 256);
  data.set(new TextEncoder().encode(o.hostnqn ?? HOSTNQN).subarray(0, 256), 512);
  return data;
}

export function connectSqe(cid: number, o: ConnectOpts = {}): Uint8Array {
  const s = sqe(OPC.FABRIC, cid, { sgl: o.via === 'r2t' ? { kind: 'transport', len: 1024 } : { kind: 'icd', len: 1024 } });
  s[4] = FCTYPE.CONNECT;
  le16(s, 40, o.recfmt ?? 0);
  le16(s, 42, o.qid ?? 0);
  le16(s, 44, o.sqsize ?? 31);
  s[46] = o.cattr ?? 0;
  le32(s, 48, o.kato ?? 10000);
  return s;
}

export function connectCapsule(cid: number, o: ConnectOpts = {}, dg: Digests = NO_DIGESTS): Uint8Array {
  return capsule(connectSqe(cid, o), o.via === 'r2t' ? undefined : connectData(o), dg);
}

export function propertySet(cid: number, ofst: number, value: number): Uint8Array {
  const s = sqe(OPC.FABRIC, cid);
  s[4] = FCTYPE.PROPERTY_SET;
  le32(s, 44, ofst);
  le32(s, 48, value);
  return s;
}

export function propertyGet(cid: number, ofst: number, size8 = false): Uint8Array {
  const s = sqe(OPC.FABRIC, cid);
  s[4] = FCTYPE.PROPERTY_GET;
  s[40] = size8 ? 1 : 0;
  le32(s, 44, ofst);
  return s;
}

export function identify(cid: number, cns: number, nsid = 0): Uint8Array {
  return sqe(OPC.IDENTIFY, cid, { nsid, sgl: { kind: 'transport', len: 4096 }, cdw10: cns });
}

export function readSqe(cid: number, lba: number, blocks: number, blockSize = 512, nsid = 1): Uint8Array {
  return sqe(OPC.READ, cid, { nsid, sgl: { kind: 'transport', len: blocks * blockSize }, cdw10: lba, cdw12: blocks - 1 });
}

export function writeSqe(cid: number, lba: number, blocks: number, o: { blockSize?: number; nsid?: number; icd?: boolean } = {}): Uint8Array {
  const len = blocks * (o.blockSize ?? 512);
  return sqe(OPC.WRITE, cid, { nsid: o.nsid ?? 1, sgl: o.icd ? { kind: 'icd', len } : { kind: 'transport', len }, cdw10: lba, cdw12: blocks - 1 });
}

/** One PDU the target sent, split out of the byte stream. */
export interface RxPdu {
  type: number;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
  bytes: Uint8Array;
}

/** Splits a byte stream into whole PDUs; `rest` is an incomplete tail. */
export function splitPdus(stream: Uint8Array): { pdus: RxPdu[]; rest: Uint8Array } {
  const pdus: RxPdu[] = [];
  let off = 0;
  while (stream.length - off >= 8) {
    const plen = rd32(stream, off + 4);
    if (plen < 8 || stream.length - off < plen) break;
    const bytes = stream.subarray(off, off + plen);
    pdus.push({ type: bytes[0]!, flags: bytes[1]!, hlen: bytes[2]!, pdo: bytes[3]!, plen, bytes });
    off += plen;
  }
  return { pdus, rest: stream.subarray(off) };
}

/** Problems with a received PDU's framing and digests (empty when it is well formed). */
export function checkRxPdu(p: RxPdu, dg: Digests): string[] {
  const errs: string[] = [];
  const want: Record<number, number> = { [PDU.IC_RESP]: 128, [PDU.C2H_TERM_REQ]: 24, [PDU.CAPSULE_RESP]: 24, [PDU.C2H_DATA]: 24, [PDU.R2T]: 24 };
  if (want[p.type] === undefined) return [`unexpected PDU type 0x${p.type.toString(16)} from the target`];
  if (p.hlen !== want[p.type]) errs.push(`type 0x${p.type.toString(16)} hlen ${p.hlen}, expected ${want[p.type]}`);
  const hd = dg.hdgst && typeHasHdgst(p.type);
  if (hd !== ((p.flags & FLAG.HDGSTF) !== 0)) errs.push(`HDGSTF ${(p.flags & FLAG.HDGSTF) !== 0}, negotiated ${hd}`);
  if (hd && rd32(p.bytes, p.hlen) !== crc32c(p.bytes.subarray(0, p.hlen))) errs.push('header digest mismatch');
  if (p.type === PDU.C2H_DATA) {
    const datal = rd32(p.bytes, 16);
    const dd = dg.ddgst ? 4 : 0;
    if (p.pdo < p.hlen + (hd ? 4 : 0)) errs.push(`C2HData pdo ${p.pdo} inside the header`);
    if ((dg.hpda ?? 0) !== 0 && p.pdo % (((dg.hpda ?? 0) + 1) * 4) !== 0) errs.push(`C2HData pdo ${p.pdo} not aligned to hpda ${dg.hpda}`);
    if (p.plen !== p.pdo + datal + dd) errs.push(`C2HData plen ${p.plen} != pdo ${p.pdo} + datal ${datal} + ${dd}`);
    if (dd && p.plen === p.pdo + datal + dd) {
      const data = p.bytes.subarray(p.pdo, p.pdo + datal);
      if (rd32(p.bytes, p.pdo + datal) !== dataDigest(data)) errs.push('data digest mismatch');
    }
  } else if (p.type !== PDU.C2H_TERM_REQ && p.plen !== p.hlen + (hd ? 4 : 0)) {
    errs.push(`type 0x${p.type.toString(16)} plen ${p.plen}, expected ${p.hlen + (hd ? 4 : 0)}`);
  }
  return errs;
}

/** CapsuleResp CQE fields. */
export function cqe(p: RxPdu): { cdw0: number; cdw1: number; sqhd: number; cid: number; sct: number; sc: number; dnr: boolean } {
  const b = p.bytes;
  const status = rd16(b, 8 + 14);
  return { cdw0: rd32(b, 8), cdw1: rd32(b, 12), sqhd: rd16(b, 16), cid: rd16(b, 20), sct: (status >> 9) & 7, sc: (status >> 1) & 0xff, dnr: (status & 0x8000) !== 0 };
}

export function termReq(p: RxPdu): { fes: number; fei: number } {
  return { fes: rd16(p.bytes, 8), fei: rd32(p.bytes, 10) };
}

export function c2hData(p: RxPdu): { cccid: number; datao: number; datal: number; data: Uint8Array; last: boolean; success: boolean } {
  const datal = rd32(p.bytes, 16);
  return {
    cccid: rd16(p.bytes, 8), datao: rd32(p.bytes, 12), datal, data: p.bytes.subarray(p.pdo, p.pdo + datal),
    last: (p.flags & FLAG.LAST_PDU) !== 0, success: (p.flags & FLAG.SUCCESS) !== 0,
  };
}

export function r2t(p: RxPdu): { cccid: number; ttag: number; r2to: number; r2tl: number } {
  return { cccid: rd16(p.bytes, 8), ttag: rd16(p.bytes, 10), r2to: rd32(p.bytes, 12), r2tl: rd32(p.bytes, 16) };
}

/** Recomputes the header digest of an encoded PDU after its header was edited. */
export function redigest(pdu: Uint8Array): Uint8Array {
  if ((pdu[1]! & FLAG.HDGSTF) !== 0 && typeHasHdgst(pdu[0]!)) {
    const hlen = pdu[2]!;
    le32(pdu, hlen, crc32c(pdu.subarray(0, hlen)));
  }
  return pdu;
}
