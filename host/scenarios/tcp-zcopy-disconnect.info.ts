/** tcp-zcopy-disconnect (seed 001) without its run code: id, fix and knobs. */
import type { ParamSpec, ScenarioInfo } from './contract.js';
import { swarmParams } from './swarm-params.js';

const PARAMS: readonly ParamSpec[] = [
  { name: 'zcopy', kind: 'bool', default: true, help: 'nvmf_create_transport zcopy (the precondition; false is a control: no request waits on a zero-copy send)' },
  { name: 'ack-timeout-ms', kind: 'int', default: 5000, min: 1, max: 600_000, help: 'nvmf_create_transport ack_timeout used by the patched variant (unpatched: 0)' },
  { name: 'restore-link-us', kind: 'int', default: 0, min: 0, max: 60_000_000, help: 'bring the link back this long after the cut (0: never; below KATO is the second control)' },
  { name: 'long-run', kind: 'bool', default: false, help: 'run on to ~940 s of virtual time to show tcp_retries2 releasing the stuck requests' },
  { name: 'queue-depth', kind: 'int', shrink: true, default: 8, min: 2, max: 32, help: 'READs outstanding at once' },
  { name: 'reads-before-cut', kind: 'int', shrink: true, default: 16, min: 1, max: 10_000, help: 'READs completed before the link may go down' },
  { name: 'latency-us', kind: 'int', default: 50, min: 1, max: 200_000, help: "one-way link latency (from about 250 ms the initiator's attach times out: the target's CAP.TO is 500 ms, and the ICResp must come within 2 s)" },
  { name: 'mss', kind: 'int', default: 1448, min: 536, max: 9000, help: 'TCP maximum segment size' },
  ...swarmParams(),
];

export const tcpZcopyDisconnectInfo: ScenarioInfo = {
  id: 'tcp-zcopy-disconnect',
  title: 'zcopy READs stuck in COMPLETED with pdu_in_use after the host vanished mid-C2HData (keep-alive expiry cannot free them)',
  bugDoc: 'docs/bugs/tcp-zcopy-disconnect.md',
  fix: 'ack_timeout -> TCP_USER_TIMEOUT (SPDK 79606bee4c; spdk#3309)',
  oracle: 'liveness',
  params: PARAMS,
};
