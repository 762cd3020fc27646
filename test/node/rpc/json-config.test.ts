/** Loading SPDK JSON config files into a real machine's RPC server (lib/init/json_config.c). */
import { describe, expect, it } from 'vitest';
import { JsonConfigError, loadJsonConfig, parseJsonConfig, stripComments } from '../../../host/spdk/json-config.js';
import { defineMethod, RUNTIME, type JsonValue } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer, spdkRpcRegistry } from '../../../host/spdk/rpc/index.js';
import { thrownBy } from '../support/rpc.js';
import { utMachine } from '../support/ut.js';

/** What `save_config` writes for a posix-only target (SPDK v25.01 field names), plus a comment. */
const GOOD = `{
  "subsystems": [
    { "subsystem": "keyring", "config": [] },
    { "subsystem": "iobuf", "config": null },
    {
      "subsystem": "sock",
      "config": [
        // the seed-000 precondition: zero copy on, a threshold, a small send buffer
        {
          "method": "sock_impl_set_options",
          "params": {
            "impl_name": "posix",
            "recv_buf_size": 2097152,
            "send_buf_size": 126976,
            "enable_recv_pipe": true,
            "enable_quickack": false,
            "enable_placement_id": 0,
            "enable_zerocopy_send_server": true,
            "enable_zerocopy_send_client": true,
            "zerocopy_threshold": 8192,
            "tls_version": 0,
            "enable_ktls": false
          }
        }
      ]
    }
  ]
}`;

async function fresh() {
  const { m } = await utMachine();
  const server = createRpcServer(m);
  const opts = () => server.call('sock_impl_get_options', { impl_name: 'posix' }) as Record<string, JsonValue>;
  return { m, server, opts };
}

function configError(f: () => unknown): JsonConfigError {
  return thrownBy(JsonConfigError, f);
}

function sockConfig(params: Record<string, JsonValue>, before: JsonValue[] = []): JsonValue {
  return {
    subsystems: [
      { subsystem: 'sock', config: [...before, { method: 'sock_impl_set_options', params }] },
    ],
  };
}

describe('JSON config: a good file', () => {
  it('applies in order, starts the framework, and the options read back', async () => {
    const { server, opts, m } = await fresh();
    const report = loadJsonConfig(server, GOOD);
    expect(report.applied).toEqual([
      { subsystem: 'sock', method: 'sock_impl_set_options' },
      { subsystem: '', method: 'framework_start_init' },
    ]);
    expect(report.state).toBe('runtime');
    expect(opts()).toMatchObject({ send_buf_size: 126976, enable_zerocopy_send_client: true, zerocopy_threshold: 8192 });
    expect(m.callStr('spdk_wasm_sock_get_opt', 'posix', 4) >>> 0).toBe(8192);
  });

  it('accepts parsed JSON as well as text', async () => {
    const { server, opts } = await fresh();
    loadJsonConfig(server, sockConfig({ impl_name: 'posix', zerocopy_threshold: 512 }));
    expect(opts()['zerocopy_threshold']).toBe(512);
  });

  it('two passes as spdk_tgt: startup methods first, then framework_start_init, then runtime-only ones', async () => {
    const { m } = await utMachine();
    const order: string[] = [];
    const registry = spdkRpcRegistry().register(defineMethod({
      name: 'test_runtime_thing',
      states: RUNTIME,
      params: [{ name: 'tag', type: 'string', required: true }],
      handler(ctx, p) {
        order.push(`${p['tag']}@${ctx.server.state}`);
        return true;
      },
    }));
    const server = createRpcServer(m, { registry });
    const report = loadJsonConfig(server, {
      subsystems: [
        { subsystem: 'nvmf', config: [{ method: 'test_runtime_thing', params: { tag: 'a' } }] },
        { subsystem: 'sock', config: [{ method: 'sock_impl_set_options', params: { impl_name: 'posix', zerocopy_threshold: 9 } }] },
        { subsystem: 'bdev', config: [{ method: 'test_runtime_thing', params: { tag: 'b' } }] },
      ],
    });
    expect(report.applied.map((a) => a.method)).toEqual(['sock_impl_set_options', 'framework_start_init', 'test_runtime_thing', 'test_runtime_thing']);
    expect(order).toEqual(['a@runtime', 'b@runtime']);
  });

  it('startFramework: false leaves the server in startup', async () => {
    const { server } = await fresh();
    expect(loadJsonConfig(server, GOOD, { startFramework: false }).state).toBe('startup');
  });
});

