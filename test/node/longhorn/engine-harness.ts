/** One SPDK machine with an lvstore, and a Longhorn engine Server on its JSON-RPC server. */
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { Server, type ServerOptions } from '../../../host/longhorn/spdk-engine/server.js';
import { utMachine } from '../support/ut.js';

export const UNPATCHED: ServerOptions = { replicaInsert: 'before-create', verifyLock: 'held', replicaMapGen: false };
export const PATCHED: ServerOptions = { replicaInsert: 'after-create', verifyLock: 'held', replicaMapGen: false };
export const UNLOCKED_VERIFY: ServerOptions = { replicaInsert: 'after-create', verifyLock: 'released', replicaMapGen: false };
export const UNLOCKED_VERIFY_GEN: ServerOptions = { replicaInsert: 'after-create', verifyLock: 'released', replicaMapGen: true };

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
