/** An epoll instance: interest list in registration order, level-triggered readiness. */
import * as abi from '../gen/abi.js';
import type { EpollEventOut } from './host-kernel.js';

/** Anything that can report readiness (EPOLL* bits). */
export interface Pollable {
  pollMask(): number;
}

interface Interest {
  fd: number;
  target: Pollable;
  events: number;
  data: number;
}

/** EPOLLERR and EPOLLHUP are always reported, requested or not. */
const ALWAYS = abi.EPOLLERR | abi.EPOLLHUP;

export class Epoll {
  private readonly interest = new Map<number, Interest>();
  /** Registration-ordered snapshot of `interest`, rebuilt only after ctl (epoll_wait is hot). */
  private list: Interest[] | undefined;
  /** Where the next scan starts, so a small maxEvents still serves every ready fd in turn. */
  private cursor = 0;

  ctl(op: number, fd: number, target: Pollable, events: number, data: number): number {
    const cur = this.interest.get(fd);
    switch (op) {
      case abi.EPOLL_CTL_ADD:
        if (cur !== undefined) return -abi.EEXIST;
        this.interest.set(fd, { fd, target, events: events >>> 0, data: data >>> 0 });
        this.list = undefined;
        return 0;
      case abi.EPOLL_CTL_MOD:
        if (cur === undefined) return -abi.ENOENT;
        cur.events = events >>> 0;
        cur.data = data >>> 0;
        return 0;
      case abi.EPOLL_CTL_DEL:
        if (cur === undefined) return -abi.ENOENT;
        this.interest.delete(fd);
        this.list = undefined;
        return 0;
      default:
        return -abi.EINVAL;
    }
  }

  /** The fd was closed: Linux drops it from every interest list. */
  forget(fd: number): void {
    if (this.interest.delete(fd)) this.list = undefined;
  }

  wait(maxEvents: number): EpollEventOut[] {
    const all = (this.list ??= [...this.interest.values()]);
    const out: EpollEventOut[] = [];
    const n = all.length;
    let last = -1;
    for (let k = 0; k < n && out.length < maxEvents; k++) {
      const i = (this.cursor + k) % n;
      const it = all[i]!;
      const ev = it.target.pollMask() & (it.events | ALWAYS);
      if (ev !== 0) {
        out.push({ events: ev, data: it.data });
        last = i;
      }
    }
    if (last >= 0 && out.length === maxEvents) this.cursor = (last + 1) % Math.max(1, n);
    return out;
  }

  get size(): number {
    return this.interest.size;
  }

  /** An epoll fd is itself readable when one of its members is ready. */
  pollMask(): number {
    for (const it of this.interest.values()) {
      if (it.target.pollMask() & (it.events | ALWAYS)) return abi.EPOLLIN;
    }
    return 0;
  }
}
