/**
 * After longhorn-spdk-engine's GetFileChecksum: open the path read-only, read it to the end through
 * a SHA-512 hash (Go's io.Copy: 32 KiB reads), close. Buffered by default, so it shares the page
 * cache with any writer that still has the device open; `direct` opens with O_DIRECT instead.
 */
import * as abi from '../gen/abi.js';
import type { BlockLayer } from '../kernel/blockdev.js';
import { wait, type Proc } from '../kernel/blockdev-wait.js';
import { Sha512 } from './sha512.js';

export const COPY_BUFFER_SIZE = 32 * 1024;

export function* getFileChecksum(blk: BlockLayer, path: string, opts: { direct?: boolean } = {}): Proc<string> {
  const fd = blk.open(path, abi.O_RDONLY | (opts.direct ? abi.O_DIRECT : 0));
  if (fd < 0) throw new Error(`open ${path} failed with errno ${-fd}`);
  const h = new Sha512();
  try {
    for (;;) {
      const r = yield* wait(blk.read(fd, COPY_BUFFER_SIZE));
      if (typeof r === 'number') throw new Error(`read ${path} failed with errno ${-r}`);
      if (r.length === 0) break;
      h.update(r);
    }
  } finally {
    yield* wait(blk.close(fd));
  }
  return h.hex();
}
