/** One SPDK machine with an lvstore, and a Longhorn engine Server on its JSON-RPC server. */
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { MONITOR_INTERVAL_US, Server, type ServerOptions } from '../../../host/longhorn/spdk-engine/server.js';
import { utMachine } from '../support/ut.js';
import { sleep, type TaskBody } from '../../../host/explore/task.js';
import type { ReplicaInfo } from '../../../host/longhorn/spdk-engine/replica.js';
import type { EngineInfo } from '../../../host/longhorn/spdk-engine/engine.js';

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

export interface ClientResult {
  created: ReplicaInfo;
  /** ReplicaGet right after ReplicaCreate returned: the info, or the error. */
  got: ReplicaInfo | Error;
  engine: EngineInfo | Error;
}

/** The test's client: its ReplicaCreate arrives as verify's ticker fires, then ReplicaGet, then
 *  EngineCreate over the replica at the address ReplicaCreate returned. */
export function* client(s: Server, name = 'r1'): TaskBody<ClientResult> {
  yield* sleep(MONITOR_INTERVAL_US, 'request arrives with the tick');
  const created = yield* s.replicaCreate(createReq(name));
  let got: ReplicaInfo | Error;
  try {
    got = yield* s.replicaGet(name);
  } catch (e) {
    got = e as Error;
  }
  let engine: EngineInfo | Error;
  try {
    engine = yield* s.engineCreate({ name: `${name}-engine`, volumeName: 'vol', specSize: 8 * MiB, frontend: '', replicaAddressMap: { [name]: `${created.ip}:${created.portStart}` } });
  } catch (e) {
    engine = e as Error;
  }
  return { created, got, engine };
}
