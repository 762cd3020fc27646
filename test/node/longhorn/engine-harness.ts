/** One SPDK machine with an lvstore, and a Longhorn engine Server on its JSON-RPC server. */
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { Server, type ServerOptions } from '../../../host/longhorn/spdk-engine/server.js';
import { utMachine } from '../support/ut.js';
import type { TaskBody } from '../../../host/explore/task.js';
import { raceClient, serverOptions, type ClientResult } from '../../../host/scenarios/replica-verify-race-model.js';

/** b789d730^ (insert before create), PR #288, f01edc84 (verify unlocked), PR #516 (replicaMapGen). */
export const UNPATCHED = serverOptions('9953', false);
export const PATCHED = serverOptions('9953', true);
export const UNLOCKED_VERIFY = serverOptions('13074', false);
export const UNLOCKED_VERIFY_GEN = serverOptions('13074', true);

export const IP = '192.0.2.10';
export const MiB = 1 << 20;

export async function engineServer(opts: ServerOptions) {
  const { m } = await utMachine();
  const rpc = createRpcServer(m, { state: 'runtime' });
  rpc.call('bdev_mem_create', { name: 'Mem0', num_blocks: 16384, block_size: 4096 });
  const lvsUuid = rpc.call('bdev_lvol_create_lvstore', { bdev_name: 'Mem0', lvs_name: 'lvs0', cluster_sz: MiB }) as string;
  const s = new Server(rpc, { ...opts, ip: IP, portStart: 20001, portEnd: 20010 });
  return { m, rpc, s, lvsUuid };
}

export const createReq = (name: string) => ({ name, lvsName: 'lvs0', specSize: 8 * MiB, portCount: 2 });

/** The scenario's client task (ReplicaCreate with the tick, ReplicaGet, EngineCreate). */
export const client = (s: Server): TaskBody<ClientResult> => raceClient(s);
export type { ClientResult };
