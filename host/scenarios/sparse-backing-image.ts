/**
 * Replay of seed 003 / longhorn#9876 (root cause #10135): a backing image copied sparsely into a
 * thin temp head on a Longhorn AIO disk (unmap does nothing, so freed clusters keep the bytes of
 * deleted lvols). The first write into a cluster allocates it; pre-fix (upstream blobstore) the
 * cluster is inserted without being cleared, so every skipped all-zero 4 KiB block of that cluster
 * reads the stale bytes. While the writer's fd is open the host page cache hides this (those blocks
 * were read as zeros while the cluster was still unallocated and stay cached); the last close writes
 * back and drops the cache, and from then on the device — and the snapshot — show the stale bytes.
 * Fix: longhorn/spdk dc7fa5938 (spdk-patches/0002): zero a newly allocated cluster whose back
 * device reads zeroes.
 *
 * The SPDK side is the C lvol library on the AIO-like disk (wasm/api/spdk_wasm_lvol.c over
 * wasm/api/spdk_wasm_blockdev.c): an lvstore per disk, a thick lvol created, filled and deleted
 * (dirtying the disk), a thin lvol as the temp head, an lvol snapshot, num_allocated_clusters from
 * the snapshot lvol.
 *
 * Verdict: SHA-512 of the bytes read through the host block layer and from the snapshot, against
 * the image's; evidence names the clusters and blocks that hold stale bytes, and sets the checksum
 * the engine stored on the snapshot (its xattr, read back through the lvol library) beside the
 * SHA-512 of the snapshot's bytes.
 */
import type { Ptr } from '../gen/spdk-api.js';
import { MemoryBackend } from '../kernel/blockdev-backend.js';
import { DISK_FAULTS, LIVENESS_US, stuckSummary, swarmCounters, swarmFor } from './swarm.js';
import type { BlockBackend } from '../kernel/blockdev-backend.js';
import type { BlockDeviceStats } from '../kernel/blockdev.js';
import { spawn, type Pending, type Proc, ProcError } from '../kernel/blockdev-wait.js';
import { BACKING_IMAGE_XATTR, prepareBackingImageSnapshot, type BackingImageDisk, type PrepareResult } from '../longhorn/backing-image.js';
import { BlobClient, type Blob, type IoChannel, type Lvol, type Lvs } from '../longhorn/blob-client.js';
import { getFileChecksum } from '../longhorn/checksum.js';
import { blobBackend } from '../longhorn/expose.js';
import { bytesSource } from '../longhorn/http-handler.js';
import { Raid1Backend } from '../longhorn/raid1.js';
import { Sha512, sha512Hex } from '../longhorn/sha512.js';
import type { Prng } from '../sim/prng.js';
import { runToEnd, type RunOptions, type RunResult, type Scenario, type Session } from './contract.js';
import { sparseBackingImageInfo } from './sparse-backing-image.info.js';
import { buildTestbed, finishRun, type Judgement } from './testbed.js';

const MiB = 1 << 20;
const BLOCK = 4096;
const BLOCKS_PER_CLUSTER = MiB / BLOCK;
/** Virtual-time budget: far beyond a healthy run, so reaching it means stuck. */
const DEADLINE_US = 600e6;
/** The swarm's safety phase: the default copy and checks take some 2.5 ms of virtual time. */
const DISK_SAFETY_US = 10_000;

interface Disk {
  index: number;
  path: string;
  backend: MemoryBackend;
  aio: Ptr<'blob_aio_disk'>;
  lvs: Lvs;
  ch: IoChannel;
  /** Physical clusters the deleted lvol occupied (its stale bytes stay there without unmap). */
  dirtyClusters: number[];
  head?: { lvol: Lvol; blob: Blob; backend?: BlockBackend; devPath?: string };
  headAllocatedBeforeSnapshot?: number;
  snapshot?: Lvol;
}

/** Blocks of one cluster whose bytes are not the image's (the evidence; the demo draws it too). */
export interface StaleRange {
  cluster: number;
  physicalCluster: number;
  blocks: [number, number][];
  count: number;
  kind: 'stale' | 'zero' | 'other';
  expected: string;
  got: string;
}

