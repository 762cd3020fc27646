/** Node-only: `--show-fix` of each lab: the reference patches, or for tcp-zcopy-disconnect the
 *  configuration and where the patched variant's value passes through the tree. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { referencePatches } from './grade.node.js';
import { LABS } from './specs.js';

export function showFix(root: string, id: string): string {
  if (LABS[id]?.reference === 'patched-variant') return tcpZcopyDisconnectFix(root);
  const patches = referencePatches(root, id);
  if (patches.length === 0) throw new Error(`spdk-patches/series has no patch whose header says "Replay: ${id}"`);
  return patches.map((p) => `=== spdk-patches/${basename(p)}\n${readFileSync(p, 'utf8')}`).join('\n');
}

/** tcp-zcopy-disconnect has no patch: upstream's answer is a transport option. Where it lives, from the tree. */
function tcpZcopyDisconnectFix(root: string): string {
  /** The line of `file` matching `pattern`, with `before` and `after` lines around it, numbered. */
  const at = (file: string, pattern: RegExp, before = 0, after = 0): string => {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    const i = lines.findIndex((l) => pattern.test(l));
    if (i < 0) return `  ${file}: (${pattern.source} not found)`;
    const from = Math.max(0, i - before);
    return lines.slice(from, i + 1 + after).map((l, k) => `  ${file}:${from + k + 1}: ${l}`).join('\n');
  };
  return [
    '=== the reference fix of tcp-zcopy-disconnect is configuration (SPDK 79606bee4c "nvmf: introduce ack_timeout", v24.05; spdk#3309)',
    '',
    'Upstream did not change the request state machine. It added a transport option, and the mitigation is to set it:',
    '',
    '  scripts/rpc.py nvmf_create_transport -t tcp --zcopy --ack-timeout 5000',
    '  (JSON-RPC: "nvmf_create_transport" {"trtype": "TCP", "zcopy": true, "ack_timeout": 5000})',
    '',
    'ack_timeout is in milliseconds (default 0 = off). nvmf_tcp_listen copies it into spdk_sock_opts.ack_timeout of the',
    'listen socket; the sock layer sets TCP_USER_TIMEOUT from it, and accepted sockets inherit it (Linux dca43c75e7e5).',
    'The kernel then fails a connection whose data stays unacknowledged for that long: ETIMEDOUT, write queue purged,',
    'zero-copy pages released, so _req_pdu_write_done finally runs for the requests delayed in TCP_REQ_COMPLETED.',
    'Without it, only tcp_retries2 (15, about 924.6 s) ends the connection.',
    '',
    'Where the patched variant applies it (docs/architecture.md: a fix made in configuration is selected by the variant, the C is the same):',
    at('host/scenarios/tcp-zcopy-disconnect.ts', /const ackTimeout = opts\.variant === 'patched'/, 1),
    at('host/scenarios/tcp-zcopy-disconnect.ts', /spdk_wasm_nvmf_create_transport\(/),
    at('wasm/api/spdk_wasm_nvmf.c', /opts\.ack_timeout = ack_timeout_ms/),
    at('wasm/lib/nvmf/tcp.c', /opts\.ack_timeout = transport->opts\.ack_timeout/, 1, 1),
    at('wasm/lib/sock/sock.c', /setsockopt\(fd, IPPROTO_TCP, TCP_USER_TIMEOUT/, 3),
    at('host/kernel/tcp-output.ts', /s\.abort\(abi\.ETIMEDOUT, s\.userTimeoutMs/, 2),
    '',
    'Try it: npx spdk-wasm run tcp-zcopy-disconnect --variant patched --ack-timeout-ms 5000',
    'The lab itself runs with ack_timeout 0 (the seed\'s configuration), so `check` passes only when the target\'s code',
    'releases the requests on its own: see docs/labs/tcp-zcopy-disconnect.md, section 3.',
  ].join('\n');
}

