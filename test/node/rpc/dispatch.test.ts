/** The JSON-RPC dispatcher: request framing, method lookup, RPC states and schema validation. */
import { describe, expect, it } from 'vitest';
import {
  defineMethod, JSONRPC_ERROR, RpcError, RpcRegistry, RpcServer, RUNTIME, STARTUP, STARTUP_AND_RUNTIME,
  type JsonRpcResponse, type JsonValue, type RpcMethod,
} from '../../../host/spdk/jsonrpc.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { rpcGetMethods } from '../../../host/spdk/rpc/rpc.js';
import { frameworkStartInit } from '../../../host/spdk/rpc/framework.js';

const calls: JsonValue[] = [];

/** A method exercising every parameter type; records what its handler saw. */
const probe = defineMethod({
  name: 'test_probe',
  states: STARTUP_AND_RUNTIME,
  params: [
    { name: 'name', type: 'string', required: true, min: 1, max: 8 },
    { name: 'count', type: 'uint32', min: 1, max: 100 },
    { name: 'small', type: 'uint8' },
    { name: 'signed', type: 'int32' },
    { name: 'flag', type: 'bool' },
    { name: 'mode', type: 'string', choices: ['fast', 'slow'] },
    { name: 'ratio', type: 'number', min: 0, max: 1 },
    { name: 'list', type: 'array', max: 2 },
    { name: 'obj', type: 'object' },
    { name: 'zero', type: 'uint32', choices: [0], why: 'not modelled' },
  ],
  unsupported: { legacy: 'removed upstream in v24.01' },
  handler(_ctx, p) {
    calls.push(p as JsonValue);
    return { ok: true, name: p['name']! };
  },
});

const boom = defineMethod({
  name: 'test_boom',
  states: STARTUP_AND_RUNTIME,
  params: [],
  handler() {
    throw new Error('kaboom');
  },
});

const later = defineMethod({ name: 'test_runtime_only', states: RUNTIME, params: [], handler: () => true });
const early = defineMethod({ name: 'test_startup_only', states: STARTUP, params: [], handler: () => true });

function server(state?: 'startup' | 'runtime'): RpcServer {
  const registry = new RpcRegistry().register(rpcGetMethods, frameworkStartInit, probe, boom, later, early);
  return new RpcServer({ name: 'no-machine' } as SpdkMachine, { registry, state });
}

function err(res: JsonRpcResponse | undefined): { code: number; message: string; data?: JsonValue } {
  if (res === undefined || !('error' in res)) throw new Error(`expected an error response, got ${JSON.stringify(res)}`);
  return res.error;
}

function callErr(s: RpcServer, params: JsonValue, method = 'test_probe'): { code: number; message: string; data?: JsonValue } {
  return err(s.dispatch({ jsonrpc: '2.0', id: 1, method, params }));
}

