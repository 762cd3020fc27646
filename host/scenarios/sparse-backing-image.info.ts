/** sparse-backing-image (seed 003) without its run code: id, fix and knobs. */
import type { ParamSpec, ScenarioInfo } from './contract.js';
import { swarmParams } from './swarm-params.js';

const PARAMS: readonly ParamSpec[] = [
  { name: 'image-mib', kind: 'int', shrink: true, default: 4, min: 1, max: 12, help: 'backing image size in MiB (1 MiB clusters, 4 KiB blocks)' },
  { name: 'write-zero', kind: 'bool', default: false, help: 'IdleTimeoutCopy writeZero: true writes zero chunks too (the old workaround: correct, not sparse)' },
  { name: 'unmap', kind: 'bool', default: false, help: 'the AIO disk supports unmap (bdev_aio with fallocate): deleted lvols leave zeroes' },
  { name: 'replicas', kind: 'int', default: 1, min: 1, max: 2, help: '2: RAID1 of two replica heads on two disks with different stale bytes (#10135)' },
  { name: 'parent', kind: 'enum', default: 'none', choices: ['none', 'empty-snapshot'], help: 'none: the temp head has no parent (Longhorn); empty-snapshot: it is a thin clone of an empty snapshot (a parent whose range reads zeroes)' },
  { name: 'latency-us', kind: 'int', default: 10, min: 0, max: 100_000, help: 'host disk latency per command (virtual µs)' },
  ...swarmParams(4),
];

export const sparseBackingImageInfo: ScenarioInfo = {
  id: 'sparse-backing-image',
  title: 'backing-image checksum changes after the writer closes the device (stale bytes in sparse clusters)',
  bugDoc: 'docs/bugs/sparse-backing-image.md',
  fix: 'longhorn/spdk dc7fa5938 (longhorn#9876, #10135)',
  oracle: 'safety',
  params: PARAMS,
};
