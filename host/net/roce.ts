/** What a RoCEv2 frame carries in the emulation: one RC message (or an ACK/NAK, or a CM MAD)
 *  addressed to a queue pair. It rides a TcpSegment (src, dst, len, payload) with `roce` set, so
 *  NICs, links and captures carry it like any frame; seg.sport/dport are UDP 4791. */

/** RoCEv2's UDP destination port (IANA). */
export const ROCE_UDP_PORT = 4791;

/** Requests (SEND, WRITE, READ_REQ) and responses (ACK, NAK, READ_RESP) of reliable connected QPs,
 *  and the connection manager's messages (to QP 1). */
export type RoceOp =
  | 'SEND' | 'WRITE' | 'READ_REQ' | 'READ_RESP' | 'ACK' | 'NAK'
  | 'CM_REQ' | 'CM_REP' | 'CM_RTU' | 'CM_REJ' | 'CM_DREQ' | 'CM_DREP';

/** Why a responder refused a request (carried by a NAK). */
export type NakReason = 'rnr' | 'access' | 'invalid';

export interface RocePacket {
  op: RoceOp;
  /** Destination and source queue pair numbers (1 for CM messages). */
  dqpn: number;
  sqpn: number;
  /** Packet sequence number of the message (responses echo the request's). */
  psn: number;
  /** RDMA WRITE / READ: remote address and key; READ: bytes asked for. */
  raddr?: number;
  rkey?: number;
  rlen?: number;
  nak?: NakReason;
  /** CM: the local communication id of the sender and, in replies, the peer's. */
  cmId?: number;
  cmPeerId?: number;
  /** CM_REQ: the service (port) asked for. CM_REJ: the reject reason. */
  port?: number;
  reason?: number;
  /** CM_REQ/CM_REP: the queue pair the connection uses on the sender's side. */
  qpn?: number;
}

/** Bytes a RoCEv2 frame adds around its payload: Ethernet 14, IPv4 20, UDP 8, BTH 12, ICRC 4. */
export const ROCE_HEADER_BYTES = 58;
