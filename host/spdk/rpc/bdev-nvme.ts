/**
 * module/bdev/nvme/bdev_nvme_rpc.c: `bdev_nvme_attach_controller` (SPDK_RPC_RUNTIME) on the
 * initiator (lib/nvme and its bdev_nvme-like attach layer, wasm/app/bdevperf/nvme_bdev_ctrlr.c),
 * and the bdevs an attached controller exposes, one per active namespace named <name>n<nsid>,
 * as bdev_get_bdevs reports them (bdev_nvme_dump_info_json's driver_specific.nvme, in part).
 */
import { cCallFailed, defineMethod, invalidParams, RUNTIME, type JsonObject, type JsonValue, type RpcContext, type RpcParams } from '../jsonrpc.js';
import { nqnOk, trtypeOk } from './shared.js';

interface Attached {
  /** spdk_wasm_nvme_attach's controller id. */
  id: number;
  trid: { trtype: string; adrfam: string; traddr: string; trsvcid: string; subnqn: string };
}

/** Controllers attached by name, per machine (bdev_nvme's nvme_bdev_ctrlr names). */
const attached = new WeakMap<object, Map<string, Attached>>();

export function attachedControllers(ctx: RpcContext): Map<string, Attached> {
  let m = attached.get(ctx.machine);
  if (m === undefined) {
    m = new Map();
    attached.set(ctx.machine, m);
  }
  return m;
}

export const bdevNvmeAttachController = defineMethod({
  name: 'bdev_nvme_attach_controller',
  states: RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, max: 64, doc: 'controller name; its namespace bdevs are <name>n<nsid>' },
    { name: 'trtype', type: 'string', required: true, doc: '"TCP"' },
    { name: 'traddr', type: 'string', required: true, min: 1, doc: 'target address' },
    { name: 'adrfam', type: 'string', choices: ['IPv4', 'ipv4'], why: 'only IPv4 is modelled', doc: 'address family' },
    { name: 'trsvcid', type: 'string', min: 1, doc: 'target port (default 4420)' },
    { name: 'subnqn', type: 'string', min: 11, max: 223, doc: 'subsystem NQN' },
    { name: 'hostnqn', type: 'string', min: 11, max: 223, doc: 'host NQN' },
    { name: 'hdgst', type: 'bool', doc: 'header digests' },
    { name: 'ddgst', type: 'bool', doc: 'data digests' },
    { name: 'reconnect_delay_sec', type: 'uint32', max: 3600, doc: 'seconds between reconnect attempts' },
    { name: 'ctrlr_loss_timeout_sec', type: 'int32', min: -1, doc: 'seconds of reconnecting before the controller is deleted (-1 forever)' },
    { name: 'fast_io_fail_timeout_sec', type: 'uint32', choices: [0], why: 'I/O is failed by the reconnect policy only', doc: 'I/O fail timeout' },
    { name: 'multipath', type: 'string', choices: ['disable'], why: 'multipath is not modelled', doc: 'multipath mode' },
  ],
  unsupported: { psk: 'TLS is not modelled', dhchap_key: 'DH-CHAP is not modelled', dhchap_ctrlr_key: 'DH-CHAP is not modelled', hostaddr: 'source addresses are chosen by the kernel', hostsvcid: 'source ports are chosen by the kernel', prchk_reftag: 'DIF is not modelled', prchk_guard: 'DIF is not modelled' },
  check(_ctx, p) {
    const t = p['trtype'] as string;
    if (!trtypeOk(t)) throw invalidParams(this.name, 'trtype', `must be "TCP" (the only transport modelled), got "${t}"`, { got: t });
    if (p['subnqn'] !== undefined) nqnOk(this.name, 'subnqn', p['subnqn'] as string);
    if (p['hostnqn'] !== undefined) nqnOk(this.name, 'hostnqn', p['hostnqn'] as string);
    const svc = p['trsvcid'] as string | undefined;
    if (svc !== undefined && !(Number.isInteger(Number(svc)) && Number(svc) > 0 && Number(svc) < 65536)) {
      throw invalidParams(this.name, 'trsvcid', `must be a port number 1..65535, got "${svc}"`, { got: svc });
    }
  },
  handler(ctx, p: RpcParams) {
    const name = p['name'] as string;
    const ctrls = attachedControllers(ctx);
    if (ctrls.has(name)) throw invalidParams(this.name, 'name', `names a controller that already exists: "${name}"`, { got: name });
    const trid = {
      trtype: 'TCP', adrfam: 'IPv4', traddr: p['traddr'] as string, trsvcid: (p['trsvcid'] as string | undefined) ?? '4420',
      subnqn: (p['subnqn'] as string | undefined) ?? 'nqn.2016-06.io.spdk:cnode1',
    };
    const flags = (p['hdgst'] === true ? 1 : 0) | (p['ddgst'] === true ? 2 : 0);
    const delayMs = ((p['reconnect_delay_sec'] as number | undefined) ?? 0) * 1000;
    const loss = (p['ctrlr_loss_timeout_sec'] as number | undefined) ?? 0;
    const maxReconnects = loss < 0 ? 0xffffffff : delayMs > 0 ? Math.floor((loss * 1000) / delayMs) : 0;
    const id = ctx.machine.api.spdk_wasm_nvme_attach(trid.traddr, trid.trsvcid, trid.subnqn, (p['hostnqn'] as string | undefined) ?? '',
      flags, 0, 10_000, delayMs, maxReconnects, 0);
    if (id < 0) throw cCallFailed(this.name, `spdk_nvme_connect(${trid.traddr})`, id);
    ctrls.set(name, { id, trid });
    // Upstream answers once the controller is attached, with a bdev per namespace. Here the
    // attach runs as the world polls (spdk_wasm_nvme_ctrlr_field(id, 0) reaches READY), so the
    // answer names namespace 1; bdev_get_bdevs lists every namespace once they are known.
    return [`${name}n1`];
  },
});

