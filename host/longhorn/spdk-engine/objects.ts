/**
 * The shared objects the engine's steps touch, as the explorer's reduction sees them: SPDK's bdev
 * and lvstore tables, its NVMe-oF target, the server's maps and port bitmap, and each replica
 * and engine object (whose fields their own locks guard).
 */
export const SPDK_BDEV = 'spdk.bdev';
export const SPDK_LVS = 'spdk.lvs';
export const SPDK_NVMF = 'spdk.nvmf';
export const REPLICA_MAP = 'replicaMap';
export const ENGINE_MAP = 'engineMap';
export const PORTS = 'portAllocator';
/** The server's sync.RWMutex. */
export const SERVER_LOCK = 'server';
