/**
 * longhorn-spdk-engine pkg/spdk/server.go: the replica and engine maps behind one sync.RWMutex,
 * the gRPC handlers the race involves, and monitoring() running verify() every MonitorInterval
 * (3 s of simulated time). Each handler and goroutine is a task (host/explore/task.ts).
 *
 * Three upstream versions are selectable, so one scenario replays all of them:
 * - `replicaInsert: 'before-create'` (b789d730^): ReplicaCreate puts the pending replica in
 *   replicaMap before its lvol exists; 'after-create' (PR #288, b789d730): a deferred insert after
 *   Replica.Create returns, even when it failed.
 * - `verifyLock: 'held'`: verify holds the server lock across its SPDK calls; 'released'
 *   (f01edc84): it copies the maps, unlocks for the calls, and locks again to write back.
 * - `replicaMapGen` (PR #516, d85f82bf): ReplicaCreate/ReplicaDelete bump a counter; a verify
 *   that saw it change while unlocked does not write its stale map back.
 */
import { lock, reads, sleep, step, unlock, writes, type TaskBody } from '../../explore/task.js';
import type { RpcServer } from '../../spdk/jsonrpc.js';
import { Engine, subsystemMap, type EngineInfo } from './engine.js';
import { alreadyExists, errorText, invalidArgument, notFound } from './errors.js';
import { ENGINE_MAP, REPLICA_MAP, SERVER_LOCK, SPDK_BDEV, SPDK_LVS, SPDK_NVMF } from './objects.js';
import { PortAllocator } from './port-allocator.js';
import { lvolBdevsOf, Replica, type ReplicaInfo } from './replica.js';
import { SpdkClient, type BdevInfo } from './spdk-client.js';
import { FRONTENDS, isBackingImageSnapshotLvol, isReplicaLvol, lvolNameFromAlias, MiB, rebuildingLvolName, type Frontend } from './types.js';

/** MonitorInterval. */
export const MONITOR_INTERVAL_US = 3_000_000;

export interface ServerOptions {
  replicaInsert: 'before-create' | 'after-create';
  verifyLock: 'held' | 'released';
  replicaMapGen: boolean;
  /** The node's IP: replicas listen here. */
  ip?: string;
  portStart?: number;
  portEnd?: number;
}

export interface ReplicaCreateRequest {
  name: string;
  lvsName?: string;
  lvsUuid?: string;
  specSize: number;
  portCount?: number;
  backingImageName?: string;
}

export interface EngineCreateRequest {
  name: string;
  volumeName: string;
  specSize: number;
  frontend: Frontend;
  replicaAddressMap: Record<string, string>;
}

export class Server {
  replicaMap = new Map<string, Replica>();
  readonly engineMap = new Map<string, Engine>();
  /** bi-<name>-disk-<lvsUUID> -> the snapshot lvol's alias. */
  readonly backingImageMap = new Map<string, string>();
  replicaMapGen = 0;
  readonly spdk: SpdkClient;
  readonly ports: PortAllocator;
  readonly ip: string;
  /** What verify decided, in order (adoptions, deletions, skipped write-backs). */
  readonly log: string[] = [];
  private serial = 0;

  constructor(rpc: RpcServer, readonly opts: ServerOptions) {
    this.spdk = new SpdkClient(rpc);
    this.ip = opts.ip ?? '127.0.0.1';
    this.ports = new PortAllocator(opts.portStart ?? 20001, opts.portEnd ?? 30000);
    // spdk_tgt as the instance manager starts it: one TCP transport for every export.
    if (this.spdk.nvmfGetTransports().length === 0) this.spdk.nvmfCreateTransport();
  }

  /** NewReplica with an identity of its own (two objects of one name are told apart). */
  private newReplica(name: string, lvsName: string, lvsUuid: string, specSize: number): Replica {
    return new Replica(`${name}#${++this.serial}`, name, lvsName, lvsUuid, specSize);
  }