/** enum nvme_bdev_ctrlr_state values whose controller has its identify data (its bdevs exist). */
const CTRLR_UP: ReadonlySet<number> = new Set([1 /* CONNECTING_IO */, 2 /* READY */, 3 /* RESETTING */]);

/** Fixed-size, space-padded ASCII field of identify data. */
function ascii(ctx: RpcContext, at: number, len: number): string {
  return new TextDecoder().decode(ctx.machine.mem.read(at, len)).replace(/[\0 ]+$/, '');
}

/** bdev_get_bdevs entries of the NVMe bdevs: every active namespace of every controller that is
 *  up, in attach order then nsid order. */
export function nvmeBdevs(ctx: RpcContext): JsonObject[] {
  const api = ctx.machine.api;
  const mem = ctx.machine.mem;
  const out: JsonObject[] = [];
  for (const [name, { id, trid }] of attachedControllers(ctx)) {
    const cdata = api.spdk_wasm_nvme_ctrlr_data(id);
    if (!CTRLR_UP.has(api.spdk_wasm_nvme_ctrlr_field(id, 0)) || cdata === 0) continue;
    const ctrlrData: JsonObject = {
      cntlid: mem.u16(cdata + 78),
      vendor_id: `0x${mem.u16(cdata).toString(16).padStart(4, '0')}`,
      model_number: ascii(ctx, cdata + 24, 40),
      serial_number: ascii(ctx, cdata + 4, 20),
      firmware_revision: ascii(ctx, cdata + 64, 8),
      subnqn: ascii(ctx, cdata + 768, 256),
    };
    const nn = mem.u32(cdata + 516);
    for (let nsid = 1; nsid <= nn; nsid++) {
      const ns = api.spdk_wasm_nvme_ns_data(id, nsid);
      if (ns === 0) continue;
      const nsze = mem.u32(ns) + mem.u32(ns + 4) * 2 ** 32;
      if (nsze === 0) continue;
      const lbaf = ns + 128 + 4 * (mem.bytes()[ns + 26]! & 0xf);
      out.push({
        name: `${name}n${nsid}`,
        aliases: [],
        product_name: 'NVMe disk',
        block_size: 2 ** mem.bytes()[lbaf + 2]!,
        num_blocks: nsze,
        supported_io_types: { read: true, write: true, flush: true, unmap: false, write_zeroes: false, reset: true, zcopy: false } as JsonValue,
        driver_specific: { nvme: [{ trid: { ...trid }, ctrlr_data: ctrlrData, ns_data: { id: nsid } }] },
      });
    }
  }
  return out;
}

export const BDEV_NVME_RPC_METHODS = [bdevNvmeAttachController] as const;
