/**
 * lib/nvmf/nvmf_rpc.c: the NVMe-oF target's methods (`nvmf_create_transport`,
 * `nvmf_create_subsystem`, `nvmf_delete_subsystem`, `nvmf_subsystem_add_listener`, `nvmf_subsystem_add_ns`,
 * `nvmf_subsystem_add_host`, `nvmf_get_subsystems`, `nvmf_get_transports`,
 * `nvmf_subsystem_get_qpairs`), all SPDK_RPC_RUNTIME, with SPDK's parameter names and result
 * shapes; the initiator's `bdev_nvme_attach_controller` is in bdev-nvme.ts. One target (tgt_name
 * "nvmf_tgt"), TCP over IPv4 only. Options `save_config` writes that the model does not apply
 * accept only their default values, so saved files load; TLS, DH-CHAP, ANA and passthrough are
 * refused with the reason.
 *
 * Existence of subsystems and bdevs is checked in the handlers, not in `check`: a config file may
 * create them in earlier entries (see RpcMethod.check).
 */
import { cCallFailed, defineMethod, describe, invalidParams, isObject, RUNTIME, type JsonObject, type JsonValue, type ParamSpec, type RpcContext } from '../jsonrpc.js';
import { bdevExists, cString, nqnOk, trtypeOk } from './shared.js';

const TGT_NAME: ParamSpec = { name: 'tgt_name', type: 'string', choices: ['nvmf_tgt'], why: 'the model runs one target', doc: 'target name' };
const NQN: ParamSpec = { name: 'nqn', type: 'string', required: true, min: 11, max: 223, doc: 'subsystem NQN' };

/** spdk_wasm_nvmf_transport_field numbers. */
const TRANSPORT_FIELD = {
  max_queue_depth: 0, max_io_qpairs_per_ctrlr: 1, in_capsule_data_size: 2, max_io_size: 3, io_unit_size: 4,
  max_aq_depth: 5, num_shared_buffers: 6, buf_cache_size: 7, abort_timeout_sec: 8, zcopy: 9, ack_timeout: 10, c2h_success: 11,
} as const;

/** Index of subsystem `nqn`, or an error naming `field`. */
function subsystemIndex(ctx: RpcContext, method: string, nqn: string, field = 'nqn'): number {
  const n = ctx.machine.api.spdk_wasm_nvmf_subsystem_count();
  for (let i = 0; i < n; i++) if (cString(ctx, ctx.machine.api.spdk_wasm_nvmf_subsystem_str(i, 0)) === nqn) return i;
  throw invalidParams(method, field, `names no subsystem: "${nqn}"`, { got: nqn });
}

