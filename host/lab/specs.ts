/**
 * What each lab grades (docs/labs/<id>.md): the configurations a fix must hold under, the bug's own
 * counters and invariants checked on every run, and the teaching around it (parts, hints, what you
 * learned). The grader (grade.node.ts) runs the student's build; these functions only read results.
 */
import type { Flavor } from '../spdk/variant.js';
import type { ParamValue, RunResult } from '../scenarios/contract.js';

/** `bug`: the run must take the bug's path and be clean; `control`: clean, no path required;
 *  `live`: the peer comes back, and the fix must not have cut it off. */
export type ConfigKind = 'bug' | 'control' | 'live';

export interface LabConfig {
  name: string;
  params: Record<string, ParamValue>;
  kind: ConfigKind;
  /** Seeds for this configuration: 'all' takes `--seeds`, a number caps it. */
  seeds: 'all' | number;
  /** Build flavor; asan where a crash or leak is graded. */
  flavor?: Flavor;
}

export interface RunView {
  r: RunResult;
  events: ReadonlyMap<string, number>;
  config: LabConfig;
}

export interface LabSpec {
  id: string;
  /** Trace events ("machine:event") counted on every run. */
  events: readonly string[];
  configs: LabConfig[];
  /** Why this run fails the lab (first problem first), or [] when it passes. */
  problems(v: RunView): string[];
  /** A cost compared with the reference fix per configuration (lower is better), with its unit. */
  cost?: { of(r: RunResult): number; what: string; tolerance: number };
  /** The reference: the patches of spdk-patches/ whose header names this lab, or a variant run
   *  (tcp-zcopy-disconnect: the fix is configuration, selected by the `patched` variant). */
  reference: 'patches' | 'patched-variant';
  parts: { title: string; text: string }[];
  hints: string[];
  learned: string[];
}

const n = (r: RunResult, k: string): number => r.counters[k] ?? 0;

/** The per-disk counters of one family ("allocated./dev/sda", ...) as [disk, value] pairs. */
function perDisk(r: RunResult, family: string): [string, number][] {
  return Object.entries(r.counters).filter(([k]) => k.startsWith(`${family}.`)).map(([k, v]) => [k.slice(family.length + 1), v]);
}

/** The verdict's own problem: corruption or stuck requests (reproduced), or no verdict. */
function verdictProblem(r: RunResult): string | undefined {
  if (r.oracle === 'crash') return `CRASH: ${r.summary}`;
  if (r.verdict === 'reproduced') return `REPRODUCED (${r.oracle}): ${r.summary}`;
  if (r.verdict === 'inconclusive') return `INCONCLUSIVE (never a pass): ${r.summary}`;
  return undefined;
}

