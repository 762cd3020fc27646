/**
 * Pieces more than one method group uses (bdev.ts, nvmf.ts, bdev-nvme.ts), kept below all of
 * them so the groups import each other only top-down: reading C strings the exports return, the
 * bdev lookup, and the NVMe-oF parameter checks.
 */
import { invalidParams, type RpcContext } from '../jsonrpc.js';

/** spdk_wasm_bdev_get fields. */
export const BDEV = { blockSize: 0, numBlocks: 1, zcopy: 2 } as const;

/** A `const char *` a C export returned (the binding hands back the address), or undefined for NULL. */
export function cString(ctx: RpcContext, v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const p = (v as number) >>> 0;
  return p === 0 ? undefined : ctx.machine.mem.cstring(p);
}

export function bdevExists(ctx: RpcContext, name: string): boolean {
  return ctx.machine.api.spdk_wasm_bdev_get(name, BDEV.blockSize) >= 0;
}

export function trtypeOk(v: string): boolean {
  return v.toUpperCase() === 'TCP';
}

export function nqnOk(method: string, field: string, v: string): void {
  if (!v.startsWith('nqn.')) throw invalidParams(method, field, `must be an NQN starting with "nqn.", got "${v}"`, { got: v });
}
