/** zcopy-threshold (seed 000) without its run code: id, fix, knobs and their cross-checks. */
import type { ParamSpec, ScenarioInfo } from './contract.js';
import { swarmParams } from './swarm-params.js';

const PARAMS: readonly ParamSpec[] = [
  { name: 'mode', kind: 'enum', default: 'sock', choices: ['sock', 'nvme-tcp'], help: 'sock: raw writes through the posix sock layer; nvme-tcp: bdevperf verify through an NVMe/TCP initiator and the real target (the target\'s C2HData goes zero copy)' },
  { name: 'threshold', kind: 'int', default: 8192, min: 0, max: 1 << 24, help: 'sock_impl_set_options zerocopy_threshold (bytes; 0 = always zero copy)' },
  { name: 'io-size', kind: 'int', default: 131072, min: 4096, max: 1 << 20, help: 'bytes per write (multiple of 4096)' },
  { name: 'io-count', kind: 'int', shrink: true, default: 16, min: 1, max: 1024, help: 'number of writes' },
  { name: 'queue-depth', kind: 'int', shrink: true, default: 1, min: 1, max: 64, help: 'writes outstanding at once' },
  { name: 'mss', kind: 'int', default: 1448, min: 536, max: 9000, help: 'TCP maximum segment size' },
  { name: 'tso', kind: 'int', default: 65536, min: 0, max: 65536, help: 'NIC segmentation offload size in bytes (0 = one MSS per frame)' },
  { name: 'sndbuf', kind: 'int', default: 126976, min: 4096, max: 1 << 24, help: 'sender SO_SNDBUF (send_buf_size); below io-size it splits each write' },
  { name: 'zcopy', kind: 'bool', default: true, help: 'enable_zerocopy_send_server/client on both ends' },
  { name: 'latency-us', kind: 'int', default: 20, min: 1, max: 1_000_000, help: 'one-way link latency' },
  { name: 'jitter-us', kind: 'int', default: 6, min: 0, max: 1_000_000, help: 'random extra latency per frame (from the seed)' },
  { name: 'loss-ppm', kind: 'int', default: 0, min: 0, max: 500_000, help: 'frame loss, parts per million (retransmits re-read memory)' },
  ...swarmParams(),
];

/** One-way latency the NVMe/TCP attach survives (the target's CAP.TO is 500 ms; see
 *  docs/decisions.md 18). */
const NVME_LATENCY_MAX = 200_000;

export const zcopyThresholdInfo: ScenarioInfo = {
  id: 'zcopy-threshold',
  title: 'zero-copy request completed before its MSG_ZEROCOPY notification (threshold + split write)',
  bugDoc: 'docs/bugs/zcopy-threshold.md',
  fix: 'SPDK a1f20e789f (spdk#3610)',
  oracle: 'safety',
  params: PARAMS,
  validate(p) {
    const io = p['io-size'] as number;
    if (io % 4096 !== 0) return `--io-size must be a multiple of 4096, got ${io}`;
    if (io * (p['io-count'] as number) > 256 * 1024 * 1024) return '--io-size x --io-count must stay within 256 MiB (the target keeps every byte to verify it)';
    if (p['mode'] === 'nvme-tcp' && io > 131072) return `--io-size must be at most 131072 in nvme-tcp mode (the target's max_io_size), got ${io}`;
    const lat = p['latency-us'] as number;
    if (p['mode'] === 'nvme-tcp' && lat > NVME_LATENCY_MAX) return `--latency-us must be at most ${NVME_LATENCY_MAX} in nvme-tcp mode (beyond about 250 ms the initiator's attach times out), got ${lat}`;
    return undefined;
  },
};
