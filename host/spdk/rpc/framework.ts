/**
 * `framework_start_init` (SPDK_RPC_STARTUP): ends the startup state, as after `spdk_tgt
 * --wait-for-rpc`. The model's subsystems are already initialized by spdk_wasm_init, so this only
 * moves the server to 'runtime', where the configuration methods (nvmf_*, bdev_*) are allowed and
 * startup-only ones (sock_impl_set_options) are not.
 */
import { defineMethod, STARTUP } from '../jsonrpc.js';

export const frameworkStartInit = defineMethod({
  name: 'framework_start_init',
  states: STARTUP,
  params: [],
  handler(ctx) {
    ctx.server.state = 'runtime';
    return true;
  },
  undoable: (ctx) => () => {
    ctx.server.state = 'startup';
  },
});
