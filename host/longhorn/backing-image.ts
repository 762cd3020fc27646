/**
 * After longhorn-spdk-engine pkg/spdk/backing_image.go, prepareBackingImageSnapshot: create a thin
 * temp head `bi-<name>-disk-<lvsUUID>-temp-head`, expose it, open the device O_RDWR (buffered),
 * copy the image into it (IdleTimeoutCopy, writeZero as configured), take the SHA-512 of the device
 * while the writer's fd is still open (GetFileChecksum), close the fd and unexpose, compare with the
 * expected checksum, `sync`, snapshot the head as `bi-<name>-disk-<lvsUUID>` with the backing
 * image xattrs (set on the snapshot as it is created), delete the temp head. The checksum the
 * engine verifies, and stores on the snapshot, is the pre-close one; the snapshot keeps whatever
 * the device holds after the close.
 */
import * as abi from '../gen/abi.js';
import type { BlockLayer } from '../kernel/blockdev.js';
import { wait, type Proc } from '../kernel/blockdev-wait.js';
import { getFileChecksum } from './checksum.js';
import { idleTimeoutCopy, type ByteSource, type CopyResult } from './http-handler.js';

/** The engine's snapshot xattr names (longhorn-spdk-engine pkg/types: LonghornBackingImageSnapshotAttr*). */
export const BACKING_IMAGE_XATTR = {
  checksum: 'longhorn_backing_image_checksum',
  uuid: 'longhorn_backing_image_uuid',
  prepareState: 'longhorn_backing_image_prepare_state',
} as const;

/** The SPDK side of the preparation (lvol RPCs, NVMf exposure, initiator). */
export interface BackingImageDisk {
  /** BdevLvolCreate (thin) + StartExposeBdev + initiator: the device path. */
  createAndExposeTempHead(tempHeadName: string): Proc<string>;
  /** Initiator stop + StopExposeBdev. */
  unexposeTempHead(): Proc<void>;
  /** BdevLvolSnapshot of the temp head, with these xattrs on the new snapshot. */
  snapshotTempHead(snapshotName: string, xattrs: Record<string, string>): Proc<void>;
  /** BdevLvolDelete of the temp head. */
  deleteTempHead(): Proc<void>;
}

export interface PrepareOptions {
  name: string;
  uuid: string;
  lvsUUID: string;
  expectedChecksum: string;
  writeZero: boolean;
  source: ByteSource;
  /** Observation point after the writer's close and before the unexpose (the reporter's
   *  second sha512sum of the dm device). */
  afterClose?: (path: string) => Proc<void>;
}

export interface PrepareResult {
  tempHead: string;
  snapshot: string;
  copy: CopyResult;
  /** GetFileChecksum while the writer's fd was open. */
  checksumWhileOpen: string;
  /** False: the engine would fail the preparation here and take no snapshot. */
  verified: boolean;
}

export function backingImageSnapshotName(name: string, lvsUUID: string): string {
  return `bi-${name}-disk-${lvsUUID}`;
}

export function* prepareBackingImageSnapshot(blk: BlockLayer, disk: BackingImageDisk, o: PrepareOptions): Proc<PrepareResult> {
  const snapshot = backingImageSnapshotName(o.name, o.lvsUUID);
  const tempHead = `${snapshot}-temp-head`;
  const path = yield* disk.createAndExposeTempHead(tempHead);
  const fd = blk.open(path, abi.O_RDWR);
  if (fd < 0) throw new Error(`open ${path} failed with errno ${-fd}`);
  let copy: CopyResult;
  let checksumWhileOpen: string;
  try {
    copy = yield* idleTimeoutCopy(blk, o.source, fd, o.writeZero);
    checksumWhileOpen = yield* getFileChecksum(blk, path);
  } finally {
    yield* wait(blk.close(fd));
  }
  if (o.afterClose !== undefined) yield* o.afterClose(path);
  yield* disk.unexposeTempHead();
  const verified = checksumWhileOpen === o.expectedChecksum;
  if (!verified) return { tempHead, snapshot, copy, checksumWhileOpen, verified };
  yield* wait(blk.syncAll());
  yield* disk.snapshotTempHead(snapshot, {
    [BACKING_IMAGE_XATTR.checksum]: checksumWhileOpen,
    [BACKING_IMAGE_XATTR.uuid]: o.uuid,
    [BACKING_IMAGE_XATTR.prepareState]: 'ready',
  });
  yield* disk.deleteTempHead();
  return { tempHead, snapshot, copy, checksumWhileOpen, verified };
}
