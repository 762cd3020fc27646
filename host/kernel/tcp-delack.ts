/**
 * The receiver's ACK policy, after Linux's icsk_ack state (inet_connection_sock.h, tcp_input.c
 * tcp_event_data_recv / tcp_measure_rcv_mss / __tcp_ack_snd_check, tcp_output.c
 * tcp_send_delayed_ack / tcp_event_ack_sent / tcp_event_data_sent, tcp_timer.c delack handler,
 * tcp.c __tcp_cleanup_rbuf). Pure state: the socket asks it what to do and does the sending.
 * All times are virtual µs (Linux counts jiffies; HZ=1000 makes them ms).
 */

/** TCP_ATO_MIN and TCP_DELACK_MIN: HZ/25. */
export const TCP_ATO_MIN_US = 40_000;
export const TCP_DELACK_MIN_US = 40_000;
/** TCP_DELACK_MAX: HZ/5 (also icsk_delack_max's default). */
export const TCP_DELACK_MAX_US = 200_000;
/** Upper bound of a delayed ACK outside pingpong mode with no small segment seen: HZ/2. */
const DELACK_SLOW_MAX_US = 500_000;
export const TCP_MAX_QUICKACKS = 16;
/** TCP_MIN_RCVMSS (= TCP_MSS_DEFAULT) and TCP_MIN_MSS. */
export const TCP_MIN_RCVMSS = 536;
export const TCP_MIN_MSS = 88;
/** net.ipv4.tcp_pingpong_thresh default. */
const PINGPONG_THRESH = 1;

export class AckControl {
  /** ICSK_ACK_SCHED: received data (or a FIN) not yet acknowledged. */
  scheduled = false;
  /** ICSK_ACK_PUSHED / PUSHED2: one / a second segment that looked like the end of a write. */
  pushed = false;
  pushed2 = false;
  /** icsk_ack.ato: the predicted inter-arrival time that sizes the delayed-ACK timer; 0 before
   *  the first data segment. */
  ato = 0;
  /** icsk_ack.lrcvtime: when the last data segment arrived. */
  lrcvtime = 0;
  /** icsk_ack.quick: ACKs still to send at once (quick-ack mode). */
  quick = 0;
  /** icsk_ack.pingpong: replies sent within ato of receiving (an interactive connection). */
  pingpong = 0;
  /** icsk_ack.rcv_mss: the receiver's estimate of the peer's segment size. */
  rcvMss = TCP_MIN_RCVMSS;
  private lastSegSize = 0;

  /** tcp_initialize_rcv_mss at the end of the handshake: a low guess, corrected by measurement. */
  start(mss: number, rcvWnd: number): void {
    this.scheduled = this.pushed = this.pushed2 = false;
    this.ato = this.lrcvtime = this.quick = this.pingpong = this.lastSegSize = 0;
    this.rcvMss = Math.max(TCP_MIN_MSS, Math.min(mss, Math.floor(rcvWnd / 2), TCP_MIN_RCVMSS));
  }

  get inPingpong(): boolean {
    return this.pingpong >= PINGPONG_THRESH;
  }

  inQuickack(): boolean {
    return this.quick > 0 && !this.inPingpong;
  }

  /** tcp_incr_quickack: enough quick ACKs to open half the window, at least 2, at most `max`. */
  incrQuickack(rcvWnd: number, max = TCP_MAX_QUICKACKS): void {
    let n = Math.floor(rcvWnd / (2 * this.rcvMss));
    if (n === 0) n = 2;
    n = Math.min(n, max);
    if (n > this.quick) this.quick = n;
  }

  /** tcp_enter_quickack_mode (duplicate or out-of-window data: the peer lost our ACK). */
  enterQuickack(rcvWnd: number): void {
    this.incrQuickack(rcvWnd);
    this.pingpong = 0;
    this.ato = TCP_ATO_MIN_US;
  }

