/**
 * What sits under a host block device: a backend that executes block commands asynchronously.
 * The page cache (blockdev.ts) and the rings the C submits to both issue these. Backends here:
 * memory (this file; browser and Node), a file (blockdev-file.node.ts, Node only) and a blob of an
 * SPDK machine exposed to the kernel (blockdev-export.ts).
 */
import * as abi from '../gen/abi.js';
import type { Scheduler } from './blockdev-wait.js';

export type BlockOp = 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes';

/** One command in bytes; offset and len are multiples of the backend's blocklen. */
export interface BlockIo {
  op: BlockOp;
  offset: number;
  len: number;
  /** write: the payload (the backend copies it before submit returns). */
  data?: Uint8Array;
}

/** rc is 0 or a negative errno; reads that succeed carry their bytes. */
export type BlockDone = (rc: number, data?: Uint8Array) => void;

export interface BlockBackend {
  /** e.g. "memory", "file", "export". */
  readonly kind: string;
  readonly blocklen: number;
  /** Bytes. */
  readonly size: number;
  /** Starts one command; `done` runs later, from the scheduler, never inside `submit`. */
  submit(io: BlockIo, done: BlockDone): void;
}

export interface BackendCounters {
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
  discards: number;
  discardBytes: number;
  writeZeroes: number;
  flushes: number;
}

export function newBackendCounters(): BackendCounters {
  return { reads: 0, writes: 0, readBytes: 0, writeBytes: 0, discards: 0, discardBytes: 0, writeZeroes: 0, flushes: 0 };
}

/** -EINVAL for a misaligned command, -EIO past the end (a bio beyond the device fails so), else 0. */
export function checkIo(b: { blocklen: number; size: number }, io: BlockIo): number {
  if (io.op === 'flush') return 0;
  if (io.offset % b.blocklen !== 0 || io.len % b.blocklen !== 0 || io.offset < 0 || io.len < 0) return -abi.EINVAL;
  if (io.offset + io.len > b.size) return -abi.EIO;
  if (io.op === 'write' && (io.data === undefined || io.data.length < io.len)) return -abi.EINVAL;
  return 0;
}

export interface MemoryBackendOptions {
  blocklen?: number;
  /** Virtual µs from submission to completion (0: the next scheduler turn). */
  latencyUs?: number;
  /** What a discard does: zero the range (a file with PUNCH_HOLE, an SSD with RZAT) or nothing. */
  discardZeroes?: boolean;
}

/** A device whose bytes live in memory. Commands take effect when they complete, in submission
 *  order for equal latencies (the scheduler runs equal times first-in first-out). */
export class MemoryBackend implements BlockBackend {
  readonly kind = 'memory';
  readonly bytes: Uint8Array;
  readonly blocklen: number;
  readonly counters = newBackendCounters();
  /** Mutable: swarm faults raise it for a while (scenarios/swarm.ts). */
  latencyUs: number;
  private readonly discardZeroes: boolean;

  constructor(private readonly sched: Scheduler, readonly size: number, opts: MemoryBackendOptions = {}) {
    this.blocklen = opts.blocklen ?? 4096;
    if (size % this.blocklen !== 0) throw new Error(`memory block device: size ${size} is not a multiple of the block size ${this.blocklen}`);
    this.bytes = new Uint8Array(size);
    this.latencyUs = opts.latencyUs ?? 0;
    this.discardZeroes = opts.discardZeroes ?? true;
  }

  submit(io: BlockIo, done: BlockDone): void {
    const bad = checkIo(this, io);
    if (bad < 0) {
      this.sched.after(0, 'blk.mem.error', () => done(bad));
      return;
    }
    const payload = io.op === 'write' ? io.data!.slice(0, io.len) : undefined;
    this.sched.after(this.latencyUs, 'blk.mem.complete', () => {
      const c = this.counters;
      switch (io.op) {
        case 'read':
          c.reads++;
          c.readBytes += io.len;
          done(0, this.bytes.slice(io.offset, io.offset + io.len));
          return;
        case 'write':
          c.writes++;
          c.writeBytes += io.len;
          this.bytes.set(payload!, io.offset);
          break;
        case 'discard':
          c.discards++;
          c.discardBytes += io.len;
          if (this.discardZeroes) this.bytes.fill(0, io.offset, io.offset + io.len);
          break;
        case 'write-zeroes':
          c.writeZeroes++;
          this.bytes.fill(0, io.offset, io.offset + io.len);
          break;
        case 'flush':
          c.flushes++;
          break;
      }
      done(0);
    });
  }
}
