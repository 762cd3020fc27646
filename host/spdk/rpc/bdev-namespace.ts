/**
 * The one bdev namespace (lib/bdev's name tree): a bdev's name and its aliases are unique across
 * every bdev kind, so a create of any kind with a taken name fails with -EEXIST. bdev.ts, which
 * lists every kind for bdev_get_bdevs, registers that listing here; the modules that create bdevs
 * (bdev.ts, lvol.ts) ask here, without importing each other.
 */
import { RpcError, type RpcContext } from '../jsonrpc.js';

/** Linux EEXIST: what spdk_bdev_register / spdk_bdev_alias_add return for a taken name. */
export const EEXIST = 17;

/** The model's bound on a bdev name, in characters (see docs/decisions.md: upstream has none). */
export const BDEV_NAME_MAX = 255;

type Lister = (ctx: RpcContext) => Iterable<{ name: string; aliases: readonly string[] }>;
let lister: Lister | undefined;

export function setBdevLister(f: Lister): void {
  lister = f;
}

/** The bdev that holds `name` as its name or an alias, or undefined when the name is free. */
export function bdevHolding(ctx: RpcContext, name: string): string | undefined {
  if (lister === undefined) throw new Error('bdev-namespace: no bdev lister registered (import host/spdk/rpc/bdev.js)');
  for (const b of lister(ctx)) if (b.name === name || b.aliases.includes(name)) return b.name;
  return undefined;
}

/** Throws -EEXIST when `name` is taken by any bdev. */
export function claimBdevName(ctx: RpcContext, method: string, name: string): void {
  const holder = bdevHolding(ctx, name);
  if (holder === undefined) return;
  const what = holder === name ? `bdev "${name}" already exists` : `"${name}" is already an alias of bdev "${holder}"`;
  throw new RpcError(-EEXIST, `${method}: ${what} (-EEXIST)`, { method, name, errno: -EEXIST });
}
