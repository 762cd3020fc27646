/** Test support for JSON-RPC methods. */
import { RpcError } from '../../../host/spdk/jsonrpc.js';

/** The RpcError that f throws (any other throw, or none, fails the test). */
export function rpcError(f: () => unknown): RpcError {
  try {
    f();
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}
