/**
 * longhorn-spdk-engine pkg/spdk/engine.go, as far as the verify race reaches it: Engine.Create
 * connects each replica's NVMe-oF export and builds a RAID1 over them, then asks the server for
 * every RW/WO replica (checkAndUpdateInfoFromReplicaNoLock) and marks one it cannot get ERR; the
 * periodic ValidateAndUpdate repeats the checks and puts an engine with no RW replica in error.
 *
 * The RAID1 bdev is modelled by ReplicaStatusMap alone (its members and their modes): no I/O
 * flows in this scenario, and host/longhorn/raid1.ts is an I/O backend. "Connecting" a replica
 * reads nvmf_get_subsystems and requires its subsystem to listen at the replica's address; the
 * base bdev is named `<replica>n1`, as bdev_nvme_attach_controller names a controller's namespace.
 */
import { lock, reads, step, unlock, writes, type TaskBody } from '../../explore/task.js';
import { EngineError, errorText, failedPrecondition, invalidArgument } from './errors.js';
import { isExposedAt } from './expose.js';
import { SPDK_NVMF } from './objects.js';
import type { ReplicaInfo } from './replica.js';
import type { NvmfSubsystem, SpdkClient } from './spdk-client.js';
import { replicaNqn, roundUpMiB, type Frontend, type InstanceState, type Mode } from './types.js';

export interface ReplicaStatus {
  address: string;
  bdevName: string;
  mode: Mode;
}

export interface EngineInfo {
  name: string;
  volumeName: string;
  specSize: number;
  frontend: Frontend;
  state: InstanceState;
  errorMsg: string;
  replicaModeMap: Record<string, Mode>;
  replicaAddressMap: Record<string, string>;
}

/** The server's ReplicaGet as the engine calls it (throws NotFound). */
export type ReplicaGetter = (name: string) => TaskBody<ReplicaInfo>;

/** "ip:port" as net.SplitHostPort reads it. */
export function splitHostPort(address: string): { ip: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`invalid replica address ${JSON.stringify(address)}: want ip:port`);
  return { ip: address.slice(0, i), port };
}

export class Engine {
  state: InstanceState = 'pending';
  errorMsg = '';
  readonly specSize: number;
  readonly replicaStatusMap = new Map<string, ReplicaStatus>();
  readonly mutex: string;
  /** Log lines of the mode changes (the "mark the mode from RW to ERR" evidence). */
  readonly log: string[] = [];

  constructor(readonly name: string, readonly volumeName: string, readonly frontend: Frontend, specSize: number) {
    this.specSize = roundUpMiB(specSize);
    this.mutex = `engine:${name}`;
  }

  *create(spdk: SpdkClient, replicaAddressMap: ReadonlyMap<string, string>, replicaGet: ReplicaGetter): TaskBody<EngineInfo> {
    yield* lock(this.mutex);
    try {
      if (this.state !== 'pending') throw failedPrecondition(`invalid state ${this.state} for engine ${this.name} creation`);
      if (replicaAddressMap.size === 0) throw invalidArgument(`engine ${this.name} needs at least one replica`);
      const addrs = [...replicaAddressMap].map(([name, address]) => ({ name, address, ...splitHostPort(address) }));
      try {
        yield* step('nvmf_get_subsystems', [reads(SPDK_NVMF), writes(this.mutex)]);
        const subsystems = subsystemMap(spdk.nvmfGetSubsystems());
        for (const r of addrs) {
          const ok = isExposedAt(subsystems, replicaNqn(r.name), r.ip, r.port);
          if (!ok) this.log.push(`cannot connect replica ${r.name} at ${r.address}: mode ERR`);
          this.replicaStatusMap.set(r.name, { address: r.address, bdevName: ok ? `${r.name}n1` : '', mode: ok ? 'RW' : 'ERR' });
        }
        if (![...this.replicaStatusMap.values()].some((s) => s.mode === 'RW')) {
          throw new EngineError('Internal', `engine ${this.name} cannot create its RAID1: no replica could be connected`);
        }
        yield* this.checkAndUpdateInfoFromReplicaNoLock(replicaGet);
        this.state = 'running';
      } catch (e) {
        this.state = 'error';
        this.errorMsg = errorText(e);
        throw e;
      }
      return this.info();
    } finally {
      yield* unlock(this.mutex);
    }
  }

  /** Engine.ValidateAndUpdate from verify: replica exports still there, replicas still known. */
  *validateAndUpdate(subsystems: ReadonlyMap<string, NvmfSubsystem>, replicaGet: ReplicaGetter): TaskBody {
    yield* lock(this.mutex);
    try {
      if (this.state !== 'running') return;
      yield* step('engine.ValidateAndUpdate', [writes(this.mutex)]);
      for (const [name, s] of this.replicaStatusMap) {
        if (s.mode === 'ERR') continue;
        const { ip, port } = splitHostPort(s.address);
        if (!isExposedAt(subsystems, replicaNqn(name), ip, port)) this.markErr(name, s, `its base bdev ${s.bdevName} is gone`);
      }
      yield* this.checkAndUpdateInfoFromReplicaNoLock(replicaGet);
      if (![...this.replicaStatusMap.values()].some((s) => s.mode === 'RW')) {
        this.state = 'error';
        this.errorMsg = `engine ${this.name} has no RW replica`;
      }
    } finally {
      yield* unlock(this.mutex);
    }
  }

  *get(): TaskBody<EngineInfo> {
    yield* lock(this.mutex, true);
    yield* step('engine.Get', [reads(this.mutex)]);
    const info = this.info();
    yield* unlock(this.mutex, true);
    return info;
  }

  info(): EngineInfo {
    const modes: Record<string, Mode> = {};
    const addrs: Record<string, string> = {};
    for (const [n, s] of this.replicaStatusMap) {
      modes[n] = s.mode;
      addrs[n] = s.address;
    }
    return { name: this.name, volumeName: this.volumeName, specSize: this.specSize, frontend: this.frontend, state: this.state, errorMsg: this.errorMsg, replicaModeMap: modes, replicaAddressMap: addrs };
  }

  /** Every RW/WO replica must be gettable from its server and running there. */
  private *checkAndUpdateInfoFromReplicaNoLock(replicaGet: ReplicaGetter): TaskBody {
    for (const [name, s] of this.replicaStatusMap) {
      if (s.mode !== 'RW' && s.mode !== 'WO') continue;
      let r: ReplicaInfo;
      try {
        r = yield* replicaGet(name);
      } catch (e) {
        this.markErr(name, s, `failed to get replica: ${errorText(e)}`);
        continue;
      }
      if (r.state !== 'running') this.markErr(name, s, `replica is ${r.state}, not running`);
    }
  }

  private markErr(name: string, s: ReplicaStatus, why: string): void {
    this.log.push(`engine ${this.name}: replica ${name} ${why}: mode ${s.mode} -> ERR`);
    s.mode = 'ERR';
  }
}

export function subsystemMap(list: readonly NvmfSubsystem[]): Map<string, NvmfSubsystem> {
  return new Map(list.map((s) => [s.nqn, s]));
}
