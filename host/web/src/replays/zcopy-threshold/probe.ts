/**
 * Worker side of the zcopy-threshold page: drops the poll-loop noise from the drawn trace and reads
 * bytes for the hex view — the pattern the target expects, what it received, and what the sender's
 * buffer holds now (poison or a later write once the request completed).
 */
import * as abi from '../../../../gen/abi.js';
import type { Session } from '../../../../scenarios/contract.js';
import { fillPattern } from '../../../../scenarios/verify-pattern.js';
import type { SpdkMachine } from '../../../../spdk/machine.js';
import type { ReplayProbe } from '../probe.js';

const EAGAIN_RC = -abi.EAGAIN >>> 0;
/** Bytes per hex window. */
const WINDOW = 32;

export interface HexWindow {
  write: number;
  offset: number;
  expected: number[];
  /** What the target received (shorter, or empty, when not there yet). */
  received: number[];
  /** The sender's buffer of that write's slot now, with the write it was last filled for. */
  sendBuffer: number[];
  slot: number;
  slotWrite: number;
}

export function zcopyThresholdProbe(): ReplayProbe {
  /** write -> {slot, buf} from sock_verify.submit; slot -> latest write submitted from it. */
  const writes = new Map<number, { slot: number; buf: number }>();
  const slotWrite = new Map<number, number>();
  return {
    keep(e) {
      if (e.ev === 'posix_sock_group_impl_poll') return false;
      // A flush that found the send buffer full repeats every poll until ACKs make room.
      if (e.ev === '_sock_flush' && e.f?.['d'] === EAGAIN_RC) return false;
      return true;
    },
    attach(world) {
      world.trace.subscribe((e) => {
        if (e.m !== 'host' || e.ev !== 'sock_verify.submit') return;
        const write = Number(e.f?.['a']);
        const slot = Number(e.f?.['b']);
        writes.set(write, { slot, buf: Number(e.f?.['c']) });
        slotWrite.set(slot, write);
      });
    },
    inspect(session, q): HexWindow | null {
      const write = q['write'] ?? 0;
      const offset = Math.max(0, (q['offset'] ?? 0) & ~15);
      const w = writes.get(write);
      const snap = session.snapshot();
      const ioSize = Number(snap['ioSize']);
      if (w === undefined || !(ioSize > 0) || snap['crashed'] === true) return null;
      const len = Math.min(WINDOW, ioSize - offset);
      if (len <= 0) return null;
      const host = session.world.find('host') as SpdkMachine;
      const target = session.world.find('target') as SpdkMachine;
      const expected = new Uint8Array(len);
      fillPattern(expected, write, offset);
      const recvAt = target.call('sock_verify_server_buffer') >>> 0;
      const received = target.call('sock_verify_server_received') >>> 0;
      const from = write * ioSize + offset;
      const got = target.mem.bytes().slice(recvAt + from, recvAt + Math.max(from, Math.min(received, from + len)));
      const sendBuffer = host.mem.bytes().slice(w.buf + offset, w.buf + offset + len);
      return {
        write,
        offset,
        expected: [...expected],
        received: [...got],
        sendBuffer: [...sendBuffer],
        slot: w.slot,
        slotWrite: slotWrite.get(w.slot) ?? write,
      };
    },
  };
}
