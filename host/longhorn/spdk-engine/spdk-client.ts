/**
 * go-spdk-helper's spdkclient.Client for the model: every call is a JSON-RPC 2.0 request in text
 * to the machine's RpcServer (host/spdk/jsonrpc.ts), as the Go engine writes to spdk_tgt's Unix
 * socket. An error object comes back as SpdkRpcError carrying method, code and message. The
 * handlers are synchronous, so a call is one atomic step of a task.
 */
import { RpcError, type JsonObject, type JsonValue, type RpcServer } from '../../spdk/jsonrpc.js';
import { SpdkRpcError } from './errors.js';

export interface BdevLvolInfo {
  lvol_store_uuid: string;
  base_bdev: string;
  thin_provision: boolean;
  num_allocated_clusters: number;
  snapshot: boolean;
  clone: boolean;
  base_snapshot?: string;
  clones?: string[];
}

export interface BdevInfo {
  name: string;
  aliases: string[];
  product_name: string;
  block_size: number;
  num_blocks: number;
  uuid?: string;
  driver_specific: { lvol?: BdevLvolInfo };
}

export interface LvstoreInfo {
  uuid: string;
  name: string;
  base_bdev: string;
  total_data_clusters: number;
  free_clusters: number;
  block_size: number;
  cluster_size: number;
}

export interface NvmfSubsystem {
  nqn: string;
  listen_addresses: { trtype: string; adrfam: string; traddr: string; trsvcid: string }[];
  namespaces: { nsid: number; bdev_name: string }[];
}

export class SpdkClient {
  private nextId = 1;
  /** Every method called, in order (the trace of who asked SPDK what). */
  readonly calls: string[] = [];

  constructor(readonly rpc: RpcServer) {}

  call<T = JsonValue>(method: string, params?: JsonObject): T {
    const id = this.nextId++;
    this.calls.push(method);
    const text = this.rpc.handle(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) }));
    if (text === undefined) throw new SpdkRpcError(method, 0, 'no response');
    const res = JSON.parse(text) as { result?: JsonValue; error?: { code: number; message: string } };
    if (res.error !== undefined) throw SpdkRpcError.from(method, new RpcError(res.error.code, res.error.message));
    return res.result as T;
  }

  bdevGetBdevs(name?: string): BdevInfo[] {
    return this.call<BdevInfo[]>('bdev_get_bdevs', name !== undefined ? { name } : {});
  }

  bdevLvolGetLvstores(filter: { uuid?: string; lvs_name?: string } = {}): LvstoreInfo[] {
    return this.call<LvstoreInfo[]>('bdev_lvol_get_lvstores', filter as JsonObject);
  }

  /** Thin lvol in lvs `lvsName`; returns the new bdev's name (its UUID). */
  bdevLvolCreate(lvsName: string, lvolName: string, sizeMiB: number): string {
    return this.call<string>('bdev_lvol_create', { lvs_name: lvsName, lvol_name: lvolName, size_in_mib: sizeMiB, thin_provision: true });
  }

  bdevLvolClone(snapshot: string, cloneName: string): string {
    return this.call<string>('bdev_lvol_clone', { snapshot_name: snapshot, clone_name: cloneName });
  }

  bdevLvolResize(name: string, sizeMiB: number): boolean {
    return this.call<boolean>('bdev_lvol_resize', { name, size_in_mib: sizeMiB });
  }

  bdevLvolDelete(name: string): boolean {
    return this.call<boolean>('bdev_lvol_delete', { name });
  }

  nvmfGetTransports(): JsonValue[] {
    return this.call<JsonValue[]>('nvmf_get_transports', {});
  }

  nvmfCreateTransport(): boolean {
    return this.call<boolean>('nvmf_create_transport', { trtype: 'TCP' });
  }

  nvmfGetSubsystems(): NvmfSubsystem[] {
    return this.call<NvmfSubsystem[]>('nvmf_get_subsystems', {});
  }

  nvmfCreateSubsystem(nqn: string): boolean {
    return this.call<boolean>('nvmf_create_subsystem', { nqn, allow_any_host: true });
  }

  nvmfSubsystemAddListener(nqn: string, ip: string, port: number): boolean {
    return this.call<boolean>('nvmf_subsystem_add_listener', { nqn, listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: ip, trsvcid: String(port) } });
  }

  nvmfDeleteSubsystem(nqn: string): boolean {
    return this.call<boolean>('nvmf_delete_subsystem', { nqn });
  }
}