interface DiskReport {
  disk: string;
  snapshotSha: string;
  /** The snapshot's longhorn_backing_image_checksum xattr and creation_time, as stored. */
  storedChecksum?: string;
  creationTime?: string;
  allocated: number;
  mismatchedBlocks: number;
  ranges: StaleRange[];
  replicaShaAfterClose?: string;
}

interface Observed {
  imageSha: string;
  prepared?: PrepareResult;
  afterClose?: string;
  afterCloseDirect?: string;
  disks: DiskReport[];
  cache?: BlockDeviceStats;
}

export const sparseBackingImage: Scenario = {
  ...sparseBackingImageInfo,
  run(opts: RunOptions): Promise<RunResult> {
    return runToEnd(sparseBackingImage, opts);
  },
  async start(opts: RunOptions): Promise<Session> {
    const p = opts.params;
    const imageMiB = p['image-mib'] as number;
    const writeZero = p['write-zero'] as boolean;
    const unmap = p['unmap'] as boolean;
    const replicas = p['replicas'] as number;
    const latencyUs = p['latency-us'] as number;

    const tb = await buildTestbed(opts, {
      machines: [{ name: 'node', ip: '192.0.2.10' }],
      mss: 1448, latencyUs: 1, jitterUs: 0, lossPpm: 0, tsoBytes: 0,
    });
    const world = tb.world;
    const m = tb.machine('node');
    const blk = m.kernel.blk;
    const client = new BlobClient(m, world);
    const rng = world.rng.fork();
    const image = makeImage(rng, imageMiB);
    const staleSeed = rng.u32();
    const imageClusters = imageMiB;
    const dirtyClusterCount = imageClusters + 2;
    const diskBytes = (imageClusters + 4) * MiB;

    const parent = p['parent'] as string;
    const disks: Disk[] = [];
    for (let i = 0; i < replicas; i++) {
      const path = `/dev/sd${String.fromCharCode(97 + i)}`;
      const backend = new MemoryBackend(world, diskBytes, { latencyUs, discardZeroes: true });
      blk.addDevice(path, backend);
      disks.push({ index: i, path, backend, aio: 0 as Ptr<'blob_aio_disk'>, lvs: 0 as Lvs, ch: 0 as IoChannel, dirtyClusters: [] });
    }

    let phase = 'start';
    // The image's SHA-512 is first needed when the copy is verified; computing it then keeps a
    // page's first simulated step from waiting on hashing the whole image.
    let imageSha: string | undefined;
    const observed: Observed = {
      get imageSha() {
        return (imageSha ??= sha512Hex(image.bytes));
      },
      disks: [],
    };
    // The mechanism, as the disk sees it: a cluster allocated with nothing to copy (can_copy 0)
    // must read zeros on the disk when it is inserted into the blob, before the user's write.
    // One disk only: with two replicas the blob ids of the two lvstores coincide.
    const noCopy = new Set<string>();
    const insert = { allocations: 0, inserts: 0, stale: 0 };
    const chained = m.onTrace;
    m.onTrace = (ev, a, b, c, d) => {
      chained?.(ev, a, b, c, d);
      if (ev === 'bs_allocate_and_copy_cluster') {
        insert.allocations++;
        if (d === 0) noCopy.add(`${a}:${c}`);
      } else if (ev === 'blob_insert_cluster') {
        insert.inserts++;
        if (replicas === 1 && noCopy.delete(`${a}:${c}`) && disks[0]!.backend.bytes.subarray(c * MiB, (c + 1) * MiB).some((x) => x !== 0)) insert.stale++;
      }
    };
    const lvsUUID = uuidFrom(rng);
    const topDevice = { path: '' };
    // The lvol library's UUIDs come from a stream the run's seed fixes.
    m.api.spdk_wasm_uuid_set_seed(staleSeed, 0x5ba5e003);

    /** bdev_aio_create + bdev_lvol_create_lvstore, then create, fill and delete an lvol. */
    function* prepareDisk(d: Disk): Proc<void> {
      d.aio = m.api.spdk_wasm_aio_disk_open(d.path, unmap ? 1 : 0);
      if (d.aio === 0) throw new Error(`bdev_aio_create ${d.path} failed: ${m.logLines.slice(-1)[0] ?? ''}`);
      d.lvs = yield* client.lvsInitAio(d.aio, `disk${d.index}`, MiB);
      d.ch = m.api.spdk_wasm_bs_alloc_io_channel(client.lvsBlobstore(d.lvs));
      phase = `dirty ${d.path}`;
      const old = yield* client.createLvol(d.lvs, 'old-volume-replica', dirtyClusterCount * MiB, false);
      const blob = client.lvolBlob(old);
      for (let c = 0; c < dirtyClusterCount; c++) {
        const phys = client.cluster(blob, c);
        d.dirtyClusters.push(phys);
        const data = new Uint8Array(MiB);
        for (let b = 0; b < BLOCKS_PER_CLUSTER; b++) data.set(staleBlock(staleSeed, d.index, phys * BLOCKS_PER_CLUSTER + b), b * BLOCK);
        yield* client.write(blob, d.ch, c * BLOCKS_PER_CLUSTER, data);
      }
      yield* client.deleteLvol(old, 'old-volume-replica');
    }

    const biDisk: BackingImageDisk = {
      *createAndExposeTempHead(name) {
        phase = 'create temp head';
        const members: BlockBackend[] = [];
        for (const d of disks) {
          const lvol = yield* client.createLvol(d.lvs, name, imageClusters * MiB, true);
          // A head over an empty snapshot: its back device is a blob whose range reads zeroes.
          if (parent === 'empty-snapshot') yield* client.snapshotLvol(lvol, `${name}-base`);
          const blob = client.lvolBlob(lvol);
          const backend = blobBackend(blk, world, m, blob, d.ch, imageClusters * MiB);
          d.head = { lvol, blob, backend };
          members.push(backend);
          if (replicas > 1) {
            d.head.devPath = `/dev/nvme${d.index}n1`;
            blk.addDevice(d.head.devPath, backend);
          }
        }
        topDevice.path = `/dev/longhorn/${name}`;
        blk.addDevice(topDevice.path, replicas > 1 ? new Raid1Backend(members) : members[0]!);
        phase = 'copy';
        return topDevice.path;
      },
      *unexposeTempHead() {
        observed.cache = { ...blk.device(topDevice.path)!.stats };
        for (const path of [topDevice.path, ...disks.map((d) => d.head?.devPath)]) {
          if (path === undefined) continue;
          const rc = blk.removeDevice(path);
          if (rc < 0) throw new Error(`unexpose ${path} failed with errno ${-rc}`);
        }
      },
      *snapshotTempHead(snapshotName, xattrs) {
        // The xattrs are part of the snapshot's creation (spdk_lvol_create_snapshot_with_xattrs).
        phase = 'snapshot';
        for (const d of disks) {
          d.headAllocatedBeforeSnapshot = client.lvolInfo(d.head!.lvol, 'allocated');
          d.snapshot = yield* client.snapshotLvol(d.head!.lvol, snapshotName, xattrs);
        }
      },
      *deleteTempHead() {
        for (const d of disks) yield* client.deleteLvol(d.head!.lvol, 'temp head');
      },
    };

    function* afterClose(path: string): Proc<void> {
      phase = 'checksum after close';
      observed.afterClose = yield* getFileChecksum(blk, path);
      observed.afterCloseDirect = yield* getFileChecksum(blk, path, { direct: true });
      for (const d of disks) {
        if (d.head?.devPath === undefined) continue;
        const sha = yield* getFileChecksum(blk, d.head.devPath, { direct: true });
        observed.disks[d.index] = { ...(observed.disks[d.index] ?? emptyReport(d.path)), replicaShaAfterClose: sha };
      }
    }

    /** Reads the snapshot lvol through the C blobstore and compares it block by block with the image. */
    function* inspectSnapshot(d: Disk): Proc<void> {
      const snap = client.lvolBlob(d.snapshot!);
      const h = new Sha512();
      const ranges: StaleRange[] = [];
      let mismatched = 0;
      for (let c = 0; c < imageClusters; c++) {
        const got = yield* client.read(snap, d.ch, c * BLOCKS_PER_CLUSTER, BLOCKS_PER_CLUSTER);
        h.update(got);
        const phys = client.cluster(snap, c);
        const bad = new Map<StaleRange['kind'], { blocks: number[]; first: number }>();
        for (let b = 0; b < BLOCKS_PER_CLUSTER; b++) {
          const at = c * MiB + b * BLOCK;
          const want = image.bytes.subarray(at, at + BLOCK);
          const have = got.subarray(b * BLOCK, (b + 1) * BLOCK);
          if (equal(want, have)) continue;
          mismatched++;
          const kind: StaleRange['kind'] = phys !== 0 && equal(have, staleBlock(staleSeed, d.index, phys * BLOCKS_PER_CLUSTER + b)) ? 'stale' : have.every((x) => x === 0) ? 'zero' : 'other';
          const e = bad.get(kind) ?? { blocks: [], first: b };
          e.blocks.push(b);
          bad.set(kind, e);
        }
        for (const [kind, e] of bad) {
          const first = e.first;
          ranges.push({
            cluster: c, physicalCluster: phys, blocks: runs(e.blocks), count: e.blocks.length, kind,
            expected: hex(image.bytes.subarray(c * MiB + first * BLOCK, c * MiB + first * BLOCK + 8)),
            got: hex(got.subarray(first * BLOCK, first * BLOCK + 8)),
          });
        }
      }
      const allocated = client.lvolInfo(d.snapshot!, 'allocated');
      const storedChecksum = client.getLvolXattr(d.snapshot!, BACKING_IMAGE_XATTR.checksum);
      const creationTime = client.getLvolXattr(d.snapshot!, 'creation_time');
      observed.disks[d.index] = { ...(observed.disks[d.index] ?? emptyReport(d.path)), snapshotSha: h.hex(), storedChecksum, creationTime, allocated, mismatchedBlocks: mismatched, ranges };
    }

    function* main(): Proc<void> {
      for (const d of disks) yield* prepareDisk(d);
      observed.prepared = yield* prepareBackingImageSnapshot(blk, biDisk, {
        name: `bi-${staleSeed.toString(16).padStart(8, '0').slice(0, 6)}`,
        uuid: uuidFrom(rng),
        lvsUUID,
        expectedChecksum: observed.imageSha,
        writeZero,
        source: bytesSource(image.bytes),
        afterClose,
      });
      if (observed.prepared.verified) {
        phase = 'inspect snapshot';
        for (const d of disks) yield* inspectSnapshot(d);
      }
      phase = 'done';
    }

    const proc: Pending<void | ProcError> = spawn(world, 'sparse-backing-image', main());
    let outcome: 'done' | 'quiescent' | 'deadline' | undefined;
    const swarm = swarmFor(world, opts.seed, p, { links: [], nics: [], disks: disks.map((d) => d.backend) }, DISK_FAULTS, DISK_SAFETY_US);
    const deadline = swarm !== undefined ? swarm.liveFromUs + LIVENESS_US : DEADLINE_US;

    const judge = (crash: Judgement | undefined): Judgement => {
      if (crash !== undefined) return crash;
      const expectedAllocated = writeZero ? imageClusters : image.clustersWithData;
      const counters: Record<string, number> = {
        imageChunks: image.chunks,
        dataChunks: image.dataChunks,
        zeroChunks: image.chunks - image.dataChunks,
        clustersTotal: imageClusters,
        clustersWithData: image.clustersWithData,
        clusterAllocations: insert.allocations,
        clusterInserts: insert.inserts,
        insertedHoldingStale: replicas === 1 ? insert.stale : -1,
        expectedAllocated,
        chunksWritten: observed.prepared?.copy.writes ?? 0,
        chunksSkipped: observed.prepared?.copy.seeks ?? 0,
        writebackPages: observed.cache?.writebackPages ?? 0,
        writebackIos: observed.cache?.writebackIos ?? 0,
        droppedPages: observed.cache?.droppedPages ?? 0,
        cacheMissPages: observed.cache?.cacheMissPages ?? 0,
        blockIoErrors: observed.cache?.errors ?? 0,
        ...(swarm !== undefined ? swarmCounters(swarm, []) : {}),
      };
      disks.forEach((d) => {
        const r = observed.disks[d.index];
        counters[`allocated.${d.path}`] = r?.allocated ?? -1;
        counters[`headAllocatedBeforeSnapshot.${d.path}`] = d.headAllocatedBeforeSnapshot ?? -1;
        counters[`mismatchedBlocks.${d.path}`] = r?.mismatchedBlocks ?? -1;
        counters[`checksumXattrMatchesBytes.${d.path}`] = r?.storedChecksum === undefined ? -1 : r.storedChecksum === r.snapshotSha ? 1 : 0;
        counters[`staleBlocks.${d.path}`] = (r?.ranges ?? []).filter((x) => x.kind === 'stale').reduce((s, x) => s + x.count, 0);
        counters[`diskWriteBytes.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 1) : 0;
        counters[`diskWriteZeroesBytes.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 2) : 0;
        counters[`unmapIgnoredBytes.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 4) : 0;
        counters[`unmapBytes.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 3) : 0;
        counters[`aioErrors.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 6) : 0;
        counters[`aioRingFullRetries.${d.path}`] = d.aio !== 0 ? m.api.spdk_wasm_aio_disk_counter(d.aio, 9) : 0;
      });
      const failure = proc.settled && proc.value instanceof ProcError ? proc.value.message : undefined;
      if (swarm !== undefined && failure === undefined && outcome !== undefined && outcome !== 'done') {
        const s = stuckSummary(swarm, world.now, `the copy and checks not finished (phase "${phase}")`);
        return { verdict: 'reproduced', oracle: 'liveness', summary: s.summary, evidence: { phase, lines: s.lines }, counters };
      }
      if (outcome !== 'done' || failure !== undefined) {
        // The bug shows only in the checksums and bytes after close; a run that never got there
        // (an engine step failed, the deadline) has not shown it either way.
        const why = failure ?? `stopped (${outcome === 'deadline' ? `deadline of ${deadline / 1e6} s` : outcome ?? 'still running'}) in phase "${phase}"`;
        const missing = 'the checksums after close were never taken';
        return { verdict: 'inconclusive', oracle: 'safety', summary: `inconclusive: ${why}; ${missing}`, evidence: { phase, missing, lines: [why, missing] }, counters };
      }
      return judgeBytes(observed, image.bytes.length, counters, expectedAllocated, replicas);
    };

    return {
      world,
      advance(untilUs) {
        if (outcome !== undefined) return true;
        const r = tb.runUntil(() => proc.settled || tb.crashed() !== undefined, Math.min(untilUs, deadline));
        if (r === 'done' || r === 'quiescent' || world.now >= deadline) outcome = r;
        return outcome !== undefined;
      },
      result: () => finishRun(tb, sparseBackingImage, judge),
      snapshot() {
        const dev = blk.device(topDevice.path);
        return {
          phase,
          imageSha,
          checksumWhileOpen: observed.prepared?.checksumWhileOpen,
          checksumAfterClose: observed.afterClose,
          snapshots: observed.disks.map((r) => r?.snapshotSha),
          cache: dev === undefined ? undefined : { pages: dev.pages.size, dirty: dev.dirtyCount(), openers: dev.openers, ...dev.stats },
        };
      },
    };
  },
};

function emptyReport(disk: string): DiskReport {
  return { disk, snapshotSha: '', allocated: -1, mismatchedBlocks: -1, ranges: [] };
}

function judgeBytes(o: Observed, imageBytes: number, counters: Record<string, number>, expectedAllocated: number, replicas: number): Judgement {
  const short = (s: string | undefined): string => (s === undefined ? '(none)' : s.slice(0, 16));
  const mark = (s: string | undefined): string => (s === o.imageSha ? 'equal' : 'DIFFERS');
  const problems: string[] = [];
  const whileOpen = o.prepared!.checksumWhileOpen;
  if (whileOpen !== o.imageSha) problems.push('checksum while the writer fd was open differs (the engine fails the preparation)');
  if (o.afterClose !== o.imageSha) problems.push('checksum after the last close differs');
  if (o.afterCloseDirect !== o.afterClose) problems.push('O_DIRECT checksum after close differs from the buffered one');
  const snaps = o.disks.map((d) => d.snapshotSha);
  if (o.prepared!.verified && snaps.some((s) => s !== o.imageSha)) problems.push('snapshot lvol checksum differs');
  const replicaShas = o.disks.map((d) => d.replicaShaAfterClose).filter((s): s is string => s !== undefined);
  const replicasDiffer = replicaShas.length > 1 && replicaShas.some((s) => s !== replicaShas[0]);
  if (replicasDiffer) problems.push('the RAID1 replicas hold different bytes');
  counters['problems'] = problems.length;
  counters['replicasDiffer'] = replicasDiffer ? 1 : 0;

  const allocated = o.disks.map((d) => d.allocated);
  const lines = [
    `image: ${imageBytes / MiB} MiB in ${counters['imageChunks']} chunks of 4 KiB, ${counters['dataChunks']} with data, ${counters['zeroChunks']} all zero; ${counters['clustersWithData']} of ${counters['clustersTotal']} clusters hold data`,
    `copy: ${counters['chunksWritten']} chunks written, ${counters['chunksSkipped']} skipped with a seek (writeZero ${counters['chunksSkipped'] === 0 ? 'on or no zero chunk' : 'off'})`,
    `sha512 image              ${short(o.imageSha)}…`,
    `sha512 while fd open      ${short(whileOpen)}… ${mark(whileOpen)}`,
    `sha512 after last close   ${short(o.afterClose)}… ${mark(o.afterClose)} (O_DIRECT: ${mark(o.afterCloseDirect)})`,
    ...o.disks.map((d) => `sha512 snapshot lvol ${d.disk.padEnd(9)} ${short(d.snapshotSha)}… ${mark(d.snapshotSha)}; num_allocated_clusters ${d.allocated} of ${counters['clustersTotal']}`),
    ...o.disks.filter((d) => d.storedChecksum !== undefined).map((d) => `xattr ${BACKING_IMAGE_XATTR.checksum} of snapshot lvol ${d.disk}: ${short(d.storedChecksum)}… ${d.storedChecksum === d.snapshotSha ? 'equals' : 'DIFFERS from'} its sha512 (set at its creation, creation_time ${d.creationTime})`),
    ...o.disks.filter((d) => d.replicaShaAfterClose !== undefined).map((d) => `replica on ${d.disk} after close ${short(d.replicaShaAfterClose)}… ${mark(d.replicaShaAfterClose)}`),
    `page cache: ${counters['writebackPages']} dirty pages written back at the last close in ${counters['writebackIos']} writes, then ${counters['droppedPages']} pages dropped`,
  ];
  if ((counters['blockIoErrors'] ?? 0) > 0) lines.push(`block layer: ${counters['blockIoErrors']} device commands of the exposed head failed`);
  for (const d of o.disks) {
    for (const r of d.ranges.slice(0, 6)) {
      const what = r.kind === 'stale' ? 'hold stale bytes of the deleted lvol' : r.kind === 'zero' ? 'read zero instead of data' : 'hold unexpected bytes';
      lines.push(`${d.disk} snapshot lvol cluster ${r.cluster} (physical cluster ${r.physicalCluster}): blocks ${fmtRuns(r.blocks)} (${r.count} of ${BLOCKS_PER_CLUSTER}) ${what}: expected ${r.expected} got ${r.got}`);
    }
    if (d.ranges.length > 6) lines.push(`${d.disk}: ... and ${d.ranges.length - 6} more clusters with wrong blocks`);
  }
  const stale = o.disks.reduce((s, d) => s + d.ranges.filter((r) => r.kind === 'stale').reduce((t, r) => t + r.count, 0), 0);
  const evidence = {
    imageSha512: o.imageSha,
    checksumWhileOpen: whileOpen,
    checksumAfterClose: o.afterClose,
    checksumAfterCloseDirect: o.afterCloseDirect,
    snapshots: o.disks.map((d) => ({
      disk: d.disk, sha512: d.snapshotSha, checksumXattr: d.storedChecksum, creationTime: d.creationTime,
      numAllocatedClusters: d.allocated, mismatchedBlocks: d.mismatchedBlocks, ranges: d.ranges.slice(0, 16),
    })),
    replicasAfterClose: replicaShas,
    expectedAllocated,
    problems,
    lines,
  };
  const alloc = `num_allocated_clusters ${allocated.join('/')} of ${counters['clustersTotal']}`;
  if (problems.length === 0) {
    return {
      verdict: 'clean',
      oracle: 'safety',
      summary: `checksums while open, after close and of the snapshot${replicas > 1 ? 's' : ''} equal the image's (${short(o.imageSha)}…); ${alloc}${allocated.every((a) => a < counters['clustersTotal']!) ? ' (sparse)' : ''}`,
      evidence,
      counters,
    };
  }
  return {
    verdict: 'reproduced',
    oracle: 'safety',
    summary: `${problems.join('; ')}: ${stale} stale 4 KiB blocks in allocated clusters; ${alloc}`,
    evidence,
    counters,
  };
}

interface Image {
  bytes: Uint8Array;
  chunks: number;
  dataChunks: number;
  clustersWithData: number;
}

/** A deterministic image: per 1 MiB cluster all zero, all data, or mixed 4 KiB chunks, with at
 *  least one mixed cluster (the precondition) and, from 2 MiB on, one all-zero cluster. */
function makeImage(rng: Prng, mib: number): Image {
  const kinds: ('zero' | 'data' | 'mixed')[] = [];
  for (let c = 0; c < mib; c++) {
    const r = rng.float();
    kinds.push(r < 0.2 ? 'zero' : r < 0.35 ? 'data' : 'mixed');
  }
  if (!kinds.includes('mixed')) kinds[rng.int(0, mib - 1)] = 'mixed';
  if (mib >= 2 && !kinds.includes('zero')) {
    const candidates = kinds.map((k, i) => (k !== 'mixed' || kinds.filter((x) => x === 'mixed').length > 1 ? i : -1)).filter((i) => i >= 0);
    kinds[candidates[rng.int(0, candidates.length - 1)]!] = 'zero';
  }
  const bytes = new Uint8Array(mib * MiB);
  const words = new Uint32Array(bytes.buffer);
  let dataChunks = 0;
  let clustersWithData = 0;
  kinds.forEach((kind, c) => {
    let any = false;
    for (let b = 0; b < BLOCKS_PER_CLUSTER; b++) {
      const data = kind === 'data' || (kind === 'mixed' && rng.chance(0.5));
      if (!data) continue;
      any = true;
      dataChunks++;
      const at = c * MiB + b * BLOCK;
      // One draw of the run's stream seeds each block's xorshift32: a page's first step does not
      // wait on a million draws for a 4 MiB image.
      let x = rng.u32() | 1;
      for (let w = at >> 2, end = (at + BLOCK) >> 2; w < end; w++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[w] = x;
      }
      bytes[at] = 0x42; // never an all-zero chunk
    }
    if (any) clustersWithData++;
  });
  return { bytes, chunks: mib * BLOCKS_PER_CLUSTER, dataChunks, clustersWithData };
}

/** What the deleted lvol wrote at one physical 4 KiB block of a disk: "OLD<disk>" and noise. */
function staleBlock(seed: number, disk: number, physBlock: number): Uint8Array {
  const out = new Uint8Array(BLOCK);
  const dv = new DataView(out.buffer);
  let x = (seed ^ Math.imul(disk + 1, 0x9e3779b1) ^ Math.imul(physBlock + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let w = 0; w < BLOCK; w += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    dv.setUint32(w, x >>> 0, true);
  }
  out.set([0x4f, 0x4c, 0x44, 0x30 + disk], 0);
  return out;
}

function uuidFrom(rng: Prng): string {
  const h = Array.from({ length: 4 }, () => rng.u32().toString(16).padStart(8, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function runs(xs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const x of xs) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1 === x) last[1] = x;
    else out.push([x, x]);
  }
  return out;
}

function fmtRuns(rs: [number, number][]): string {
  const parts = rs.slice(0, 6).map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`));
  return parts.join(', ') + (rs.length > 6 ? `, ... (${rs.length} runs)` : '');
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

