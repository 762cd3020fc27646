/**
 * longhorn-spdk-engine pkg/spdk/replica.go, the parts the verify race needs: a replica is a head
 * lvol `<name>` in one lvstore with its snapshot chain, exposed over NVMe/TCP on the first port
 * of its range. Every method that takes r.Lock is a task: its lock, its JSON-RPC calls and its
 * port-bitmap use are yield points (host/explore/task.ts).
 */
import { lock, reads, step, unlock, writes, type TaskBody } from '../../explore/task.js';
import { alreadyExists, EngineError, errorText, failedPrecondition } from './errors.js';
import { isExposedAt, startExposeBdev, stopExposeBdev } from './expose.js';
import { PORTS, SPDK_BDEV, SPDK_LVS } from './objects.js';
import type { PortAllocator } from './port-allocator.js';
import type { BdevInfo, NvmfSubsystem, SpdkClient } from './spdk-client.js';
import { isBackingImageSnapshotLvol, lvolNameFromAlias, MiB, replicaNqn, roundUpMiB, type InstanceState } from './types.js';

/** What ReplicaCreate/ReplicaGet return (spdkrpc.Replica): a copy, not the live object. */
export interface ReplicaInfo {
  name: string;
  lvsName: string;
  lvsUuid: string;
  specSize: number;
  actualSize: number;
  state: InstanceState;
  errorMsg: string;
  ip: string;
  portStart: number;
  portEnd: number;
  isExposed: boolean;
  head: string;
  snapshots: string[];
  /** Which Replica object answered (the model's identity, for the race's evidence). */
  id: string;
}

/** What Create needs from the server. */
export interface ReplicaCreateContext {
  spdk: SpdkClient;
  ports: PortAllocator;
  ip: string;
  portCount: number;
  /** The backing image's snapshot lvol alias, when the replica is a clone of it. */
  backingImageSnapshot?: string;
}

export class Replica {
  state: InstanceState = 'pending';
  errorMsg = '';
  actualSize = 0;
  ip = '';
  portStart = 0;
  portEnd = 0;
  isExposed = false;
  isRebuildingFlag = false;
  /** Head lvol name once known. */
  head = '';
  /** ActiveChain: [backing image snapshot or null, snapshots oldest first..., head]. */
  activeChain: (string | null)[] = [];
  readonly specSize: number;
  /** r.Lock (sync.RWMutex) as the explorer names it. */
  readonly mutex: string;

  /** NewReplica: state pending, nothing in SPDK yet. */
  constructor(readonly id: string, readonly name: string, public lvsName: string, public lvsUuid: string, specSize: number) {
    this.specSize = roundUpMiB(specSize);
    this.mutex = `replica:${id}`;
  }

  get object(): string {
    return this.mutex;
  }

  /** Replica.Get under r.RLock. */
  *get(): TaskBody<ReplicaInfo> {
    yield* lock(this.mutex, true);
    yield* step('replica.Get', [reads(this.object)]);
    const info = this.info();
    yield* unlock(this.mutex, true);
    return info;
  }

  /** The fields as they are now, without the lock (for a caller that holds it, and for checks). */
  info(): ReplicaInfo {
    const snapshots = this.activeChain.filter((l): l is string => l !== null && l !== this.head && !isBackingImageSnapshotLvol(l));
    return {
      name: this.name, lvsName: this.lvsName, lvsUuid: this.lvsUuid, specSize: this.specSize, actualSize: this.actualSize,
      state: this.state, errorMsg: this.errorMsg, ip: this.ip, portStart: this.portStart, portEnd: this.portEnd,
      isExposed: this.isExposed, head: this.head, snapshots, id: this.id,
    };
  }

  /** IsRebuilding under r.RLock: running and a rebuilding destination. */
  *isRebuilding(): TaskBody<boolean> {
    yield* lock(this.mutex, true);
    yield* step('replica.IsRebuilding', [reads(this.object)]);
    const v = this.state === 'running' && this.isRebuildingFlag;
    yield* unlock(this.mutex, true);
    return v;
  }

