/**
 * The engine's RAID1 over replica heads, as far as #10135 needs it: every write, discard,
 * write-zeroes and flush goes to all members (complete when all are, failing with the first
 * error), reads come from one member (`readFrom`, default the first). Which replica serves a read
 * is exactly what makes the volume's checksum depend on it when replicas hold different bytes.
 */
import type { BlockBackend, BlockDone, BlockIo } from '../kernel/blockdev-backend.js';

export class Raid1Backend implements BlockBackend {
  readonly kind = 'raid1';
  readonly blocklen: number;
  readonly size: number;
  readFrom = 0;

  constructor(readonly members: BlockBackend[]) {
    if (members.length === 0) throw new Error('raid1 needs at least one base bdev');
    this.blocklen = Math.max(...members.map((b) => b.blocklen));
    this.size = Math.min(...members.map((b) => b.size));
  }

  submit(io: BlockIo, done: BlockDone): void {
    if (io.op === 'read') {
      this.members[this.readFrom]!.submit(io, done);
      return;
    }
    let left = this.members.length;
    let first = 0;
    for (const b of this.members) {
      b.submit(io, (rc) => {
        if (rc < 0 && first === 0) first = rc;
        if (--left === 0) done(first);
      });
    }
  }
}
