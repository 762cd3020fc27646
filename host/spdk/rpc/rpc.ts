/** lib/rpc/rpc.c: `rpc_get_methods` (SPDK_RPC_STARTUP | SPDK_RPC_RUNTIME). */
import { defineMethod, STARTUP_AND_RUNTIME } from '../jsonrpc.js';

export const rpcGetMethods = defineMethod({
  name: 'rpc_get_methods',
  states: STARTUP_AND_RUNTIME,
  params: [
    { name: 'current', type: 'bool', doc: 'only methods callable in the current state' },
    { name: 'include_aliases', type: 'bool', doc: 'also deprecated aliases (none are registered here)' },
  ],
  handler(ctx, p) {
    const state = ctx.server.state;
    return ctx.server.registry.list()
      .filter((m) => p['current'] !== true || m.states.includes(state))
      .map((m) => m.name);
  },
});
