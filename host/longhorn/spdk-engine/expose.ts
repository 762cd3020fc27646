/**
 * go-spdk-helper StartExposeBdev / StopExposeBdev as task steps: a replica is exposed as an
 * NVMe-oF subsystem `nqn.2023-01.io.longhorn.spdk:<replica>` listening on ip:port.
 *
 * Upstream also adds the head bdev as namespace 1 (nvmf_subsystem_add_ns). Lvols are not bdevs
 * of the C bdev layer in this model (host/spdk/rpc/bdev.ts), so the namespace is left out: the
 * exposure the engine and verify observe is the subsystem and its listener.
 */
import { reads, step, writes, type TaskBody } from '../../explore/task.js';
import type { NvmfSubsystem, SpdkClient } from './spdk-client.js';
import { SPDK_NVMF } from './objects.js';

export function* stopExposeBdev(spdk: SpdkClient, nqn: string): TaskBody {
  yield* step('nvmf_get_subsystems', [reads(SPDK_NVMF)]);
  if (!spdk.nvmfGetSubsystems().some((s) => s.nqn === nqn)) return;
  yield* step('nvmf_delete_subsystem', [writes(SPDK_NVMF)]);
  spdk.nvmfDeleteSubsystem(nqn);
}

export function* startExposeBdev(spdk: SpdkClient, nqn: string, ip: string, port: number): TaskBody {
  yield* step('nvmf_create_subsystem', [writes(SPDK_NVMF)]);
  spdk.nvmfCreateSubsystem(nqn);
  yield* step('nvmf_subsystem_add_listener', [writes(SPDK_NVMF)]);
  spdk.nvmfSubsystemAddListener(nqn, ip, port);
}

/** The subsystem `nqn` listens on ip:port. */
export function isExposedAt(subsystems: ReadonlyMap<string, NvmfSubsystem>, nqn: string, ip: string, port: number): boolean {
  const s = subsystems.get(nqn);
  return s !== undefined && s.listen_addresses.some((a) => a.traddr === ip && a.trsvcid === String(port));
}
