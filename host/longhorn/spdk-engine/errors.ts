/**
 * The engine's errors carry a gRPC status code, as longhorn-spdk-engine returns
 * grpcstatus.Error(codes.X, ...) to longhorn-manager; a failed SPDK JSON-RPC call keeps the
 * method and SPDK's error object so a caller can tell "-EEXIST from bdev_lvol_create" from
 * "the engine refused the request".
 */
import type { RpcError } from '../../spdk/jsonrpc.js';

export type GrpcCode = 'NotFound' | 'AlreadyExists' | 'InvalidArgument' | 'FailedPrecondition' | 'ResourceExhausted' | 'Internal';

export class EngineError extends Error {
  constructor(readonly code: GrpcCode, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A JSON-RPC call to spdk_tgt that answered with an error object. */
export class SpdkRpcError extends EngineError {
  constructor(readonly method: string, readonly rpcCode: number, readonly rpcMessage: string) {
    super('Internal', `SPDK JSON-RPC ${method} failed: code ${rpcCode}: ${rpcMessage}`);
    this.name = 'SpdkRpcError';
  }

  static from(method: string, e: RpcError): SpdkRpcError {
    return new SpdkRpcError(method, e.code, e.message);
  }
}

export const notFound = (msg: string): EngineError => new EngineError('NotFound', msg);
export const alreadyExists = (msg: string): EngineError => new EngineError('AlreadyExists', msg);
export const invalidArgument = (msg: string): EngineError => new EngineError('InvalidArgument', msg);
export const failedPrecondition = (msg: string): EngineError => new EngineError('FailedPrecondition', msg);

/** The message of anything thrown, for a replica's or engine's ErrorMsg. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