describe('JSON-RPC framing', () => {
  it('a good call answers with result and the same id', () => {
    const s = server();
    expect(JSON.parse(s.handle('{"jsonrpc":"2.0","id":"a7","method":"test_probe","params":{"name":"x"}}')!)).toEqual({
      jsonrpc: '2.0', id: 'a7', result: { ok: true, name: 'x' },
    });
  });

  it('-32700 for text that is not JSON, with id null', () => {
    const r = JSON.parse(server().handle('{"jsonrpc": "2.0", "method": ')!);
    expect(r.id).toBeNull();
    expect(r.error.code).toBe(JSONRPC_ERROR.PARSE_ERROR);
    expect(r.error.message).toMatch(/^Parse error/);
  });

  it.each([
    [[{ jsonrpc: '2.0', id: 1, method: 'test_probe' }], /batch requests are not supported/],
    ['hello', /expected an object, got string "hello"/],
    [{ id: 1, method: 'test_probe' }, /'jsonrpc' must be "2.0", got nothing/],
    [{ jsonrpc: '1.0', id: 1, method: 'test_probe' }, /'jsonrpc' must be "2.0", got string "1.0"/],
    [{ jsonrpc: '2.0', id: 1 }, /'method' must be a string, got nothing/],
    [{ jsonrpc: '2.0', id: 1, method: 7 }, /'method' must be a string, got number 7/],
    [{ jsonrpc: '2.0', id: { a: 1 }, method: 'test_probe' }, /'id' must be a string, number or null/],
    [{ jsonrpc: '2.0', id: 1, method: 'test_probe', params: 'x' }, /'params' must be an object or array, got string "x"/],
  ])('-32600 for an invalid request %j', (req, msg) => {
    const e = err(server().dispatch(req));
    expect(e.code).toBe(JSONRPC_ERROR.INVALID_REQUEST);
    expect(e.message).toMatch(msg);
  });

  it('-32601 for an unknown method, naming it', () => {
    const r = server().dispatch({ jsonrpc: '2.0', id: 9, method: 'bdev_frobnicate' });
    expect(r?.id).toBe(9);
    expect(err(r)).toMatchObject({ code: JSONRPC_ERROR.METHOD_NOT_FOUND, message: 'Method not found: bdev_frobnicate' });
  });

  it('a notification (no id) runs and gets no response, not even for an error', () => {
    const s = server();
    calls.length = 0;
    expect(s.dispatch({ jsonrpc: '2.0', method: 'test_probe', params: { name: 'n' } })).toBeUndefined();
    expect(calls).toEqual([{ name: 'n' }]);
    expect(s.handle('{"jsonrpc":"2.0","method":"nope"}')).toBeUndefined();
  });

  it('-32603 when a handler fails unexpectedly, naming the method', () => {
    expect(callErr(server(), null, 'test_boom')).toMatchObject({ code: JSONRPC_ERROR.INTERNAL_ERROR, message: 'test_boom: internal error: kaboom' });
  });

  it('call() returns the result or throws RpcError', () => {
    const s = server();
    expect(s.call('test_probe', { name: 'c' })).toEqual({ ok: true, name: 'c' });
    expect(() => s.call('test_probe', {})).toThrow(RpcError);
  });
});

describe('parameter validation (-32602 naming the field)', () => {
  const s = server();

  it('params may be omitted or null only when nothing is required', () => {
    expect(s.call('rpc_get_methods')).toContain('test_probe');
    expect(s.call('rpc_get_methods', null)).toContain('test_probe');
    expect(callErr(s, null)).toMatchObject({ code: -32602, message: "test_probe: parameter 'name' is required (string of length 1..8)" });
  });

  it('positional (array) params are rejected: SPDK decodes named parameters', () => {
    expect(callErr(s, ['x']).message).toBe('test_probe: params must be an object of named parameters, got array ["x"]');
  });

  it('an unknown parameter is rejected, listing the accepted ones', () => {
    const e = callErr(s, { name: 'x', colour: 'red' });
    expect(e.code).toBe(-32602);
    expect(e.message).toBe("test_probe: parameter 'colour' is unknown (accepted: name, count, small, signed, flag, mode, ratio, list, obj, zero)");
    expect(e.data).toMatchObject({ method: 'test_probe', field: 'colour' });
  });

  it('an SPDK parameter the model does not apply is rejected with the reason', () => {
    expect(callErr(s, { name: 'x', legacy: 1 }).message).toBe("test_probe: parameter 'legacy' is not supported by this model: removed upstream in v24.01");
  });

  it.each([
    [{ name: 5 }, "parameter 'name' must be a string, got number 5"],
    [{ name: '' }, "parameter 'name' must be string of length 1..8, got string \"\""],
    [{ name: 'waytoolongname' }, "parameter 'name' must be string of length 1..8"],
    [{ name: 'x', count: '3' }, "parameter 'count' must be an integer (uint32), got string \"3\""],
    [{ name: 'x', count: 1.5 }, "parameter 'count' must be an integer (uint32), got number 1.5"],
    [{ name: 'x', count: 0 }, "parameter 'count' must be uint32 in 1..100, got number 0"],
    [{ name: 'x', count: 101 }, "parameter 'count' must be uint32 in 1..100, got number 101"],
    [{ name: 'x', small: 256 }, "parameter 'small' must be uint8 in 0..255, got number 256"],
    [{ name: 'x', small: -1 }, "parameter 'small' must be uint8 in 0..255, got number -1"],
    [{ name: 'x', signed: 2 ** 31 }, "parameter 'signed' must be int32 in -2147483648..2147483647"],
    [{ name: 'x', flag: 1 }, "parameter 'flag' must be a bool (true or false), got number 1"],
    [{ name: 'x', flag: 'true' }, "parameter 'flag' must be a bool (true or false), got string \"true\""],
    [{ name: 'x', mode: 'medium' }, "parameter 'mode' must be one of \"fast\", \"slow\", got string \"medium\""],
    [{ name: 'x', ratio: 2 }, "parameter 'ratio' must be number in 0..1, got number 2"],
    [{ name: 'x', list: [1, 2, 3] }, "parameter 'list' must be array of length 0..2"],
    [{ name: 'x', list: {} }, "parameter 'list' must be an array, got object {}"],
    [{ name: 'x', obj: [] }, "parameter 'obj' must be an object, got array []"],
    [{ name: 'x', zero: 1 }, "parameter 'zero' must be one of 0 (not modelled), got number 1"],
  ])('%j -> %s', (params, msg) => {
    const e = callErr(s, params);
    expect(e.code).toBe(JSONRPC_ERROR.INVALID_PARAMS);
    expect(e.message).toContain(`test_probe: ${msg}`);
    expect((e.data as Record<string, JsonValue>)['field']).toBe(msg.split("'")[1]);
  });

  it('every valid value reaches the handler unchanged', () => {
    calls.length = 0;
    const p = { name: 'ok', count: 100, small: 255, signed: -5, flag: false, mode: 'slow', ratio: 0.5, list: [1], obj: { a: 1 }, zero: 0 };
    expect(s.call('test_probe', p)).toEqual({ ok: true, name: 'ok' });
    expect(calls).toEqual([p]);
  });
});

