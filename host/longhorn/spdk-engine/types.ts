/**
 * longhorn-spdk-engine pkg/types and the naming rules of pkg/spdk: instance states, replica modes,
 * frontends, and how a replica's lvols are named inside an lvstore (spec §6).
 */

/** types.InstanceState. There is no "starting" in the SPDK engine. */
export type InstanceState = 'pending' | 'stopped' | 'running' | 'terminating' | 'error' | 'suspended';

/** types.Mode of a replica in an engine's ReplicaStatusMap. */
export type Mode = 'RW' | 'WO' | 'ERR';

export const FRONTENDS = ['spdk-tcp-blockdev', 'spdk-tcp-nvmf', ''] as const;
export type Frontend = (typeof FRONTENDS)[number];

export const MiB = 1 << 20;

/** helpertypes.NQNPrefix: a replica is exposed as `<prefix>:<replica>`. */
export const NQN_PREFIX = 'nqn.2023-01.io.longhorn.spdk';

export function replicaNqn(name: string): string {
  return `${NQN_PREFIX}:${name}`;
}

/** `<replica>-snap-<snapshot>`. */
export function snapshotLvolName(replica: string, snapshot: string): string {
  return `${replica}-snap-${snapshot}`;
}

export function rebuildingLvolName(replica: string): string {
  return `${replica}-rebuilding`;
}

/** IsReplicaLvol: the head itself or any lvol named `<replica>-...` (snapshots, rebuilding). */
export function isReplicaLvol(replica: string, lvol: string): boolean {
  return lvol === replica || lvol.startsWith(`${replica}-`);
}

/** `bi-<name>-disk-<lvsUUID>`: a backing image's snapshot, never a replica's. */
export function isBackingImageSnapshotLvol(lvol: string): boolean {
  return /^bi-.+-disk-.+/.test(lvol);
}

/** The lvol name of an alias `<lvs>/<lvol>`. */
export function lvolNameFromAlias(alias: string): string {
  const i = alias.indexOf('/');
  return i < 0 ? alias : alias.slice(i + 1);
}

/** util.RoundUp(size, MiB). */
export function roundUpMiB(bytes: number): number {
  return Math.ceil(bytes / MiB) * MiB;
}
