/**
 * Every term the pages use, explained for someone who knows what a disk and a network are. `term()`
 * marks a word in place (hover, focus or tap shows the explanation); `glossaryList()` is the full
 * list at the foot of a page, so every definition is also reachable without hovering.
 */
import { h } from './dom.js';

export const GLOSSARY: Record<string, string> = {
  replay: 'A real bug, re-enacted in a simulated world of machines, network and disks. The same seed always gives the same run.',
  oracle: 'The rule that decides the verdict from what was observed: safety (wrong bytes arrived), liveness (work or resources stuck past the point a healthy system frees them) or crash (a machine trapped, aborted or AddressSanitizer reported a memory error).',
  verdict: 'REPRODUCED: the bug\'s evidence was seen. clean: the run reached the point where it would show, and it did not. INCONCLUSIVE: the run ended before it could tell.',
  variant: 'unpatched: the C code as upstream had it while the bug existed. patched: the same code with the upstream fix applied (spdk-patches/).',
  flavor: 'How the C was compiled. release: optimised, no checks. asan: with AddressSanitizer, which stops the program at the first bad memory access (use after free, overflow).',
  asan: 'AddressSanitizer: a compiler option that checks every memory access and reports the first bad one with the stack that made it.',
  seed: 'The number every random choice of the world comes from (latency jitter, losses). Same seed, same run, same trace hash.',
  'trace hash': 'A fingerprint of every event the run recorded; two runs with the same hash did exactly the same thing.',
  'virtual time': 'The simulated clock. It jumps over idle stretches, so minutes of timeouts replay in milliseconds.',
  trap: 'The WebAssembly machine hit an instruction that cannot go on (like a segmentation fault): the machine stops at once.',
  abort: 'The C code called abort(): an invariant it checks (an assert) did not hold.',
  'use after free': 'Reading or writing memory after giving it back. On release nothing notices and the program goes on with stale data; asan reports it.',
  mss: 'Maximum segment size: the most payload bytes one TCP segment carries (1448 on ordinary Ethernet).',
  tso: 'TCP segmentation offload: the kernel hands the network card one large frame and the card cuts it into MSS-sized segments on the wire.',
  sndbuf: 'SO_SNDBUF: how many bytes the kernel keeps for a socket that are sent but not yet acknowledged. A write larger than it is accepted in parts.',
  threshold: 'zerocopy_threshold: SPDK sends a chunk with MSG_ZEROCOPY only if it is at least this many bytes; smaller chunks are copied.',
  'MSG_ZEROCOPY': 'A Linux send flag: the kernel does not copy the bytes but reads them from the program\'s buffer later, when the card transmits. The program must not reuse the buffer until the kernel says it is done (the notification).',
  zcopy: 'Zero copy: data goes to the network straight from the application\'s buffer instead of a kernel copy.',
  notification: 'The message on the socket\'s error queue by which Linux says a MSG_ZEROCOPY range of sends is done with the buffer. SPDK reads it in _sock_check_zcopy.',
  'zero-copy id': 'Linux numbers every MSG_ZEROCOPY send on a socket 0, 1, 2, ...; a notification releases a range of these ids.',
  sendmsg: 'The system call that hands bytes to the kernel to send; it may accept fewer bytes than asked.',
  ACK: 'A TCP acknowledgement: the receiver says which bytes it has. Unacknowledged bytes are sent again (retransmitted).',
  seq: 'TCP sequence number: the position of a segment\'s first byte in the stream (shown relative to the first byte).',
  FA: 'TCP flags F and A: a FIN (this side closes its half of the connection) with an ACK.',
  SYN: 'The first TCP segment of a connection (flag S).',
  RST: 'A TCP reset (flag R): the connection is torn down at once.',
  txdown: 'The frame was dropped because the sender\'s link was down (the cable is "pulled").',
  retransmit: 'Sending TCP bytes again because no ACK came in time; the wait doubles each time (backoff).',
  queued_reqs: 'SPDK\'s list of socket requests waiting to be (fully) handed to the kernel.',
  pending_reqs: 'SPDK\'s list of socket requests fully handed to the kernel, waiting for their zero-copy notification before they complete.',
  Q0: 'Request state: queued, nothing of it sent yet.',
  QP: 'Request state: queued, partly sent (the kernel took only part of it).',
  PZ: 'Request state: fully sent, waiting for the zero-copy notification.',
  PL: 'Request state: fully sent, released, waiting its turn to complete.',
  DONE: 'Request state: completed; its callback ran and the caller may reuse the buffer.',
  poison: 'A fixed pattern SPDK writes over a buffer once it is given back, so a later read of it is visible. In the patched run, a buffer holding poison after its request completed is expected.',
  'NVMe/TCP': 'NVMe (the SSD command set) carried over a TCP connection: an initiator (host) sends commands to a target that owns the disk.',
  initiator: 'The side that sends storage commands (the host, the "client").',
  target: 'The side that owns the disk and answers commands (nvmf_tgt, the "server").',
  qpair: 'Queue pair: one submission and completion queue between host and target, here one TCP connection. Q0 / qid 0 is the admin queue, the others carry I/O.',
  admin: 'The admin queue pair (qid 0): controller management and keep alives, no data.',
  KATO: 'Keep Alive Timeout: if the target hears no keep alive from the host for this long, it tears the controller down.',
  controller: 'The target\'s per-host NVMe controller; it owns the host\'s queue pairs.',
  pdu_in_use: 'Set while a request\'s PDU sits in the socket; cleared by the write callback. A request COMPLETED with pdu_in_use never goes back to FREE.',
  PDU: 'Protocol data unit: one NVMe/TCP message (CapsuleCmd, C2HData, CapsuleResp, ...).',
  C2HData: 'Controller-to-host data PDU: the bytes of a READ, sent by the target.',
  CapsuleCmd: 'The PDU carrying one NVMe command from host to target.',
  CapsuleResp: 'The PDU carrying a command\'s completion from target to host.',
  ack_timeout: 'TCP_USER_TIMEOUT: how long unacknowledged bytes may wait before the kernel gives up on the connection with ETIMEDOUT (the patched setting).',
  ETIMEDOUT: 'The error a socket reports when the kernel gave up waiting for ACKs.',
  tcp_retries2: 'The Linux limit on retransmissions (about 15 minutes by default) before a connection is dropped.',
  bdevperf: 'SPDK\'s I/O load generator; in verify mode it writes a unique pattern and checks every byte read back.',
  lvol: 'A logical volume carved out of SPDK\'s blobstore, thin provisioned: clusters are allocated on first write.',
  cluster: 'The blobstore\'s allocation unit (1 MiB here). An unallocated cluster of a thin volume reads as its backing image (or zeroes).',
  'backing image': 'A read-only base image a volume is cloned from; Longhorn copies it into a volume chunk by chunk.',
  'page cache': 'The kernel\'s copy of file blocks in memory. Writes land there first and reach the disk later (write back).',
  snapshot: 'A read-only frozen copy of a volume at a point in time.',
  'SHA-512': 'A checksum: equal checksums mean equal bytes.',
  stale: 'Bytes left on the disk by an earlier, deleted volume: they should read as zeroes but do not.',
  corrupted: 'Bytes the receiver got that differ from what was sent: the bug\'s damage.',
  verified: 'Bytes checked equal to what the sender meant to send.',
};