  /**
   * tcp_measure_rcv_mss. `len` is the segment's size per wire segment (a GRO/TSO frame counts
   * as its MSS-sized parts), `psh` its PSH or FIN flag, `advmss` our own MSS.
   */
  measureRcvMss(len: number, psh: boolean, advmss: number): void {
    const lss = this.lastSegSize;
    this.lastSegSize = 0;
    if (len >= this.rcvMss) {
      this.rcvMss = Math.min(len, advmss);
      // Linux 6.7 (tcp: fix delayed ACKs for MSS boundary condition): a full segment that ends
      // a write counts as pushed, so an exact multiple of the MSS is not held for 40 ms.
      if (psh) this.pushed = true;
      return;
    }
    if (len >= TCP_MIN_RCVMSS || (len >= TCP_MIN_MSS && !psh)) {
      // A stable sub-MSS size (the peer's MSS is smaller than we guessed).
      this.lastSegSize = len;
      if (len === lss) {
        this.rcvMss = len;
        return;
      }
    }
    if (this.pushed) this.pushed2 = true;
    this.pushed = true;
  }

  /** tcp_event_data_recv: in-order data arrived at `now`; `rtoUs` bounds ato. */
  dataReceived(now: number, len: number, psh: boolean, advmss: number, rcvWnd: number, rtoUs: number): void {
    this.scheduled = true;
    this.measureRcvMss(len, psh, advmss);
    if (this.ato === 0) {
      // First data: start in quick-ack mode so slow start is not held back by delayed ACKs.
      this.incrQuickack(rcvWnd);
      this.ato = TCP_ATO_MIN_US;
    } else {
      const m = now - this.lrcvtime;
      if (m <= TCP_ATO_MIN_US / 2) {
        this.ato = Math.floor(this.ato / 2) + TCP_ATO_MIN_US / 2;
      } else if (m < this.ato) {
        this.ato = Math.min(Math.floor(this.ato / 2) + m, rtoUs);
      } else if (m > rtoUs) {
        this.incrQuickack(rcvWnd); // a long gap: the sender is restarting, ACK quickly again
      }
    }
    this.lrcvtime = now;
  }

  /** The ACK may wait (tcp_send_delayed_ack's timeout): ato bounded by the RTT estimate. */
  delackTimeout(srttUs: number): number {
    let ato = this.ato;
    if (ato > TCP_DELACK_MIN_US) {
      let max = this.inPingpong || this.pushed ? TCP_DELACK_MAX_US : DELACK_SLOW_MAX_US;
      if (srttUs > 0) max = Math.min(max, Math.max(srttUs, TCP_DELACK_MIN_US));
      ato = Math.min(ato, max);
    }
    return Math.min(ato, TCP_DELACK_MAX_US);
  }

  /** tcp_event_ack_sent: any segment carrying our current ACK number went out. */
  ackSent(): void {
    if (this.quick > 0) {
      const acks = this.scheduled ? 1 : 0; // only ACKs of new data use up quick-ack credit
      if (acks >= this.quick) {
        this.quick = 0;
        this.ato = TCP_ATO_MIN_US;
      } else {
        this.quick -= acks;
      }
    }
    this.scheduled = this.pushed = this.pushed2 = false;
  }

  /** tcp_event_data_sent: sending data within ato of receiving makes the connection pingpong. */
  dataSent(now: number): void {
    if (now - this.lrcvtime < this.ato && this.pingpong < 255) this.pingpong++;
  }

  /** The delayed-ACK timer fired with an ACK owed: the prediction was wrong, adapt it. */
  delackFired(rtoUs: number): void {
    if (!this.inPingpong) {
      this.ato = Math.min(this.ato * 2, rtoUs);
    } else {
      this.pingpong = 0;
      this.ato = TCP_ATO_MIN_US;
    }
  }

  /**
   * __tcp_cleanup_rbuf's first test, after the reader took `copied` bytes: ACK now if more than
   * one segment is unacknowledged, or the read emptied the queue after a small (pushed) segment
   * on a connection that is not interactive (or after two of them on any).
   */
  ackOnRead(copied: number, unackedBytes: number, queueEmpty: boolean): boolean {
    if (!this.scheduled) return false;
    if (unackedBytes > this.rcvMss) return true;
    return copied > 0 && queueEmpty && (this.pushed2 || (this.pushed && !this.inPingpong));
  }
}