  /**
   * Replica.Create under r.Lock: head lvol (created thin, or cloned from the backing image's
   * snapshot and resized), snapshot chain, state stopped, port range, expose, state running.
   * A failure after the precondition checks leaves the replica in state error and is returned
   * as the replica, not thrown (the gRPC error is nil).
   */
  *create(ctx: ReplicaCreateContext): TaskBody<ReplicaInfo> {
    yield* lock(this.mutex);
    try {
      if (this.state === 'running') throw alreadyExists(`replica ${this.name} already exists and is running`);
      if (this.state !== 'pending' && this.state !== 'stopped') throw failedPrecondition(`invalid state ${this.state} for replica ${this.name} creation`);
      if (this.state === 'pending' && this.activeChain.length !== 0) throw failedPrecondition(`replica ${this.name} is pending but already has an active chain of ${this.activeChain.length}`);
      try {
        yield* this.createNoLock(ctx);
      } catch (e) {
        this.fail(e);
      }
      return this.info();
    } finally {
      yield* unlock(this.mutex);
    }
  }

  private *createNoLock(ctx: ReplicaCreateContext): TaskBody {
    const { spdk } = ctx;
    yield* step('bdev_lvol_get_lvstores', [reads(SPDK_LVS)]);
    const lvs = spdk.bdevLvolGetLvstores().find((l) => (this.lvsName !== '' ? l.name === this.lvsName : l.uuid === this.lvsUuid));
    if (lvs === undefined) throw new EngineError('NotFound', `cannot find lvstore ${this.lvsName || this.lvsUuid} for replica ${this.name}`);
    if (this.lvsUuid !== '' && lvs.uuid !== this.lvsUuid) throw failedPrecondition(`lvstore ${lvs.name} has UUID ${lvs.uuid}, the replica asked for ${this.lvsUuid}`);
    this.lvsName = lvs.name;
    this.lvsUuid = lvs.uuid;
    const alias = `${lvs.name}/${this.name}`;

    // prepareHead: create the head only if it is not there yet.
    yield* step('bdev_get_bdevs', [reads(SPDK_BDEV)]);
    let lvols = lvolBdevsOf(spdk.bdevGetBdevs(), lvs.uuid);
    if (!lvols.has(this.name)) {
      const sizeMiB = this.specSize / MiB;
      if (ctx.backingImageSnapshot !== undefined) {
        yield* step('bdev_lvol_clone', [writes(SPDK_BDEV), writes(SPDK_LVS)]);
        spdk.bdevLvolClone(ctx.backingImageSnapshot, this.name);
        yield* step('bdev_lvol_resize', [writes(SPDK_BDEV), writes(SPDK_LVS)]);
        spdk.bdevLvolResize(alias, sizeMiB);
      } else {
        yield* step('bdev_lvol_create', [writes(SPDK_BDEV), writes(SPDK_LVS)]);
        spdk.bdevLvolCreate(lvs.name, this.name, sizeMiB);
      }
      yield* step('bdev_get_bdevs', [reads(SPDK_BDEV)]);
      lvols = lvolBdevsOf(spdk.bdevGetBdevs(), lvs.uuid);
    }
    // 10e420dd: the chain is built here, else the next validateAndUpdate finds it short.
    this.constructChain(lvols);
    this.state = 'stopped';

    this.ip = ctx.ip;
    yield* step('portAllocator.AllocateRange', [writes(PORTS), writes(this.object)]);
    [this.portStart, this.portEnd] = ctx.ports.allocateRange(ctx.portCount);

    const nqn = replicaNqn(this.name);
    yield* stopExposeBdev(spdk, nqn);
    yield* startExposeBdev(spdk, nqn, this.ip, this.portStart);
    this.isExposed = true;
    this.state = 'running';
  }

  /**
   * Replica.Delete under r.Lock: unexpose and release the ports; with cleanup also delete the
   * head and the replica's snapshots (never the backing image's) and go terminating, else stopped.
   */
  *delete(spdk: SpdkClient, ports: PortAllocator, cleanupRequired: boolean): TaskBody {
    yield* lock(this.mutex);
    try {
      yield* stopExposeBdev(spdk, replicaNqn(this.name));
      this.isExposed = false;
      if (this.portStart !== 0) {
        yield* step('portAllocator.ReleaseRange', [writes(PORTS), writes(this.object)]);
        ports.releaseRange(this.portStart, this.portEnd);
        this.portStart = this.portEnd = 0;
      }
      if (!cleanupRequired) {
        this.state = 'stopped';
        return;
      }
      yield* step('bdev_get_bdevs', [reads(SPDK_BDEV)]);
      const lvols = lvolBdevsOf(spdk.bdevGetBdevs(), this.lvsUuid);
      // Head first, then snapshots newest first, so each delete removes a leaf.
      const mine = [this.name, ...chainOf(lvols, this.name).filter((l) => !isBackingImageSnapshotLvol(l)).reverse()];
      for (const l of mine) {
        if (!lvols.has(l)) continue;
        yield* step('bdev_lvol_delete', [writes(SPDK_BDEV), writes(SPDK_LVS)]);
        spdk.bdevLvolDelete(`${this.lvsName}/${l}`);
      }
      this.activeChain = [];
      this.head = '';
      this.state = 'terminating';
    } catch (e) {
      this.fail(e);
      throw e;
    } finally {
      yield* unlock(this.mutex);
    }
  }

