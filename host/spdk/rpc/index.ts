/**
 * Every JSON-RPC method the model serves. To add one: write `host/spdk/rpc/<area>.ts` exporting
 * `defineMethod({ name, states, params, unsupported?, check?, handler })` (see sock.ts) and list it
 * below. The server validates parameters from the declaration; the handler only calls the C.
 */
import type { SpdkMachine } from '../machine.js';
import { RpcRegistry, RpcServer, type RpcState } from '../jsonrpc.js';
import { BDEV_RPC_METHODS } from './bdev.js';
import { BDEV_NVME_RPC_METHODS } from './bdev-nvme.js';
import { frameworkStartInit } from './framework.js';
import { LVOL_RPC_METHODS } from './lvol.js';
import { NVMF_RPC_METHODS } from './nvmf.js';
import { rpcGetMethods } from './rpc.js';
import { sockImplGetOptions, sockImplSetOptions } from './sock.js';

export const SPDK_RPC_METHODS = [
  rpcGetMethods,
  frameworkStartInit,
  sockImplSetOptions,
  sockImplGetOptions,
  ...LVOL_RPC_METHODS,
  ...BDEV_RPC_METHODS,
  ...NVMF_RPC_METHODS,
  ...BDEV_NVME_RPC_METHODS,
] as const;

/** A fresh registry holding SPDK_RPC_METHODS (tests may register more on their own copy). */
export function spdkRpcRegistry(): RpcRegistry {
  return new RpcRegistry().register(...SPDK_RPC_METHODS);
}

const shared = spdkRpcRegistry();

/** The JSON-RPC server of one machine, starting in `state` (default 'startup', as --wait-for-rpc). */
export function createRpcServer(machine: SpdkMachine, opts: { state?: RpcState; registry?: RpcRegistry } = {}): RpcServer {
  return new RpcServer(machine, { registry: opts.registry ?? shared, state: opts.state });
}