  *replicaCreate(req: ReplicaCreateRequest): TaskBody<ReplicaInfo> {
    if (req.name === '') throw invalidArgument('replica name is required');
    if ((req.lvsName ?? '') === '' && (req.lvsUuid ?? '') === '') throw invalidArgument('lvs name or lvs UUID are required');
    if (!Number.isSafeInteger(req.specSize) || req.specSize <= 0) throw invalidArgument(`replica spec size must be a positive number of bytes, got ${req.specSize}`);
    const portCount = req.portCount ?? 1;
    if (!Number.isInteger(portCount) || portCount < 1) throw invalidArgument(`replica port count must be at least 1, got ${portCount}`);

    let r: Replica;
    yield* lock(SERVER_LOCK);
    try {
      yield* step('replicaMap.get', [reads(REPLICA_MAP)]);
      const known = this.replicaMap.get(req.name);
      if (known !== undefined) r = known;
      else {
        yield* step('bdev_lvol_get_lvstores', [reads(SPDK_LVS)]);
        const lvs = this.spdk.bdevLvolGetLvstores().find((l) => l.name === req.lvsName || l.uuid === req.lvsUuid);
        if (lvs === undefined) throw notFound(`cannot find lvstore ${req.lvsName || req.lvsUuid} for replica ${req.name}`);
        r = this.newReplica(req.name, lvs.name, lvs.uuid, req.specSize);
        if (this.opts.replicaInsert === 'before-create') yield* this.putReplica(r);
      }
    } finally {
      yield* unlock(SERVER_LOCK);
    }
    if (this.opts.replicaInsert === 'before-create') return yield* this.createReplica(r, req, portCount);
    // PR #288: registered before the backing-image lookup, so it runs on every path below.
    try {
      return yield* this.createReplica(r, req, portCount);
    } finally {
      yield* lock(SERVER_LOCK);
      yield* this.putReplica(r);
      yield* unlock(SERVER_LOCK);
    }
  }

  private *createReplica(r: Replica, req: ReplicaCreateRequest, portCount: number): TaskBody<ReplicaInfo> {
    let backingImageSnapshot: string | undefined;
    if (req.backingImageName !== undefined && req.backingImageName !== '') {
      yield* lock(SERVER_LOCK, true);
      yield* step('backingImageMap.get', [reads('backingImageMap')]);
      backingImageSnapshot = this.backingImageMap.get(backingImageKey(req.backingImageName, r.lvsUuid));
      yield* unlock(SERVER_LOCK, true);
      if (backingImageSnapshot === undefined) throw notFound(`cannot find backing image ${req.backingImageName} in lvstore ${r.lvsUuid} for replica ${req.name}`);
    }
    return yield* r.create({ spdk: this.spdk, ports: this.ports, ip: this.ip, portCount, backingImageSnapshot });
  }

  /** replicaMap[name] = r, caller holding the server lock. */
  private *putReplica(r: Replica): TaskBody {
    yield* step('replicaMap.set', [writes(REPLICA_MAP)]);
    this.replicaMap.set(r.name, r);
    if (this.opts.replicaMapGen) this.replicaMapGen++;
  }

  *replicaDelete(name: string, cleanupRequired: boolean): TaskBody {
    if (name === '') throw invalidArgument('replica name is required');
    yield* lock(SERVER_LOCK, true);
    yield* step('replicaMap.get', [reads(REPLICA_MAP)]);
    const r = this.replicaMap.get(name);
    yield* unlock(SERVER_LOCK, true);
    if (r !== undefined) yield* r.delete(this.spdk, this.ports, cleanupRequired);
    if (!cleanupRequired) return;
    yield* lock(SERVER_LOCK);
    yield* step('replicaMap.delete', [writes(REPLICA_MAP)]);
    if (this.replicaMap.get(name) === r) this.replicaMap.delete(name);
    if (this.opts.replicaMapGen) this.replicaMapGen++;
    yield* unlock(SERVER_LOCK);
  }

  *replicaGet(name: string): TaskBody<ReplicaInfo> {
    if (name === '') throw invalidArgument('replica name is required');
    yield* lock(SERVER_LOCK, true);
    yield* step('replicaMap.get', [reads(REPLICA_MAP)]);
    const r = this.replicaMap.get(name);
    yield* unlock(SERVER_LOCK, true);
    if (r === undefined) throw notFound(`cannot find replica ${name}`);
    return yield* r.get();
  }

  *engineCreate(req: EngineCreateRequest): TaskBody<EngineInfo> {
    if (req.name === '' || req.volumeName === '') throw invalidArgument('engine name and volume name are required');
    if (!Number.isSafeInteger(req.specSize) || req.specSize <= 0) throw invalidArgument(`engine spec size is required, got ${req.specSize}`);
    if (!(FRONTENDS as readonly string[]).includes(req.frontend)) throw invalidArgument(`engine frontend ${JSON.stringify(req.frontend)} must be one of ${FRONTENDS.map((f) => JSON.stringify(f)).join(', ')}`);
    let e: Engine;
    yield* lock(SERVER_LOCK);
    try {
      yield* step('engineMap.set', [writes(ENGINE_MAP)]);
      if (this.engineMap.has(req.name)) throw alreadyExists(`engine ${req.name} already exists`);
      e = new Engine(req.name, req.volumeName, req.frontend, req.specSize);
      this.engineMap.set(req.name, e);
    } finally {
      yield* unlock(SERVER_LOCK);
    }
    return yield* e.create(this.spdk, new Map(Object.entries(req.replicaAddressMap)), (n) => this.replicaGet(n));
  }

