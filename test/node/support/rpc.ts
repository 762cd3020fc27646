/** Test support for JSON-RPC methods and config files. */
import { RpcError } from '../../../host/spdk/jsonrpc.js';

/** The error of class `cls` that f throws (any other throw, or none, fails the test). */
export function thrownBy<E extends Error>(cls: abstract new (...args: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`expected a ${cls.name} to be thrown`);
}

/** The RpcError that f throws. */
export function rpcError(f: () => unknown): RpcError {
  return thrownBy(RpcError, f);
}
