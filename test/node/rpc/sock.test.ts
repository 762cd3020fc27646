/** sock_impl_set_options / sock_impl_get_options against the real C (lib/sock/sock_rpc.c's twins). */
import { describe, expect, it } from 'vitest';
import { JSONRPC_ERROR, type JsonValue } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { rpcError } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';

/** Upstream v25.01 posix defaults (g_posix_impl_opts), as sock_impl_get_options reports them. */
const POSIX_DEFAULTS = {
  recv_buf_size: 2 * 1024 * 1024,
  send_buf_size: 2 * 1024 * 1024,
  enable_recv_pipe: true,
  enable_quickack: false,
  enable_placement_id: 0,
  enable_zerocopy_send_server: true,
  enable_zerocopy_send_client: false,
  zerocopy_threshold: 0,
  tls_version: 0,
  enable_ktls: false,
};

describe('sock_impl_get_options / sock_impl_set_options', () => {
  it('reads the C defaults of the posix impl', async () => {
    const { m } = await utMachine();
    const s = createRpcServer(m);
    const got = s.call('sock_impl_get_options', { impl_name: 'posix' }) as Record<string, JsonValue>;
    expect(got).toEqual(POSIX_DEFAULTS);
  });

  it.each([
    ['unpatched', 'release'], ['patched', 'release'], ['unpatched', 'asan'], ['patched', 'asan'],
  ] as const)('every accepted field is applied to the C and read back; the existing export agrees (%s-%s)', async (variant, flavor) => {
    const { m } = await utMachine(variant, flavor);
    const s = createRpcServer(m);
    const want = {
      recv_buf_size: 1 << 22, send_buf_size: 126976, enable_recv_pipe: false, enable_quickack: true, enable_placement_id: 0,
      enable_zerocopy_send_server: false, enable_zerocopy_send_client: true, zerocopy_threshold: 8192, tls_version: 0, enable_ktls: false,
    };
    expect(s.call('sock_impl_set_options', { impl_name: 'posix', ...want })).toBe(true);
    expect(s.call('sock_impl_get_options', { impl_name: 'posix' })).toEqual(want);
    // spdk_wasm_sock_get_opt fields: 0 recv, 1 send, 2 zcopy server, 3 zcopy client, 4 threshold.
    expect([0, 1, 2, 3, 4].map((f) => m.callStr('spdk_wasm_sock_get_opt', 'posix', f) >>> 0)).toEqual([1 << 22, 126976, 0, 1, 8192]);
  });

  it('only the fields given change', async () => {
    const { m } = await utMachine();
    const s = createRpcServer(m);
    const before = s.call('sock_impl_get_options', { impl_name: 'posix' }) as Record<string, JsonValue>;
    s.call('sock_impl_set_options', { impl_name: 'posix', zerocopy_threshold: 4096 });
    expect(s.call('sock_impl_get_options', { impl_name: 'posix' })).toEqual({ ...before, zerocopy_threshold: 4096 });
  });

  it.each([
    [{ impl_name: 'uring' }, "sock_impl_set_options: parameter 'impl_name' names no registered sock implementation, got \"uring\""],
    [{}, "sock_impl_set_options: parameter 'impl_name' is required"],
    [{ impl_name: 'posix', zerocopy_threshold: -1 }, "parameter 'zerocopy_threshold' must be uint32 in 0..4294967295, got number -1"],
    [{ impl_name: 'posix', recv_buf_size: 2 ** 32 }, "parameter 'recv_buf_size' must be uint32 in 0..4294967295"],
    [{ impl_name: 'posix', enable_quickack: 'yes' }, "parameter 'enable_quickack' must be a bool"],
    [{ impl_name: 'posix', enable_placement_id: 1 }, "parameter 'enable_placement_id' must be one of 0 (placement ids are not modelled; 0 is PLACEMENT_NONE), got number 1"],
    [{ impl_name: 'posix', tls_version: 13 }, "parameter 'tls_version' must be one of 0 (the ssl sock module is not built; 0 means unset)"],
    [{ impl_name: 'posix', enable_ktls: true }, "parameter 'enable_ktls' must be one of false (the ssl sock module is not built)"],
    [{ impl_name: 'posix', psk_key: 'k' }, "parameter 'psk_key' is not supported by this model: the ssl sock module is not built"],
    [{ impl_name: 'posix', enable_zerocopy_send: true }, "parameter 'enable_zerocopy_send' is unknown (accepted: impl_name, recv_buf_size"],
  ])('rejects %j and changes nothing', async (params, msg) => {
    const { m } = await utMachine();
    const s = createRpcServer(m);
    const before = s.call('sock_impl_get_options', { impl_name: 'posix' });
    const e = rpcError(() => s.call('sock_impl_set_options', { zerocopy_threshold: 777, ...params }));
    expect(e.code).toBe(JSONRPC_ERROR.INVALID_PARAMS);
    expect(e.message).toContain(msg);
    expect(s.call('sock_impl_get_options', { impl_name: 'posix' })).toEqual(before);
  });

  it('get names an unknown impl too', async () => {
    const { m } = await utMachine();
    const e = rpcError(() => createRpcServer(m).call('sock_impl_get_options', { impl_name: 'ssl' }));
    expect(e.message).toBe("sock_impl_get_options: parameter 'impl_name' names no registered sock implementation, got \"ssl\"");
  });

  it('set is a startup-only method, get works in both states', async () => {
    const { m } = await utMachine();
    const s = createRpcServer(m);
    s.call('framework_start_init');
    const e = rpcError(() => s.call('sock_impl_set_options', { impl_name: 'posix', zerocopy_threshold: 1 }));
    expect(e.code).toBe(JSONRPC_ERROR.INVALID_STATE);
    expect(s.call('sock_impl_get_options', { impl_name: 'posix' })).toMatchObject({ zerocopy_threshold: 0 });
  });

  it('over the wire: JSON text in, JSON text out', async () => {
    const { m } = await utMachine();
    const s = createRpcServer(m);
    const r1 = JSON.parse(s.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sock_impl_set_options', params: { impl_name: 'posix', zerocopy_threshold: 8192 } }))!);
    expect(r1).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    const r2 = JSON.parse(s.handle('{"jsonrpc":"2.0","id":2,"method":"sock_impl_get_options","params":{"impl_name":"posix"}}')!);
    expect(r2.result.zerocopy_threshold).toBe(8192);
  });

  it('each machine has its own options', async () => {
    const a = await utMachine();
    const b = await utMachine();
    createRpcServer(a.m).call('sock_impl_set_options', { impl_name: 'posix', zerocopy_threshold: 1234 });
    expect(createRpcServer(b.m).call('sock_impl_get_options', { impl_name: 'posix' })).toMatchObject({ zerocopy_threshold: 0 });
  });
});
