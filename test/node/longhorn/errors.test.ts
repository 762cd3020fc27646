/** The engine's requests validated as the Go engine does, with gRPC-style codes; SPDK's own
 *  JSON-RPC errors surface typed, with method, code and message. */
import { describe, expect, it } from 'vitest';
import { EngineError, SpdkRpcError, type GrpcCode } from '../../../host/longhorn/spdk-engine/errors.js';
import { PortAllocator } from '../../../host/longhorn/spdk-engine/port-allocator.js';
import { SpdkClient } from '../../../host/longhorn/spdk-engine/spdk-client.js';
import type { TaskBody } from '../../../host/explore/task.js';
import { createReq, engineServer, MiB, PATCHED } from './engine-harness.js';
import { runOne } from './mini-runner.js';

function code(f: () => unknown): { code: GrpcCode; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof EngineError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

const task = <R>(b: TaskBody<R>) => () => runOne(b);

describe('request validation', () => {
  it('ReplicaCreate: name, lvstore, size, port count', async () => {
    const { s } = await engineServer(PATCHED);
    expect(code(task(s.replicaCreate({ ...createReq(''), name: '' })))).toEqual({ code: 'InvalidArgument', message: 'replica name is required' });
    expect(code(task(s.replicaCreate({ name: 'r1', specSize: MiB })))).toEqual({ code: 'InvalidArgument', message: 'lvs name or lvs UUID are required' });
    expect(code(task(s.replicaCreate({ ...createReq('r1'), specSize: 0 }))).code).toBe('InvalidArgument');
    expect(code(task(s.replicaCreate({ ...createReq('r1'), specSize: 1.5 }))).code).toBe('InvalidArgument');
    expect(code(task(s.replicaCreate({ ...createReq('r1'), portCount: 0 }))).message).toBe('replica port count must be at least 1, got 0');
    expect(code(task(s.replicaCreate({ ...createReq('r1'), lvsName: 'nope' })))).toEqual({ code: 'NotFound', message: 'cannot find lvstore nope for replica r1' });
    // none of them left anything behind
    expect(s.replicaMap.size).toBe(0);
  });

  it('ReplicaCreate on a running replica is AlreadyExists and changes nothing', async () => {
    const { s } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    expect(code(task(s.replicaCreate(createReq('r1'))))).toEqual({ code: 'AlreadyExists', message: 'replica r1 already exists and is running' });
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ id: 'r1#1', state: 'running', portStart: 20001 });
  });

  it('ReplicaCreate on a replica in state error is FailedPrecondition', async () => {
    const { s } = await engineServer(PATCHED);
    runOne(s.replicaCreate({ ...createReq('r1'), portCount: 11 }));
    expect(code(task(s.replicaCreate(createReq('r1'))))).toEqual({ code: 'FailedPrecondition', message: 'invalid state error for replica r1 creation' });
  });

  it('ReplicaGet: empty name is InvalidArgument, unknown is NotFound', async () => {
    const { s } = await engineServer(PATCHED);
    expect(code(task(s.replicaGet(''))).code).toBe('InvalidArgument');
    expect(code(task(s.replicaGet('r9')))).toEqual({ code: 'NotFound', message: 'cannot find replica r9' });
  });

  it('EngineCreate: names, size, frontend, addresses, duplicates', async () => {
    const { s } = await engineServer(PATCHED);
    const r = runOne(s.replicaCreate(createReq('r1')));
    const req = { name: 'e1', volumeName: 'vol', specSize: 8 * MiB, frontend: '' as const, replicaAddressMap: { r1: `${r.ip}:${r.portStart}` } };
    expect(code(task(s.engineCreate({ ...req, name: '' })))).toEqual({ code: 'InvalidArgument', message: 'engine name and volume name are required' });
    expect(code(task(s.engineCreate({ ...req, volumeName: '' }))).code).toBe('InvalidArgument');
    expect(code(task(s.engineCreate({ ...req, specSize: 0 }))).code).toBe('InvalidArgument');
    expect(code(task(s.engineCreate({ ...req, frontend: 'iscsi' as never }))).message).toMatch(/frontend "iscsi" must be one of "spdk-tcp-blockdev", "spdk-tcp-nvmf", ""/);
    expect(code(task(s.engineCreate({ ...req, name: 'e2', replicaAddressMap: { r1: 'nowhere' } })))).toEqual({ code: 'InvalidArgument', message: 'invalid replica address "nowhere": want ip:port' });
    expect(code(task(s.engineCreate({ ...req, name: 'e3', replicaAddressMap: {} }))).message).toBe('engine e3 needs at least one replica');
    expect(runOne(s.engineCreate(req))).toMatchObject({ state: 'running', replicaModeMap: { r1: 'RW' } });
    expect(code(task(s.engineCreate(req)))).toEqual({ code: 'AlreadyExists', message: 'engine e1 already exists' });
  });

  it('EngineCreate over a replica not exposed at that address fails Internal and leaves the engine in error', async () => {
    const { s } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    const e = code(task(s.engineCreate({ name: 'e1', volumeName: 'vol', specSize: MiB, frontend: 'spdk-tcp-nvmf', replicaAddressMap: { r1: '192.0.2.10:29999' } })));
    expect(e).toEqual({ code: 'Internal', message: 'engine e1 cannot create its RAID1: no replica could be connected' });
    expect(runOne(s.engineGet('e1'))).toMatchObject({ state: 'error', replicaModeMap: { r1: 'ERR' } });
  });

  it('EngineGet of an unknown engine is NotFound', async () => {
    const { s } = await engineServer(PATCHED);
    expect(code(task(s.engineGet('e9')))).toEqual({ code: 'NotFound', message: 'cannot find engine e9' });
  });
});

describe('SPDK JSON-RPC errors', () => {
  it('surface as SpdkRpcError with the method, the JSON-RPC code and SPDK\'s message', async () => {
    const { rpc } = await engineServer(PATCHED);
    const c = new SpdkClient(rpc);
    let err: unknown;
    try {
      c.bdevLvolCreate('lvs0', 'r1', 8);
      c.bdevLvolCreate('lvs0', 'r1', 8);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpdkRpcError);
    const e = err as SpdkRpcError;
    expect(e.code).toBe('Internal');
    expect(e.method).toBe('bdev_lvol_create');
    expect(e.rpcCode).toBe(-17);
    expect(e.rpcMessage).toMatch(/EEXIST/);
    expect(e.message).toBe(`SPDK JSON-RPC bdev_lvol_create failed: code -17: ${e.rpcMessage}`);
    expect(() => c.call('no_such_method')).toThrow(/SPDK JSON-RPC no_such_method failed: code -32601: Method not found: no_such_method/);
  });
});

describe('PortAllocator', () => {
  it('hands out the lowest free contiguous range and takes it back', () => {
    const p = new PortAllocator(100, 105);
    expect(p.allocateRange(2)).toEqual([100, 101]);
    expect(p.allocateRange(3)).toEqual([102, 104]);
    expect(() => p.allocateRange(2)).toThrow(expect.objectContaining({ code: 'ResourceExhausted', message: 'no 2 free contiguous ports in 100-105' }));
    p.releaseRange(100, 101);
    expect(p.allocateRange(1)).toEqual([100, 100]);
    expect(p.inUse()).toBe(4);
    expect(() => p.releaseRange(99, 100)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => p.allocateRange(0)).toThrow(/positive integer/);
    expect(() => new PortAllocator(10, 5)).toThrow(/1 <= start <= end <= 65535/);
  });
});
