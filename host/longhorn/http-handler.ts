/**
 * After longhorn-spdk-engine pkg/util/http_handler.go: IdleTimeoutCopy copies the HTTP body into
 * the exposed head in DownloadBufferSize (4 KiB) chunks; with writeZero off, a chunk that is all
 * zero bytes is skipped with Seek(n, SeekCurrent) instead of written, to keep the lvol sparse.
 * (The idle timer of the original has no counterpart: simulated transfers never stall.)
 */
import * as abi from '../gen/abi.js';
import type { BlockLayer } from '../kernel/blockdev.js';
import { wait, type Proc } from '../kernel/blockdev-wait.js';

export const DOWNLOAD_BUFFER_SIZE = 4096;

/** An io.Reader: up to `max` bytes, an empty array at EOF. */
export interface ByteSource {
  read(max: number): Uint8Array;
}

export function bytesSource(data: Uint8Array): ByteSource {
  let at = 0;
  return {
    read(max) {
      const out = data.subarray(at, Math.min(data.length, at + max));
      at += out.length;
      return out;
    },
  };
}

export interface CopyResult {
  /** Bytes consumed from the source (written or seeked over). */
  copied: number;
  writes: number;
  seeks: number;
}

export function* idleTimeoutCopy(blk: BlockLayer, src: ByteSource, fd: number, writeZero: boolean): Proc<CopyResult> {
  const res: CopyResult = { copied: 0, writes: 0, seeks: 0 };
  for (;;) {
    const buf = src.read(DOWNLOAD_BUFFER_SIZE);
    if (buf.length === 0) return res;
    if (!writeZero && buf.every((b) => b === 0)) {
      const rc = blk.lseek(fd, buf.length, abi.SEEK_CUR);
      if (rc < 0) throw new Error(`seek failed with errno ${-rc}`);
      res.seeks++;
    } else {
      const n = yield* wait(blk.write(fd, buf));
      if (n < 0) throw new Error(`write at ${res.copied} failed with errno ${-n}`);
      if (n !== buf.length) throw new Error(`short write at ${res.copied}: ${n} of ${buf.length}`);
      res.writes++;
    }
    res.copied += buf.length;
  }
}