describe('RPC states (SPDK_RPC_STARTUP / SPDK_RPC_RUNTIME)', () => {
  it('startup: runtime-only methods answer -1 with SPDK\'s message; framework_start_init moves on', () => {
    const s = server();
    expect(s.state).toBe('startup');
    expect(callErr(s, null, 'test_runtime_only')).toMatchObject({
      code: JSONRPC_ERROR.INVALID_STATE,
      message: 'test_runtime_only: Method may only be called after framework is initialized using framework_start_init RPC.',
    });
    expect(s.call('test_startup_only')).toBe(true);
    expect(s.call('framework_start_init')).toBe(true);
    expect(s.state).toBe('runtime');
    expect(s.call('test_runtime_only')).toBe(true);
    const e = callErr(s, null, 'test_startup_only');
    expect(e.code).toBe(-1);
    expect(e.message).toMatch(/may only be called before framework is initialized\. Use --wait-for-rpc/);
    expect(callErr(s, null, 'framework_start_init').code).toBe(-1);
  });

  it('rpc_get_methods lists every method, or with current=true only those callable now', () => {
    const s = server();
    const all = s.call('rpc_get_methods') as string[];
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['rpc_get_methods', 'framework_start_init', 'test_probe', 'test_runtime_only', 'test_startup_only']));
    expect(s.call('rpc_get_methods', { current: true })).not.toContain('test_runtime_only');
    s.call('framework_start_init');
    const now = s.call('rpc_get_methods', { current: true }) as string[];
    expect(now).toContain('test_runtime_only');
    expect(now).not.toContain('test_startup_only');
    expect(callErr(s, { current: 1 }, 'rpc_get_methods').message).toBe("rpc_get_methods: parameter 'current' must be a bool (true or false), got number 1");
  });
});

describe('declarations', () => {
  const base: RpcMethod = { name: 'x', states: STARTUP, params: [], handler: () => null };

  it('defineMethod rejects a parameter declared twice, min > max, no states, declared-and-unsupported', () => {
    expect(() => defineMethod({ ...base, params: [{ name: 'a', type: 'bool' }, { name: 'a', type: 'bool' }] })).toThrow(/parameter a declared twice/);
    expect(() => defineMethod({ ...base, params: [{ name: 'a', type: 'uint32', min: 2, max: 1 }] })).toThrow(/min > max/);
    expect(() => defineMethod({ ...base, states: [] })).toThrow(/no states/);
    expect(() => defineMethod({ ...base, params: [{ name: 'a', type: 'bool' }], unsupported: { a: 'no' } })).toThrow(/both declared and unsupported/);
  });

  it('a registry refuses a second method of the same name', () => {
    expect(() => new RpcRegistry().register(base, { ...base })).toThrow(/duplicate RPC x registered/);
  });
});
