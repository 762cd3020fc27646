/**
 * Node only: a block device backed by a real file (what `bdev_aio_create /path/to/file` opens on
 * a Longhorn node). Commands are executed with synchronous fs calls when they complete, on the
 * world's schedule, so a run stays deterministic. Discard zeroes the range when `discardZeroes`
 * (a punched hole reads zero) and is ignored otherwise. Browsers use MemoryBackend instead.
 */
import * as abi from '../gen/abi.js';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { checkIo, newBackendCounters, type BlockBackend, type BlockDone, type BlockIo } from './blockdev-backend.js';
import type { Scheduler } from './blockdev-wait.js';

export interface FileBackendOptions {
  blocklen?: number;
  latencyUs?: number;
  discardZeroes?: boolean;
  /** Create or extend the file to this many bytes; default: the file's current size. */
  size?: number;
}

export class FileBackend implements BlockBackend {
  readonly kind = 'file';
  readonly blocklen: number;
  readonly size: number;
  readonly counters = newBackendCounters();
  private fd: number | undefined;

  constructor(private readonly sched: Scheduler, readonly path: string, private readonly opts: FileBackendOptions = {}) {
    this.blocklen = opts.blocklen ?? 4096;
    this.fd = openSync(path, opts.size !== undefined ? 'w+' : 'r+');
    if (opts.size !== undefined) ftruncateSync(this.fd, opts.size);
    this.size = fstatSync(this.fd).size;
    if (this.size % this.blocklen !== 0) throw new Error(`${path}: size ${this.size} is not a multiple of the block size ${this.blocklen}`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  submit(io: BlockIo, done: BlockDone): void {
    const bad = this.fd === undefined ? -abi.EBADF : checkIo(this, io);
    if (bad < 0) {
      this.sched.after(0, 'blk.file.error', () => done(bad));
      return;
    }
    const payload = io.op === 'write' ? io.data!.slice(0, io.len) : undefined;
    this.sched.after(this.opts.latencyUs ?? 0, 'blk.file.complete', () => {
      const fd = this.fd!;
      const c = this.counters;
      switch (io.op) {
        case 'read': {
          const buf = new Uint8Array(io.len);
          let got = 0;
          while (got < io.len) {
            const n = readSync(fd, buf, got, io.len - got, io.offset + got);
            if (n === 0) break;
            got += n;
          }
          c.reads++;
          c.readBytes += io.len;
          done(0, buf);
          return;
        }
        case 'write':
          writeSync(fd, payload!, 0, io.len, io.offset);
          c.writes++;
          c.writeBytes += io.len;
          break;
        case 'discard':
          c.discards++;
          c.discardBytes += io.len;
          if (this.opts.discardZeroes ?? true) writeSync(fd, new Uint8Array(io.len), 0, io.len, io.offset);
          break;
        case 'write-zeroes':
          c.writeZeroes++;
          writeSync(fd, new Uint8Array(io.len), 0, io.len, io.offset);
          break;
        case 'flush':
          c.flushes++;
          break;
      }
      done(0);
    });
  }
}
