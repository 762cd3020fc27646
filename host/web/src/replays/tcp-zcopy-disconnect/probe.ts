/**
 * Worker side of the tcp-zcopy-disconnect page: the views draw the target's request, qpair and
 * controller events, the wire and both ends' PDU writes; the poll loops and the PDU receive state
 * machines (hundreds of events per READ) are only counted.
 */
import type { ReplayProbe } from '../probe.js';

const NOT_DRAWN = new Set(['posix_sock_group_impl_poll', 'TCP_QP_RECV_STATE', 'nvme_tcp_qpair_set_recv_state', 'nvme_tcp_pdu_ch_handle']);

export function tcpZcopyDisconnectProbe(): ReplayProbe {
  return {
    keep: (e) => !NOT_DRAWN.has(e.ev),
    attach: () => {},
    inspect: () => null,
  };
}