const zcopyThreshold: LabSpec = {
  id: 'zcopy-threshold',
  events: [],
  configs: [
    { name: 'defaults', params: {}, kind: 'bug', seeds: 'all' },
    { name: 'lossy link (retransmits re-read memory)', params: { 'loss-ppm': 5000 }, kind: 'bug', seeds: 6 },
    { name: 'send buffer of 42 KiB (three zero-copy calls, then a copy)', params: { sndbuf: 43008 }, kind: 'bug', seeds: 6 },
    { name: 'queue depth 3, send buffer of 252 KiB', params: { 'queue-depth': 3, sndbuf: 258048 }, kind: 'bug', seeds: 4 },
    { name: '64 KiB writes, send buffer of 60 KiB', params: { 'io-size': 65536, sndbuf: 61440, 'io-count': 32 }, kind: 'bug', seeds: 4 },
    { name: '64 KiB writes, threshold 4096', params: { 'io-size': 65536, sndbuf: 63488, threshold: 4096 }, kind: 'bug', seeds: 4 },
    { name: '256 KiB writes, threshold 16384', params: { 'io-size': 262144, sndbuf: 258048, threshold: 16384 }, kind: 'bug', seeds: 3 },
    { name: 'jumbo frames, no TSO', params: { mss: 9000, tso: 0 }, kind: 'bug', seeds: 3 },
    { name: 'every write below the threshold (copies only)', params: { 'io-size': 4096, 'io-count': 64 }, kind: 'control', seeds: 3 },
    { name: 'threshold 0 (zero copy only)', params: { threshold: 0 }, kind: 'control', seeds: 3 },
  ],
  problems({ r, config }) {
    const out: string[] = [];
    const v = verdictProblem(r);
    if (v !== undefined) out.push(r.verdict === 'inconclusive' ? `${v} (a request that waits for a notification nobody will send never completes)` : v);
    const pm = n(r, 'prematureCompletions');
    if (pm > 0 && r.verdict !== 'reproduced') out.push(`${pm} write(s) completed before the notification of a zero-copy send that carried them; the bytes arrived intact only because the buffer was not refilled in time`);
    if (config.kind === 'bug' && r.verdict !== 'inconclusive') {
      const zc = n(r, 'sendmsgZeroCopy');
      const copy = n(r, 'sendmsgCopy');
      if (zc === 0 || copy === 0) out.push(`the run did not mix modes (${zc} MSG_ZEROCOPY and ${copy} copy sendmsg calls): a fix that stops using zero copy or the threshold removes the feature, not the bug`);
      else if (n(r, 'mixedWrites') === 0) out.push(`no write was carried by both a MSG_ZEROCOPY call and a copy call (${zc} zero-copy, ${copy} copy sendmsg calls): the run never took the bug's path`);
    }
    return out;
  },
  // The world is deterministic: a fix equal to the reference costs exactly the same.
  cost: { of: (r) => r.simulatedUs, what: 'simulated time to complete every write', tolerance: 0.05 },
  reference: 'patches',
  parts: [
    { title: 'Observe', text: 'Run `npx spdk-wasm run zcopy-threshold` and find, in the trace or the demo page, the write that went out as a MSG_ZEROCOPY call plus a copy call, and its completion before the zero-copy notification.' },
    { title: 'Find the line', text: 'In `_sock_flush` (wasm/module/sock/posix/posix.c), find where a send call stamps its mode on the request, and what that does to a request whose tail went as a copy.' },
    { title: 'Fix', text: 'Make a request wait for every zero-copy call that carried its bytes, and let a partly sent request whose zero-copy part was already notified still complete.' },
    { title: 'Defend', text: '`npm run lab -- check zcopy-threshold` runs your fix under loss, small send buffers, deeper queues, other sizes and thresholds, and the copy-only and zero-copy-only controls; it counts premature completions from the kernel\'s notifications, not from the C.' },
  ],
  hints: [
    'Look at `req->internal.is_zcopy = is_zcopy;` in `_sock_flush`: it runs for every send call that carried bytes of the request.',
    'The flag has to be sticky: set by a zero-copy call, never cleared by a copy call. The request also needs the id of its last zero-copy call in a field of its own (`offset` counts bytes while the request is still queued).',
    'A request can be at the head of `queued_reqs` when its zero-copy part is notified. `_sock_check_zcopy` must then clear its wait, or it waits for an id that was already reported (try `--sndbuf 32768`).',
    'Compare with the reference: `npm run lab -- check zcopy-threshold --show-fix` (spdk-patches/0001).',
  ],
  learned: [
    'A buffer handed to MSG_ZEROCOPY belongs to the kernel until its notification: completion must wait for every zero-copy call that carried any of the request\'s bytes, whatever mode its last call had.',
    'Upstream: spdk/spdk#3610 (https://github.com/spdk/spdk/issues/3610), fixed by SPDK a1f20e789f "sock: fix premature completion of zcopy req"; here spdk-patches/0001-sock-fix-premature-completion-of-zcopy-req.patch.',
  ],
};

const KATO_S = 10;

