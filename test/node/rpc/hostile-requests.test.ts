/** Requests built to break the dispatcher: prototype names as parameters, deep nesting, huge
 *  values. Each gets the ordinary JSON-RPC error, never -32603 and never a full echo. */
import { describe, expect, it } from 'vitest';
import { ERROR_MESSAGE_MAX, SPDK_JSONRPC_MAX_VALUES, type RpcServer } from '../../../host/spdk/jsonrpc.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { utMachine } from '../support/ut.js';

async function server(): Promise<RpcServer> {
  const { m } = await utMachine();
  return createRpcServer(m, { state: 'runtime' });
}

function send(rpc: RpcServer, text: string): { code: number; message: string; data?: unknown } {
  const out = rpc.handle(text)!;
  const res = JSON.parse(out) as { error?: { code: number; message: string; data?: unknown } };
  if (res.error === undefined) throw new Error(`expected an error, got ${out.slice(0, 200)}`);
  return res.error;
}

describe('hostile JSON-RPC requests', () => {
  it('prototype names as parameters are unknown, and a missing required one stays missing', async () => {
    const rpc = await server();
    for (const key of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
      const e = send(rpc, `{"jsonrpc":"2.0","id":1,"method":"bdev_malloc_create","params":{"${key}":1,"num_blocks":8,"block_size":512}}`);
      expect(e.code, key).toBe(-32602);
      expect(e.message, key).toBe(`bdev_malloc_create: parameter '${key}' is unknown (accepted: name, num_blocks, block_size, physical_block_size, optimal_io_boundary, md_size, md_interleave, dif_type, dif_is_head_of_md)`);
    }
    const e = send(rpc, '{"jsonrpc":"2.0","id":1,"method":"bdev_lvol_get_xattr","params":{"name":"x"}}');
    expect(e.message).toMatch(/parameter 'xattr_name' is required/);
    // Request members are own properties too: a "method" inherited from nowhere is missing.
    expect(send(rpc, '{"jsonrpc":"2.0","id":1,"__proto__":{"method":"rpc_get_methods"}}').code).toBe(-32600);
  });

  it('a request nested 100k levels deep is a parse error, as over SPDK_JSONRPC_MAX_VALUES values', async () => {
    const rpc = await server();
    const deep = `{"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const e = send(rpc, deep);
    expect(e.code).toBe(-32700);
    expect(e.message).toMatch(/more than 1024 JSON values/);
    const wide = `{"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"name":[${Array(SPDK_JSONRPC_MAX_VALUES).fill(0).join(',')}]}}`;
    expect(send(rpc, wide).code).toBe(-32700);
    // A bad value nested deeper than that limit allows still gets the ordinary error.
    expect(send(rpc, `{"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"name":${'['.repeat(200)}${']'.repeat(200)}}}`).code).toBe(-32602);
    expect(rpc.call('bdev_get_bdevs', {})).toEqual([]);
  });

  it('a 1 MiB bad value is quoted by a short prefix only, in the message and in data', async () => {
    const rpc = await server();
    const big = 'x'.repeat(1 << 20);
    for (const text of [
      `{"jsonrpc":"2.0","id":1,"method":"bdev_malloc_create","params":{"name":"${big}","num_blocks":8,"block_size":512}}`,
      `{"jsonrpc":"2.0","id":1,"method":"bdev_lvol_delete","params":{"name":"${big}"}}`,
      `{"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"name":"${big}"}}`,
      `{"jsonrpc":"2.0","id":1,"method":"${big}"}`,
      `{"jsonrpc":"2.0","id":1,"method":"bdev_malloc_create","params":{"${big}":1}}`,
    ]) {
      const out = rpc.handle(text)!;
      expect(out.length).toBeLessThan(2 * ERROR_MESSAGE_MAX + 400);
      expect(JSON.parse(out).error.message).toMatch(/x{20}/);
    }
  });
});
