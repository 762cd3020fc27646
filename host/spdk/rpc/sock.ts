/**
 * lib/sock/sock_rpc.c: `sock_impl_set_options` (SPDK_RPC_STARTUP) and `sock_impl_get_options`
 * (SPDK_RPC_STARTUP | SPDK_RPC_RUNTIME), applied to and read from the C `spdk_sock_impl_opts`
 * through wasm/api/spdk_wasm_rpc.c.
 *
 * Accepted: every field the C model applies. The posix module here has no placement-id map and
 * the ssl module is not built (module/sock/posix/posix.c), so `enable_placement_id` accepts only 0
 * (PLACEMENT_NONE), `tls_version` only 0 and `enable_ktls` only false — exactly what `save_config`
 * writes for a posix-only target, so such files load — and the PSK parameters are rejected.
 * `enable_recv_pipe` decides, as upstream, whether spdk_sock_set_recvbuf gives a socket its
 * user-space receive pipe (sockets made before the change keep what they had).
 */
import { cCallFailed, defineMethod, invalidParams, STARTUP, STARTUP_AND_RUNTIME, type JsonObject, type ParamSpec, type RpcContext, type RpcParams } from '../jsonrpc.js';

/** Field numbers of spdk_wasm_rpc_sock_impl_{get,set}_opt (wasm/api/spdk_wasm_rpc.c). */
const SOCK_IMPL_FIELD = {
  recv_buf_size: 0,
  send_buf_size: 1,
  enable_recv_pipe: 2,
  enable_quickack: 3,
  enable_placement_id: 4,
  enable_zerocopy_send_server: 5,
  enable_zerocopy_send_client: 6,
  zerocopy_threshold: 7,
  tls_version: 8,
  enable_ktls: 9,
} as const;

type SockImplField = keyof typeof SOCK_IMPL_FIELD;

const BOOL_FIELDS = new Set<SockImplField>(['enable_recv_pipe', 'enable_quickack', 'enable_zerocopy_send_server', 'enable_zerocopy_send_client', 'enable_ktls']);

const IMPL_NAME: ParamSpec = { name: 'impl_name', type: 'string', required: true, min: 1, doc: 'sock implementation, e.g. "posix"' };

const SET_PARAMS: readonly ParamSpec[] = [
  IMPL_NAME,
  { name: 'recv_buf_size', type: 'uint32', doc: 'minimum SO_RCVBUF' },
  { name: 'send_buf_size', type: 'uint32', doc: 'minimum SO_SNDBUF' },
  { name: 'enable_recv_pipe', type: 'bool', doc: 'user-space receive pipe, sized by spdk_sock_set_recvbuf' },
  { name: 'enable_quickack', type: 'bool', doc: 'set TCP_QUICKACK on new sockets' },
  { name: 'enable_placement_id', type: 'uint32', choices: [0], why: 'placement ids are not modelled; 0 is PLACEMENT_NONE', doc: 'placement mode' },
  { name: 'enable_zerocopy_send_server', type: 'bool', doc: 'MSG_ZEROCOPY on listening and accepted sockets' },
  { name: 'enable_zerocopy_send_client', type: 'bool', doc: 'MSG_ZEROCOPY on connecting sockets' },
  { name: 'zerocopy_threshold', type: 'uint32', doc: 'requests below this many bytes may be sent without MSG_ZEROCOPY (0 = off)' },
  { name: 'tls_version', type: 'uint32', choices: [0], why: 'the ssl sock module is not built; 0 means unset', doc: 'TLS version' },
  { name: 'enable_ktls', type: 'bool', choices: [false], why: 'the ssl sock module is not built', doc: 'kernel TLS' },
];

function implExists(ctx: RpcContext, method: string, impl: string): void {
  const rc = ctx.machine.callStr('spdk_wasm_rpc_sock_impl_get_opt', impl, SOCK_IMPL_FIELD.recv_buf_size);
  if (rc < 0) throw invalidParams(method, 'impl_name', `names no registered sock implementation, got "${impl}"`, { got: impl });
}

function readOpts(ctx: RpcContext, method: string, impl: string): JsonObject {
  const out: JsonObject = {};
  for (const [name, field] of Object.entries(SOCK_IMPL_FIELD) as [SockImplField, number][]) {
    const v = ctx.machine.callStr('spdk_wasm_rpc_sock_impl_get_opt', impl, field);
    if (v < 0) throw cCallFailed(method, `spdk_sock_impl_get_opts(${impl}).${name}`, v);
    out[name] = BOOL_FIELDS.has(name) ? v !== 0 : v;
  }
  return out;
}

export const sockImplSetOptions = defineMethod({
  name: 'sock_impl_set_options',
  states: STARTUP,
  params: SET_PARAMS,
  unsupported: {
    psk_key: 'the ssl sock module is not built',
    psk_identity: 'the ssl sock module is not built',
  },
  check(ctx, p) {
    implExists(ctx, this.name, p['impl_name'] as string);
  },
  handler(ctx, p: RpcParams) {
    const impl = p['impl_name'] as string;
    for (const [name, field] of Object.entries(SOCK_IMPL_FIELD) as [SockImplField, number][]) {
      const v = p[name];
      if (v === undefined) continue;
      const value = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
      const rc = ctx.machine.callStr('spdk_wasm_rpc_sock_impl_set_opt', impl, field, value);
      if (rc < 0) throw cCallFailed(this.name, `spdk_sock_impl_set_opts(${impl}).${name}`, rc);
    }
    return true;
  },
  undoable(ctx, p) {
    const impl = p['impl_name'] as string;
    const before = readOpts(ctx, 'sock_impl_set_options', impl);
    return () => {
      for (const [name, field] of Object.entries(SOCK_IMPL_FIELD) as [SockImplField, number][]) {
        const v = before[name];
        if (v === undefined) continue;
        ctx.machine.callStr('spdk_wasm_rpc_sock_impl_set_opt', impl, field, typeof v === 'boolean' ? (v ? 1 : 0) : (v as number));
      }
    };
  },
});

export const sockImplGetOptions = defineMethod({
  name: 'sock_impl_get_options',
  states: STARTUP_AND_RUNTIME,
  params: [IMPL_NAME],
  check(ctx, p) {
    implExists(ctx, this.name, p['impl_name'] as string);
  },
  handler(ctx, p) {
    return readOpts(ctx, this.name, p['impl_name'] as string);
  },
});