/** Checks a nested object parameter: known keys, required ones present, strings where strings go. */
function nested(method: string, field: string, v: JsonValue, keys: Record<string, { required?: boolean; type: 'string' | 'uint32' | 'bool'; choices?: string[] }>, unsupported: Record<string, string> = {}): JsonObject {
  if (!isObject(v)) throw invalidParams(method, field, `must be an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (unsupported[k] !== undefined) throw invalidParams(method, `${field}.${k}`, `is not supported by this model: ${unsupported[k]}`);
    if (keys[k] === undefined) throw invalidParams(method, `${field}.${k}`, `is unknown (accepted: ${Object.keys(keys).join(', ')})`);
  }
  for (const [k, spec] of Object.entries(keys)) {
    const x = v[k];
    if (x === undefined) {
      if (spec.required) throw invalidParams(method, `${field}.${k}`, `is required (${spec.type})`);
      continue;
    }
    const ok = spec.type === 'string' ? typeof x === 'string' && x.length > 0
      : spec.type === 'bool' ? typeof x === 'boolean'
        : typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
    if (!ok) throw invalidParams(method, `${field}.${k}`, `must be a ${spec.type === 'string' ? 'non-empty string' : spec.type}, got ${describe(x)}`, { got: x });
    if (spec.choices !== undefined && !spec.choices.some((c) => c.toLowerCase() === String(x).toLowerCase())) {
      throw invalidParams(method, `${field}.${k}`, `must be one of ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(x)}`, { got: x });
    }
  }
  return v;
}

const LISTEN_ADDRESS = {
  trtype: { required: true, type: 'string', choices: ['TCP'] },
  adrfam: { type: 'string', choices: ['IPv4'] },
  traddr: { required: true, type: 'string' },
  trsvcid: { type: 'string' },
} as const;

function listenAddress(ctx: RpcContext, method: string, v: JsonValue): JsonObject {
  const a = nested(method, 'listen_address', v, LISTEN_ADDRESS as never);
  const port = a['trsvcid'] === undefined ? NaN : Number(a['trsvcid']);
  if (a['trsvcid'] !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw invalidParams(method, 'listen_address.trsvcid', `must be a port number 1..65535, got ${describe(a['trsvcid'])}`, { got: a['trsvcid'] as string });
  }
  void ctx;
  return a;
}

export const nvmfCreateTransport = defineMethod({
  name: 'nvmf_create_transport',
  states: RUNTIME,
  params: [
    { name: 'trtype', type: 'string', required: true, doc: 'transport type: "TCP"' },
    TGT_NAME,
    { name: 'max_queue_depth', type: 'uint16', min: 2, max: 4096, doc: 'requests per qpair' },
    { name: 'max_io_qpairs_per_ctrlr', type: 'uint16', choices: [127], why: 'fixed at the default', doc: 'I/O qpairs per controller' },
    { name: 'in_capsule_data_size', type: 'uint32', max: 131072, doc: 'in-capsule data bytes per request' },
    { name: 'max_io_size', type: 'uint32', min: 4096, max: 1 << 20, doc: 'largest I/O (MDTS, ICResp MAXH2CDATA)' },
    { name: 'io_unit_size', type: 'uint32', min: 512, max: 1 << 20, doc: 'shared buffer size' },
    { name: 'max_aq_depth', type: 'uint32', choices: [128], why: 'fixed at the default', doc: 'admin queue depth' },
    { name: 'num_shared_buffers', type: 'uint32', min: 1, max: 65536, doc: 'buffers in the shared pool' },
    { name: 'buf_cache_size', type: 'uint32', doc: 'per-poll-group buffer cache (accepted; the model has one pool)' },
    { name: 'dif_insert_or_strip', type: 'bool', choices: [false], why: 'DIF is not modelled', doc: 'DIF insert/strip' },
    { name: 'zcopy', type: 'bool', doc: 'zero-copy requests to the bdev layer (ZCOPY bdevs)' },
    { name: 'c2h_success', type: 'bool', doc: 'C2HData SUCCESS flag instead of a CapsuleResp' },
    { name: 'sock_priority', type: 'uint32', choices: [0], why: 'SO_PRIORITY is not modelled', doc: 'socket priority' },
    { name: 'abort_timeout_sec', type: 'uint32', choices: [1], why: 'fixed at the default', doc: 'Abort command timeout' },
    { name: 'ack_timeout', type: 'uint32', doc: 'ms between sending data and its ACK: TCP_USER_TIMEOUT of accepted sockets (0 off)' },
    { name: 'data_wr_pool_size', type: 'uint32', choices: [0], why: 'RDMA only', doc: 'RDMA WR pool' },
    { name: 'control_msg_num', type: 'uint32', doc: 'control message buffers (accepted; large admin ICD is allocated here)' },
  ],
  unsupported: {
    max_qpairs_per_ctrlr: 'deprecated upstream; use max_io_qpairs_per_ctrlr',
    disable_command_passthru: 'command passthrough is not modelled',
    psk: 'TLS is not modelled',
    no_srq: 'RDMA only', num_cqe: 'RDMA only', max_srq_depth: 'RDMA only', no_wr_batching: 'RDMA only', acceptor_backlog: 'RDMA only',
  },
  check(_ctx, p) {
    const t = p['trtype'] as string;
    if (!trtypeOk(t)) throw invalidParams(this.name, 'trtype', `must be "TCP" (the only transport modelled), got "${t}"`, { got: t });
    const ius = p['io_unit_size'] as number | undefined;
    const mio = p['max_io_size'] as number | undefined;
    if (ius !== undefined && mio !== undefined && mio > ius * 16) {
      throw invalidParams(this.name, 'io_unit_size', `must be at least max_io_size / 16 (${mio / 16}) so an I/O fits in 16 buffers, got ${ius}`, { got: ius });
    }
  },
  handler(ctx, p) {
    if (ctx.machine.api.spdk_wasm_nvmf_transport_field('TCP', 0) >= 0) {
      throw invalidParams(this.name, 'trtype', 'names a transport that already exists: "TCP"', { got: p['trtype'] as string });
    }
    const b = (k: string): number => (p[k] === undefined ? -1 : p[k] ? 1 : 0);
    const n = (k: string): number => (p[k] as number | undefined) ?? 0;
    const rc = ctx.machine.api.spdk_wasm_nvmf_create_transport('TCP', n('max_queue_depth'), n('in_capsule_data_size'), n('max_io_size'),
      n('io_unit_size'), b('zcopy'), b('c2h_success'), n('ack_timeout'), n('num_shared_buffers'));
    if (rc < 0) throw cCallFailed(this.name, 'spdk_nvmf_transport_create(TCP)', rc);
    return true;
  },
});

export const nvmfGetTransports = defineMethod({
  name: 'nvmf_get_transports',
  states: RUNTIME,
  params: [{ name: 'trtype', type: 'string', doc: 'only this transport' }, TGT_NAME],
  handler(ctx, p) {
    const t = p['trtype'] as string | undefined;
    if (t !== undefined && !trtypeOk(t)) throw invalidParams(this.name, 'trtype', `names no transport: "${t}"`, { got: t });
    if (ctx.machine.api.spdk_wasm_nvmf_transport_field('TCP', 0) < 0) {
      if (t !== undefined) throw invalidParams(this.name, 'trtype', `names no transport: "${t}"`, { got: t });
      return [];
    }
    const out: JsonObject = { trtype: 'TCP' };
    for (const [k, f] of Object.entries(TRANSPORT_FIELD)) {
      const v = ctx.machine.api.spdk_wasm_nvmf_transport_field('TCP', f);
      out[k] = k === 'zcopy' || k === 'c2h_success' ? v === 1 : v;
    }
    return [out];
  },
});

export const nvmfCreateSubsystem = defineMethod({
  name: 'nvmf_create_subsystem',
  states: RUNTIME,
  params: [
    NQN,
    TGT_NAME,
    { name: 'serial_number', type: 'string', min: 1, max: 20, doc: 'controller serial number' },
    { name: 'model_number', type: 'string', min: 1, max: 40, doc: 'controller model number' },
    { name: 'allow_any_host', type: 'bool', doc: 'any host NQN may connect' },
    { name: 'max_namespaces', type: 'uint32', max: 32, why: 'the model holds 32 namespaces', doc: 'namespaces (0: the maximum)' },
    { name: 'ana_reporting', type: 'bool', choices: [false], why: 'ANA is not modelled', doc: 'ANA reporting' },
    { name: 'min_cntlid', type: 'uint16', choices: [1], why: 'controller ids start at 1', doc: 'lowest cntlid' },
    { name: 'max_cntlid', type: 'uint16', choices: [0xffef], why: 'the default range', doc: 'highest cntlid' },
  ],
  unsupported: { passthrough: 'passthrough subsystems are not modelled', max_discard_size_kib: 'DSM is not modelled', max_write_zeroes_size_kib: 'Write Zeroes is not modelled' },
  check(_ctx, p) {
    nqnOk(this.name, 'nqn', p['nqn'] as string);
    for (const k of ['serial_number', 'model_number']) {
      const v = p[k] as string | undefined;
      if (v !== undefined && !/^[\x20-\x7e]+$/.test(v)) throw invalidParams(this.name, k, `must be printable ASCII, got ${describe(v)}`, { got: v });
    }
  },
  handler(ctx, p) {
    const nqn = p['nqn'] as string;
    if (subsystemExists(ctx, nqn)) throw invalidParams(this.name, 'nqn', `names a subsystem that already exists: "${nqn}"`, { got: nqn });
    const rc = ctx.machine.api.spdk_wasm_nvmf_create_subsystem_ext(nqn, p['allow_any_host'] === true ? 1 : 0,
      (p['serial_number'] as string | undefined) ?? '', (p['model_number'] as string | undefined) ?? '', (p['max_namespaces'] as number | undefined) ?? 0);
    if (rc < 0) throw cCallFailed(this.name, `spdk_nvmf_subsystem_create(${nqn})`, rc);
    return true;
  },
});

function subsystemExists(ctx: RpcContext, nqn: string): boolean {
  const n = ctx.machine.api.spdk_wasm_nvmf_subsystem_count();
  for (let i = 0; i < n; i++) if (cString(ctx, ctx.machine.api.spdk_wasm_nvmf_subsystem_str(i, 0)) === nqn) return true;
  return false;
}

/** lib/nvmf/nvmf_rpc.c rpc_nvmf_delete_subsystem. The model refuses a subsystem with connected
 *  controllers (upstream disconnects them first); the transport keeps listening. */
export const nvmfDeleteSubsystem = defineMethod({
  name: 'nvmf_delete_subsystem',
  states: RUNTIME,
  params: [NQN, TGT_NAME],
  handler(ctx, p) {
    const nqn = p['nqn'] as string;
    subsystemIndex(ctx, this.name, nqn);
    const rc = ctx.machine.api.spdk_wasm_nvmf_delete_subsystem(nqn);
    if (rc < 0) throw cCallFailed(this.name, `spdk_nvmf_subsystem_destroy(${nqn})`, rc);
    return true;
  },
});

export const nvmfSubsystemAddListener = defineMethod({
  name: 'nvmf_subsystem_add_listener',
  states: RUNTIME,
  params: [
    NQN,
    TGT_NAME,
    { name: 'listen_address', type: 'object', required: true, doc: '{trtype, adrfam, traddr, trsvcid}' },
    { name: 'secure_channel', type: 'bool', choices: [false], why: 'TLS is not modelled', doc: 'TLS' },
    { name: 'ana_state', type: 'string', choices: ['optimized'], why: 'ANA is not modelled', doc: 'ANA state' },
  ],
  unsupported: { anagrpid: 'ANA is not modelled', sock_impl: 'only the posix sock module is built' },
  check(ctx, p) {
    listenAddress(ctx, this.name, p['listen_address']!);
  },
  handler(ctx, p) {
    const nqn = p['nqn'] as string;
    subsystemIndex(ctx, this.name, nqn);
    const a = p['listen_address'] as JsonObject;
    const rc = ctx.machine.api.spdk_wasm_nvmf_subsystem_add_listener(nqn, a['traddr'] as string, (a['trsvcid'] as string | undefined) ?? '4420');
    if (rc === -22 && ctx.machine.api.spdk_wasm_nvmf_transport_field('TCP', 0) < 0) {
      throw invalidParams(this.name, 'listen_address.trtype', 'names a transport not created yet (call nvmf_create_transport first)', { got: 'TCP' });
    }
    if (rc < 0) throw cCallFailed(this.name, `spdk_nvmf_subsystem_add_listener(${a['traddr'] as string}:${(a['trsvcid'] as string | undefined) ?? '4420'})`, rc);
    return true;
  },
});

export const nvmfSubsystemAddNs = defineMethod({
  name: 'nvmf_subsystem_add_ns',
  states: RUNTIME,
  params: [
    NQN,
    TGT_NAME,
    { name: 'namespace', type: 'object', required: true, doc: '{bdev_name, nsid}' },
  ],
  check(_ctx, p) {
    nested(this.name, 'namespace', p['namespace']!, { bdev_name: { required: true, type: 'string' }, nsid: { type: 'uint32' }, no_auto_visible: { type: 'bool' } },
      { uuid: 'namespace UUIDs are not modelled', nguid: 'NGUIDs are not modelled', eui64: 'EUI64s are not modelled', ptpl_file: 'reservations are not modelled', anagrpid: 'ANA is not modelled' });
    const ns = p['namespace'] as JsonObject;
    if (ns['no_auto_visible'] === true) throw invalidParams(this.name, 'namespace.no_auto_visible', 'must be false (namespace masking is not modelled)');
    const nsid = ns['nsid'] as number | undefined;
    if (nsid !== undefined && nsid > 32) throw invalidParams(this.name, 'namespace.nsid', `must be 0..32 (the model holds 32 namespaces), got ${nsid}`, { got: nsid });
  },
  handler(ctx, p) {
    const nqn = p['nqn'] as string;
    subsystemIndex(ctx, this.name, nqn);
    const ns = p['namespace'] as JsonObject;
    const bdev = ns['bdev_name'] as string;
    if (!bdevExists(ctx, bdev)) throw invalidParams(this.name, 'namespace.bdev_name', `names no bdev: "${bdev}"`, { got: bdev });
    const rc = ctx.machine.api.spdk_wasm_nvmf_subsystem_add_ns(nqn, bdev, (ns['nsid'] as number | undefined) ?? 0);
    if (rc < 0) {
      if (ns['nsid'] !== undefined) throw invalidParams(this.name, 'namespace.nsid', `is invalid or already in use in ${nqn}, got ${ns['nsid'] as number}`, { got: ns['nsid'] as number });
      throw cCallFailed(this.name, `spdk_nvmf_subsystem_add_ns_ext(${nqn}, ${bdev})`, rc);
    }
    return rc;
  },
});

export const nvmfSubsystemAddHost = defineMethod({
  name: 'nvmf_subsystem_add_host',
  states: RUNTIME,
  params: [NQN, TGT_NAME, { name: 'host', type: 'string', required: true, min: 11, max: 223, doc: 'host NQN allowed to connect' }],
  unsupported: { psk: 'TLS is not modelled', dhchap_key: 'DH-CHAP is not modelled', dhchap_ctrlr_key: 'DH-CHAP is not modelled' },
  check(_ctx, p) {
    nqnOk(this.name, 'host', p['host'] as string);
  },
  handler(ctx, p) {
    const nqn = p['nqn'] as string;
    subsystemIndex(ctx, this.name, nqn);
    const rc = ctx.machine.api.spdk_wasm_nvmf_subsystem_add_host(nqn, p['host'] as string);
    if (rc < 0) throw cCallFailed(this.name, `spdk_nvmf_subsystem_add_host(${nqn})`, rc);
    return true;
  },
});

export const nvmfGetSubsystems = defineMethod({
  name: 'nvmf_get_subsystems',
  states: RUNTIME,
  params: [TGT_NAME, { name: 'nqn', type: 'string', doc: 'only this subsystem' }],
  handler(ctx, p) {
    const api = ctx.machine.api;
    const want = p['nqn'] as string | undefined;
    const idxs = want !== undefined ? [subsystemIndex(ctx, this.name, want)] : Array.from({ length: api.spdk_wasm_nvmf_subsystem_count() }, (_, i) => i);
    return idxs.map((i): JsonObject => {
      const num = (f: number): number => api.spdk_wasm_nvmf_subsystem_num(i, f);
      const str = (f: number): string => cString(ctx, api.spdk_wasm_nvmf_subsystem_str(i, f)) ?? '';
      return {
        nqn: str(0),
        subtype: str(1),
        listen_addresses: Array.from({ length: num(3) }, (_, l) => ({ trtype: 'TCP', adrfam: 'IPv4', traddr: str(200 + l), trsvcid: str(300 + l) })),
        allow_any_host: num(0) === 1,
        hosts: Array.from({ length: num(2) }, (_, h) => ({ nqn: str(100 + h) })),
        serial_number: str(2),
        model_number: str(3),
        max_namespaces: num(1),
        min_cntlid: 1,
        max_cntlid: 0xffef,
        namespaces: Array.from({ length: num(4) }, (_, n) => ({ nsid: num(100 + n), bdev_name: str(400 + n), name: str(400 + n) })),
      };
    });
  },
});

/** SPDK's nvmf_qpair_state_str. */
const QPAIR_STATE = ['uninitialized', 'connecting', 'authenticating', 'enabled', 'deactivating', 'error'];

export const nvmfSubsystemGetQpairs = defineMethod({
  name: 'nvmf_subsystem_get_qpairs',
  states: RUNTIME,
  params: [NQN, TGT_NAME],
  handler(ctx, p) {
    const api = ctx.machine.api;
    const nqn = p['nqn'] as string;
    subsystemIndex(ctx, this.name, nqn);
    const out: JsonObject[] = [];
    const n = api.spdk_wasm_nvmf_tcp_qpair_count();
    for (let i = 0; i < n; i++) {
      const tq = api.spdk_wasm_nvmf_tcp_qpair_get(i);
      if (cString(ctx, api.spdk_wasm_nvmf_tcp_qpair_str(tq, 2)) !== nqn) continue;
      out.push({
        cntlid: api.spdk_wasm_nvmf_tcp_qpair_field(tq, 6),
        qid: api.spdk_wasm_nvmf_tcp_qpair_field(tq, 0),
        state: QPAIR_STATE[api.spdk_wasm_nvmf_tcp_qpair_field(tq, 1)] ?? 'unknown',
        thread: 'nvmf_tgt_poll_group_000',
        listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: cString(ctx, api.spdk_wasm_nvmf_tcp_qpair_str(tq, 0)) ?? '', trsvcid: String(api.spdk_wasm_nvmf_tcp_qpair_port(tq, 0)) },
        peer_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: cString(ctx, api.spdk_wasm_nvmf_tcp_qpair_str(tq, 1)) ?? '', trsvcid: String(api.spdk_wasm_nvmf_tcp_qpair_port(tq, 1)) },
      });
    }
    return out;
  },
});

export const NVMF_RPC_METHODS = [
  nvmfCreateTransport, nvmfGetTransports, nvmfCreateSubsystem, nvmfDeleteSubsystem, nvmfSubsystemAddListener, nvmfSubsystemAddNs,
  nvmfSubsystemAddHost, nvmfGetSubsystems, nvmfSubsystemGetQpairs,
] as const;