const tcpZcopyDisconnect: LabSpec = {
  id: 'tcp-zcopy-disconnect',
  events: ['target:spdk_bdev_zcopy_start'],
  configs: [
    { name: 'defaults', params: {}, kind: 'bug', seeds: 'all' },
    { name: 'host back 1 s after the cut (live)', params: { 'restore-link-us': 1_000_000 }, kind: 'live', seeds: 5 },
    { name: 'deep queue, slow link', params: { 'queue-depth': 32, 'latency-us': 500 }, kind: 'bug', seeds: 5 },
    { name: 'long round trip (40 ms)', params: { 'latency-us': 20000 }, kind: 'bug', seeds: 3 },
    { name: 'jumbo frames', params: { mss: 9000 }, kind: 'bug', seeds: 3 },
    { name: 'host back 1 s after the cut, 40 ms round trip (live)', params: { 'restore-link-us': 1_000_000, 'latency-us': 20000 }, kind: 'live', seeds: 3 },
    { name: 'defaults on asan', params: {}, kind: 'bug', seeds: 3, flavor: 'asan' },
    { name: 'zcopy off (control)', params: { zcopy: false }, kind: 'control', seeds: 2 },
  ],
  problems({ r, events, config }) {
    const out: string[] = [];
    const uto = n(r, 'socketUserTimeoutMs');
    const utoSays = uto > 0 ? `the TCP_USER_TIMEOUT your C set on the target's socket is ${uto} ms` : 'your C set no TCP_USER_TIMEOUT on the target\'s socket';
    if (n(r, 'zcopyReleasedWhilePinned') > 0) {
      out.push(`${n(r, 'zcopyReleasedWhilePinned')} zcopy buffer(s) went back to the bdev (spdk_bdev_zcopy_end) while the kernel still held up to ${n(r, 'pinnedBytesAtRelease')} bytes of them in a live connection's send queue: a retransmission would send whatever the bdev puts there next (the zcopy-threshold bug again). Give the writes back only once the kernel has let go of the pages`);
    }
    if (r.oracle === 'crash') return [...out, `CRASH: ${r.summary}`];
    if (config.kind === 'live') {
      const alive = n(r, 'qpairs') > 0 && n(r, 'controllers') > 0;
      if (n(r, 'targetAborts') > 0 || !alive) out.push(`the host came back 1 s after the cut, well within KATO (${KATO_S} s), but the target ${n(r, 'targetAborts') > 0 ? 'aborted its connection' : 'lost its qpair'}: ${utoSays}, too short for a live host (the ACK clock runs between retransmissions)`);
      else if (r.verdict !== 'clean') out.push(verdictProblem(r)!);
      return out;
    }
    const v = verdictProblem(r);
    if (v !== undefined) out.push(r.verdict === 'reproduced' && uto > 2 * KATO_S * 1000 ? `${v}; ${utoSays}, longer than the ${2 * KATO_S} s (2 x KATO) the lab waits` : `${v}${r.verdict === 'reproduced' ? ` (${utoSays})` : ''}`);
    if (config.kind === 'control') return out;
    if (n(r, 'ackTimeoutMs') !== 0) out.push(`nvmf_create_transport was given ack_timeout ${n(r, 'ackTimeoutMs')} ms; the lab runs the seed's configuration (0), so the fix has to be in the target`);
    if ((r.counters['cutAtUs'] ?? -1) < 0) out.push('the link never went down while a C2HData PDU was in flight (pdu_in_use)');
    if ((events.get('target:spdk_bdev_zcopy_start') ?? 0) === 0) out.push('the target served no READ through bdev zcopy (spdk_bdev_zcopy_start never ran): zcopy is off, so the run proves nothing');
    if (r.verdict === 'clean' && (n(r, 'qpairs') > 0 || n(r, 'controllers') > 0)) {
      out.push(`${n(r, 'qpairs')} qpair(s) and ${n(r, 'controllers')} controller(s) still exist ${((r.simulatedUs - n(r, 'cutAtUs')) / 1e6).toFixed(1)} s after the link went down (nothing released them)`);
    }
    return out;
  },
  reference: 'patched-variant',
  parts: [
    { title: 'Observe', text: 'Run `npx spdk-wasm run tcp-zcopy-disconnect` and follow link.down, nvmf_ctrlr_keep_alive_poll, nvmf_qpair_abort_pending_zcopy_reqs and nvmf_tcp_req_delay_completion in the trace; note which requests stay in TCP_REQ_COMPLETED with pdu_in_use.' },
    { title: 'Find the line', text: 'In `nvmf_tcp_req_process` (wasm/lib/nvmf/tcp.c), case TCP_REQUEST_STATE_COMPLETED, find why the request waits, and in `nvmf_tcp_listen` which spdk_sock_opts the listen socket gets.' },
    { title: 'Fix', text: 'Make the target release a zcopy READ whose host vanished in bounded time, with ack_timeout left at 0: a built-in TCP user timeout for zcopy transports, or breaking the circular wait without handing back pages the kernel still holds.' },
    { title: 'Defend', text: '`npm run lab -- check tcp-zcopy-disconnect` reads the TCP_USER_TIMEOUT your C set on the socket, checks no zcopy buffer goes back to the bdev while the kernel still references it, runs deep queues, long round trips, jumbo frames and ASan, and brings the host back after 1 s: a live host must keep its connection.' },
  ],
  hints: [
    'The request waits in TCP_REQUEST_STATE_COMPLETED for `_req_pdu_write_done`, which only the sock layer calls: on the zero-copy notification, or when the socket fails.',
    'The kernel fails a socket whose data stays unacknowledged for TCP_USER_TIMEOUT. `nvmf_tcp_listen` fills `opts.ack_timeout` of the listen socket; `spdk_sock_posix_fd_create` (wasm/lib/sock/sock.c) turns it into setsockopt.',
    'Choose the bound: it must end the wait within 2 x KATO (20 s), and it must not cut off a host whose link comes back after a second (retransmissions back off: 0.2 s, 0.6 s, 1.4 s, ...).',
    'Handing the writes back early (completing the sock requests on disconnect) returns buffers the kernel still transmits from: the grader checks every spdk_bdev_zcopy_end against the kernel\'s send queues.',
  ],
  learned: [
    'A zero-copy send ties the request\'s lifetime to the peer\'s ACKs: when the peer vanishes, only a kernel timeout (TCP_USER_TIMEOUT, or tcp_retries2 after ~924.6 s) gives the pages back, so a target serving zcopy needs that timeout bounded.',
    'Upstream: spdk/spdk#3309 (https://github.com/spdk/spdk/issues/3309); SPDK 79606bee4c "nvmf: introduce ack_timeout" made it configuration (`nvmf_create_transport --ack-timeout`), see `npm run lab -- check tcp-zcopy-disconnect --show-fix`.',
  ],
};