describe('JSON config: a bad file names subsystem, method and field, and changes nothing', () => {
  it.each([
    ['an out-of-range field', { impl_name: 'posix', zerocopy_threshold: -5 }, 'zerocopy_threshold',
      'json config: subsystem "sock" config[1] method "sock_impl_set_options": parameter \'zerocopy_threshold\' must be uint32 in 0..4294967295, got number -5'],
    ['a wrong-typed field', { impl_name: 'posix', enable_quickack: 'no' }, 'enable_quickack', "parameter 'enable_quickack' must be a bool"],
    ['an unknown field', { impl_name: 'posix', frobnicate: true }, 'frobnicate', "parameter 'frobnicate' is unknown"],
    ['a missing field', { zerocopy_threshold: 1 }, 'impl_name', "parameter 'impl_name' is required"],
    ['an unknown impl', { impl_name: 'uring' }, 'impl_name', "parameter 'impl_name' names no registered sock implementation"],
    ['a feature not built', { impl_name: 'posix', enable_ktls: true }, 'enable_ktls', "parameter 'enable_ktls' must be one of false"],
  ])('%s', async (_what, params, field, msg) => {
    const { server, opts } = await fresh();
    const before = opts();
    // A valid entry first: validation covers the whole file before anything is applied.
    const good = { method: 'sock_impl_set_options', params: { impl_name: 'posix', zerocopy_threshold: 4242, send_buf_size: 4096 } };
    const e = configError(() => loadJsonConfig(server, sockConfig(params, [good])));
    expect(e.message).toContain(msg);
    expect(e.message).toMatch(/^json config: subsystem "sock" config\[1\] method "sock_impl_set_options": /);
    expect(e.where).toEqual({ subsystem: 'sock', index: 1, method: 'sock_impl_set_options', field });
    expect(e.rpc?.code).toBe(-32602);
    expect(opts()).toEqual(before);
    expect(server.state).toBe('startup');
  });

  it('an unknown method', async () => {
    const { server, opts } = await fresh();
    const before = opts();
    const e = configError(() => loadJsonConfig(server, {
      subsystems: [
        { subsystem: 'sock', config: [{ method: 'sock_impl_set_options', params: { impl_name: 'posix', zerocopy_threshold: 1 } }] },
        { subsystem: 'bdev', config: [{ method: 'bdev_frobnicate', params: {} }] },
      ],
    }));
    expect(e.message).toBe('json config: subsystem "bdev" config[0] method "bdev_frobnicate": no such method');
    expect(e.where).toEqual({ subsystem: 'bdev', index: 0, method: 'bdev_frobnicate', field: undefined });
    expect(opts()).toEqual(before);
  });

  it('a startup-only method on a server already at runtime', async () => {
    const { server } = await fresh();
    server.call('framework_start_init');
    const e = configError(() => loadJsonConfig(server, GOOD));
    expect(e.message).toBe('json config: subsystem "sock" config[0] method "sock_impl_set_options": may only be called before framework_start_init, and this machine\'s RPC server is already in the runtime state');
  });

  it.each([
    ['{"subsystems": [', /^json config: not valid JSON/],
    ['[]', /the root must be an object with a "subsystems" array, got array/],
    ['{"subsystem": []}', /"subsystems" must be an array, got nothing/],
    ['{"subsystems": [7]}', /subsystems\[0\] must be an object, got number 7/],
    ['{"subsystems": [{"config": []}]}', /subsystems\[0\] needs a "subsystem" name/],
    ['{"subsystems": [{"subsystem": "sock", "config": {}}]}', /subsystem "sock": "config" must be an array or null, got object/],
    ['{"subsystems": [{"subsystem": "sock", "config": [{"params": {}}]}]}', /subsystem "sock" config\[0\] needs a "method"/],
    ['{"subsystems": [{"subsystem": "sock", "config": [{"method": "sock_impl_set_options", "params": [1]}]}]}',
      /subsystem "sock" config\[0\] method "sock_impl_set_options": "params" must be an object, got array/],
    ['{"subsystems": [] /* unterminated', /unterminated \/\* comment/],
  ])('shape: %s', async (text, msg) => {
    const { server } = await fresh();
    expect(configError(() => loadJsonConfig(server, text)).message).toMatch(msg);
  });
});

describe('JSON config parsing', () => {
  it('comments are removed outside strings only', () => {
    expect(stripComments('{"a": "x // y /* z */", // c\n "b": /* d */ 1}')).toBe('{"a": "x // y /* z */", \n "b":   1}');
    expect(JSON.parse(stripComments('{"q": "say \\"//\\"" /* c */}'))).toEqual({ q: 'say "//"' });
  });

  it('lists entries in file order with their subsystem and position; other root members are ignored', () => {
    expect(parseJsonConfig({ comment: 'x', subsystems: [{ subsystem: 'a', config: [{ method: 'm1' }, { method: 'm2', params: { k: 1 } }] }, { subsystem: 'b', config: null }] }))
      .toEqual([
        { subsystem: 'a', index: 0, method: 'm1', params: undefined },
        { subsystem: 'a', index: 1, method: 'm2', params: { k: 1 } },
      ]);
  });
});