  /**
   * Replica.Sync from verify under r.Lock: a pending replica is constructed from its lvols
   * (state stopped, no ports, not exposed); a stopped or running one is validated against them.
   */
  *sync(lvols: ReadonlyMap<string, BdevInfo>, subsystems: ReadonlyMap<string, NvmfSubsystem>): TaskBody {
    yield* lock(this.mutex);
    yield* step('replica.Sync', [writes(this.object)]);
    try {
      if (this.state === 'pending') this.construct(lvols);
      else if (this.state === 'stopped' || this.state === 'running') this.validateAndUpdate(lvols, subsystems);
    } catch (e) {
      this.fail(e);
    } finally {
      yield* unlock(this.mutex);
    }
  }

  private construct(lvols: ReadonlyMap<string, BdevInfo>): void {
    if (!lvols.has(this.name)) throw new EngineError('NotFound', `cannot find head lvol ${this.name} to construct replica`);
    this.constructChain(lvols);
    this.state = 'stopped';
  }

  private validateAndUpdate(lvols: ReadonlyMap<string, BdevInfo>, subsystems: ReadonlyMap<string, NvmfSubsystem>): void {
    if (!lvols.has(this.name)) throw new EngineError('NotFound', `head lvol ${this.name} of replica ${this.name} is missing`);
    const now = chainOf(lvols, this.name);
    const expected = now.length > 0 && isBackingImageSnapshotLvol(now[0]!) ? now.length + 1 : now.length + 2;
    if (expected !== this.activeChain.length) {
      throw failedPrecondition(`replica ${this.name} active chain has ${this.activeChain.length} entries, SPDK has ${expected}`);
    }
    this.actualSize = allocatedBytes(lvols, [this.name, ...now]);
    if (this.state === 'running' && !isExposedAt(subsystems, replicaNqn(this.name), this.ip, this.portStart)) {
      throw failedPrecondition(`replica ${this.name} is running but not exposed at ${this.ip}:${this.portStart}`);
    }
  }

  private constructChain(lvols: ReadonlyMap<string, BdevInfo>): void {
    const below = chainOf(lvols, this.name);
    const bi = below.length > 0 && isBackingImageSnapshotLvol(below[0]!) ? below[0]! : null;
    this.head = this.name;
    this.activeChain = [bi, ...below.filter((l) => l !== bi), this.name];
    this.actualSize = allocatedBytes(lvols, [this.name, ...below.filter((l) => l !== bi)]);
  }

  private fail(e: unknown): void {
    this.state = 'error';
    this.errorMsg = errorText(e);
  }
}

/** Lvol bdevs of one lvstore by lvol name (verify's bdevLvolMap keeps those with one alias). */
export function lvolBdevsOf(bdevs: readonly BdevInfo[], lvsUuid: string): Map<string, BdevInfo> {
  const out = new Map<string, BdevInfo>();
  for (const b of bdevs) {
    const l = b.driver_specific.lvol;
    if (l === undefined || b.aliases.length !== 1 || (lvsUuid !== '' && l.lvol_store_uuid !== lvsUuid)) continue;
    out.set(lvolNameFromAlias(b.aliases[0]!), b);
  }
  return out;
}

/** The snapshots under `head`, oldest first, following base_snapshot. */
export function chainOf(lvols: ReadonlyMap<string, BdevInfo>, head: string): string[] {
  const out: string[] = [];
  let cur = lvols.get(head)?.driver_specific.lvol?.base_snapshot;
  while (cur !== undefined && !out.includes(cur)) {
    out.unshift(cur);
    cur = lvols.get(cur)?.driver_specific.lvol?.base_snapshot;
  }
  return out;
}

/** num_allocated_clusters * 1 MiB over the lvols named (the engine's cluster size). */
function allocatedBytes(lvols: ReadonlyMap<string, BdevInfo>, names: readonly string[]): number {
  let n = 0;
  for (const x of names) n += (lvols.get(x)?.driver_specific.lvol?.num_allocated_clusters ?? 0) * MiB;
  return n;
}