const sparseBackingImage: LabSpec = {
  id: 'sparse-backing-image',
  events: [],
  configs: [
    { name: 'defaults', params: {}, kind: 'bug', seeds: 12 },
    { name: 'RAID1 of two replicas (#10135)', params: { replicas: 2 }, kind: 'bug', seeds: 3 },
    { name: 'head over an empty snapshot (a parent whose range reads zeroes)', params: { parent: 'empty-snapshot' }, kind: 'bug', seeds: 3 },
    { name: '1 MiB image', params: { 'image-mib': 1 }, kind: 'bug', seeds: 2 },
    { name: '3 MiB image', params: { 'image-mib': 3 }, kind: 'bug', seeds: 2 },
    { name: '7 MiB image', params: { 'image-mib': 7 }, kind: 'bug', seeds: 1 },
    { name: '12 MiB image', params: { 'image-mib': 12 }, kind: 'bug', seeds: 1 },
    { name: 'slow disk (1 ms per command)', params: { 'latency-us': 1000 }, kind: 'bug', seeds: 2 },
    { name: 'disk whose unmap zeroes (control)', params: { unmap: true }, kind: 'control', seeds: 1 },
  ],
  problems({ r, config }) {
    const out: string[] = [];
    const c = r.counters;
    const v = verdictProblem(r);
    if (v !== undefined) out.push(v);
    if (n(r, 'insertedHoldingStale') > 0) out.push(`${n(r, 'insertedHoldingStale')} cluster(s) were inserted into the blob (blob_insert_cluster) while the disk still held stale bytes there: the zeros must be on the disk before the cluster is inserted, not written beside or after the user's write`);
    const want = c['expectedAllocated'] ?? -1;
    const off = perDisk(r, 'allocated').filter(([, x]) => x !== want);
    if (off.length > 0 && r.verdict !== 'inconclusive') out.push(`not sparse: num_allocated_clusters ${off.map(([d, x]) => `${x} on ${d}`).join(', ')}, want ${want} (only clusters the copy writes may be allocated)`);
    if (config.kind !== 'bug' || r.verdict === 'inconclusive') return out;
    if (n(r, 'clusterAllocations') === 0) out.push('no bs_allocate_and_copy_cluster trace point fired: keep the SPDK_WASM_TRACE calls, the grader reads them');
    if (n(r, 'chunksSkipped') === 0) out.push('the copy skipped no zero chunk (not a sparse copy)');
    const perCluster = n(r, 'imageChunks') / Math.max(1, n(r, 'clustersTotal'));
    if (n(r, 'dataChunks') >= n(r, 'clustersWithData') * perCluster) out.push('no written cluster mixes data with skipped zero blocks');
    const clean = perDisk(r, 'unmapIgnoredBytes').filter(([, x]) => x === 0).map(([d]) => d);
    if (clean.length > 0) out.push(`the disk ${clean.join(', ')} held no stale bytes (no ignored unmap of a deleted lvol)`);
    if (n(r, 'writebackPages') === 0 || n(r, 'droppedPages') === 0) out.push('the page cache did not write back and drop at the last close');
    return out;
  },
  reference: 'patches',
  parts: [
    { title: 'Observe', text: 'Run `npx spdk-wasm run sparse-backing-image` and compare the checksum while the fd is open with the one after the last close; find blob_aio_unmap_ignored, bs_allocate_and_copy_cluster (can_copy 0) and blk.writeback in the trace.' },
    { title: 'Find the line', text: 'In `bs_allocate_and_copy_cluster` (wasm/lib/blob/blob_io.c), find the branch taken when there is nothing to copy, and what the new cluster holds when it is inserted.' },
    { title: 'Fix', text: 'Zero a newly allocated cluster whose back device reads zeroes, and insert it only from the completion of that write; keep the copy-on-write path and the error handling.' },
    { title: 'Defend', text: '`npm run lab -- check sparse-backing-image` runs images of 1 to 12 MiB, two replicas, a head over an empty snapshot, a slow disk and a disk whose unmap works; it checks on the disk that every cluster is zero when blob_insert_cluster runs, and that the head stays sparse.' },
  ],
  hints: [
    'For a thin blob with no parent, `can_copy` is false: the branch calls `blob_insert_cluster_on_md_thread` directly, and the cluster holds whatever the disk had there.',
    'Which test says "the back device reads zeroes here"? Not `blob->parent_id`: a clone of an empty snapshot has a parent and the same problem. Look at `blob_back_range_is_zeroes`.',
    'Issue a cluster-sized write_zeroes on the sequence (`bs_sequence_write_zeroes_dev`) and insert the cluster from its completion; on error release the cluster (and the extent page) the way `blob_write_copy_cpl` does.',
    'Compare with the reference: `npm run lab -- check sparse-backing-image --show-fix` (spdk-patches/0002).',
  ],
  learned: [
    'A blobstore cannot assume free clusters read as zero: a disk that ignores unmap keeps a deleted volume\'s bytes, and a host page cache can hide them until the last close.',
    'Upstream: longhorn/longhorn#9876 (https://github.com/longhorn/longhorn/issues/9876) and #10135; fixed in longhorn/spdk dc7fa5938 "Initialize the newly allocated cluster to zero"; here spdk-patches/0002-blob-initialize-newly-allocated-cluster-to-zero.patch.',
  ],
};

export const LABS: Record<string, LabSpec> = {
  [zcopyThreshold.id]: zcopyThreshold,
  [tcpZcopyDisconnect.id]: tcpZcopyDisconnect,
  [sparseBackingImage.id]: sparseBackingImage,
};