/** The glossary key of a word, ignoring case (undefined when it has no entry). */
export function termKey(word: string): string | undefined {
  if (Object.hasOwn(GLOSSARY, word)) return word;
  const lower = word.toLowerCase();
  return Object.keys(GLOSSARY).find((k) => k.toLowerCase() === lower);
}

/** A word with its explanation on hover, focus or tap. */
export function term(word: string, text: string = word): HTMLElement {
  const key = termKey(word);
  if (key === undefined) throw new Error(`glossary: no entry for "${word}"`);
  return explained(text, GLOSSARY[key]!, key);
}

/** Text with an explanation of its own (a knob's help), shown like a glossary term. */
export function explained(text: string, explanation: string, key?: string): HTMLElement {
  return h('span', { class: 'term', tabindex: 0, 'data-term': key ?? text },
    text, h('span', { class: 'tip', role: 'tooltip' }, explanation));
}

/** The whole glossary as a definition list, for the foot of a page. */
export function glossaryList(keys: readonly string[] = Object.keys(GLOSSARY)): HTMLElement {
  return h('section', { class: 'panel', id: 'glossary' },
    h('h2', {}, 'Glossary'),
    h('dl', { class: 'glossary' }, ...keys.flatMap((k) => [h('dt', { id: `gl-${k.replace(/\W+/g, '-')}` }, k), h('dd', {}, GLOSSARY[k]!)])));
}