  *engineGet(name: string): TaskBody<EngineInfo> {
    yield* lock(SERVER_LOCK, true);
    yield* step('engineMap.get', [reads(ENGINE_MAP)]);
    const e = this.engineMap.get(name);
    yield* unlock(SERVER_LOCK, true);
    if (e === undefined) throw notFound(`cannot find engine ${name}`);
    return yield* e.get();
  }

  /** monitoring(): `ticks` rounds of MonitorInterval then verify; a failed verify is logged. */
  *monitoring(ticks: number): TaskBody {
    for (let i = 0; i < ticks; i++) {
      yield* sleep(MONITOR_INTERVAL_US, 'MonitorInterval');
      try {
        yield* this.verify();
      } catch (e) {
        this.log.push(`verify failed: ${errorText(e)}`);
      }
    }
  }

  /** verify(): rebuild replicaMap from SPDK's lvols (spec §5.2), then sync replicas and engines. */
  *verify(): TaskBody {
    const held = this.opts.verifyLock === 'held';
    yield* lock(SERVER_LOCK);
    let locked = true;
    let lvols: Map<string, BdevInfo>;
    let subsystems: ReturnType<typeof subsystemMap>;
    let forSync: Map<string, Replica>;
    let engines: Engine[];
    try {
      yield* step('replicaMap.copy', [reads(REPLICA_MAP), reads(ENGINE_MAP)]);
      const replicaMap = new Map(this.replicaMap);
      forSync = new Map(this.replicaMap);
      engines = [...this.engineMap.values()];
      const gen = this.replicaMapGen;
      if (!held) {
        yield* unlock(SERVER_LOCK);
        locked = false;
      }
      yield* step('bdev_get_bdevs', [reads(SPDK_BDEV)]);
      const bdevs = this.spdk.bdevGetBdevs();
      yield* step('bdev_lvol_get_lvstores', [reads(SPDK_LVS)]);
      const lvsNames = new Map(this.spdk.bdevLvolGetLvstores().map((l) => [l.uuid, l.name]));
      yield* step('nvmf_get_subsystems', [reads(SPDK_NVMF)]);
      subsystems = subsystemMap(this.spdk.nvmfGetSubsystems());
      lvols = lvolBdevsOf(bdevs, '');

      for (const [name, b] of lvols) this.adopt(replicaMap, forSync, name, b, lvsNames);
      for (const [name, r] of [...replicaMap]) {
        if (lvols.has(name)) continue;
        // Blocks on r.RLock while r.Create holds r.Lock, and still decides with the old list.
        if (yield* r.isRebuilding()) continue;
        if ([...lvols.keys()].some((l) => isReplicaLvol(name, l))) continue;
        this.log.push(`verify: replica ${r.id} has no lvol: deleted from replicaMap`);
        replicaMap.delete(name);
        forSync.delete(name);
      }

      if (!held) {
        yield* lock(SERVER_LOCK);
        locked = true;
      }
      yield* step('replicaMap.replace', [writes(REPLICA_MAP)]);
      if (this.opts.replicaMapGen && this.replicaMapGen !== gen) {
        this.log.push(`verify: replicaMapGen moved ${gen} -> ${this.replicaMapGen}: stale map not written back`);
      } else {
        this.replicaMap = replicaMap;
      }
    } finally {
      if (locked) yield* unlock(SERVER_LOCK);
    }
    for (const r of forSync.values()) yield* r.sync(lvols, subsystems);
    for (const e of engines) yield* e.validateAndUpdate(subsystems, (n) => this.replicaGet(n));
  }

  /** An lvol verify does not know becomes an uncached replica, unless it is not a replica head. */
  private adopt(replicaMap: Map<string, Replica>, forSync: Map<string, Replica>, name: string, b: BdevInfo, lvsNames: ReadonlyMap<string, string>): void {
    const l = b.driver_specific.lvol!;
    if (l.snapshot) return;
    if (replicaMap.has(name)) return;
    // A backing image's temporary head is its preparation's, not a replica (not cleaned up here).
    if (isBackingImageSnapshotLvol(name) && name.endsWith('-temp-head')) return;
    if ([...replicaMap.keys()].some((rn) => name === rebuildingLvolName(rn))) return;
    const r = this.newReplica(name, lvsNames.get(l.lvol_store_uuid) ?? '', l.lvol_store_uuid, b.num_blocks * b.block_size);
    r.actualSize = l.num_allocated_clusters * MiB;
    this.log.push(`verify: lvol ${lvolNameFromAlias(b.aliases[0]!)} adopted as uncached replica ${r.id}`);
    replicaMap.set(name, r);
    forSync.set(name, r);
  }
}

/** The backingImageMap key: the backing image's snapshot lvol name in that lvstore. */
export function backingImageKey(name: string, lvsUuid: string): string {
  return `bi-${name}-disk-${lvsUuid}`;
}
