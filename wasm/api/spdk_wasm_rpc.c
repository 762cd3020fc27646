/* Exports behind the TypeScript JSON-RPC methods (host/spdk/rpc/). Upstream decodes JSON in C
 * (lib/sock/sock_rpc.c); here the host validates the parameters against each method's schema and
 * these entry points read and apply the C structures, one field at a time, through the same
 * spdk_sock_impl_get_opts()/spdk_sock_impl_set_opts() calls upstream's handlers make.
 *
 * Errors are negative errno values (emscripten's numbering, see host/gen/abi.ts). */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/sock.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

/* Field numbers shared with host/spdk/rpc/sock.ts (SOCK_IMPL_FIELD); append, never renumber. */
enum spdk_wasm_rpc_sock_impl_field {
	SPDK_WASM_RPC_SOCK_RECV_BUF_SIZE = 0,
	SPDK_WASM_RPC_SOCK_SEND_BUF_SIZE = 1,
	SPDK_WASM_RPC_SOCK_ENABLE_RECV_PIPE = 2,
	SPDK_WASM_RPC_SOCK_ENABLE_QUICKACK = 3,
	SPDK_WASM_RPC_SOCK_ENABLE_PLACEMENT_ID = 4,
	SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_SERVER = 5,
	SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_CLIENT = 6,
	SPDK_WASM_RPC_SOCK_ZEROCOPY_THRESHOLD = 7,
	SPDK_WASM_RPC_SOCK_TLS_VERSION = 8,
	SPDK_WASM_RPC_SOCK_ENABLE_KTLS = 9,
};

static int
rpc_sock_impl_opts_get(const char *impl_name, struct spdk_sock_impl_opts *opts, size_t *len)
{
	int rc;

	memset(opts, 0, sizeof(*opts));
	*len = sizeof(*opts);
	rc = spdk_sock_impl_get_opts(impl_name, opts, len);
	return rc < 0 ? rc : (rc > 0 ? -EINVAL : 0);
}

/* The value of one field as a non-negative number, or -errno (-EINVAL: unknown impl or field). */
SPDK_WASM_API double
spdk_wasm_rpc_sock_impl_get_opt(const char *impl_name, int field)
{
	struct spdk_sock_impl_opts opts;
	size_t len;
	int rc;

	rc = rpc_sock_impl_opts_get(impl_name, &opts, &len);
	if (rc != 0) {
		return rc;
	}
	switch (field) {
	case SPDK_WASM_RPC_SOCK_RECV_BUF_SIZE:
		return opts.recv_buf_size;
	case SPDK_WASM_RPC_SOCK_SEND_BUF_SIZE:
		return opts.send_buf_size;
	case SPDK_WASM_RPC_SOCK_ENABLE_RECV_PIPE:
		return opts.enable_recv_pipe;
	case SPDK_WASM_RPC_SOCK_ENABLE_QUICKACK:
		return opts.enable_quickack;
	case SPDK_WASM_RPC_SOCK_ENABLE_PLACEMENT_ID:
		return opts.enable_placement_id;
	case SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_SERVER:
		return opts.enable_zerocopy_send_server;
	case SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_CLIENT:
		return opts.enable_zerocopy_send_client;
	case SPDK_WASM_RPC_SOCK_ZEROCOPY_THRESHOLD:
		return opts.zerocopy_threshold;
	case SPDK_WASM_RPC_SOCK_TLS_VERSION:
		return opts.tls_version;
	case SPDK_WASM_RPC_SOCK_ENABLE_KTLS:
		return opts.enable_ktls;
	default:
		return -EINVAL;
	}
}

/* Read the impl's options, change one field, write them back (as rpc_sock_impl_set_options does
 * for all decoded fields at once). 0, or -errno. */
SPDK_WASM_API int
spdk_wasm_rpc_sock_impl_set_opt(const char *impl_name, int field, uint32_t value)
{
	struct spdk_sock_impl_opts opts;
	size_t len;
	int rc;

	rc = rpc_sock_impl_opts_get(impl_name, &opts, &len);
	if (rc != 0) {
		return rc;
	}
	switch (field) {
	case SPDK_WASM_RPC_SOCK_RECV_BUF_SIZE:
		opts.recv_buf_size = value;
		break;
	case SPDK_WASM_RPC_SOCK_SEND_BUF_SIZE:
		opts.send_buf_size = value;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_RECV_PIPE:
		opts.enable_recv_pipe = value != 0;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_QUICKACK:
		opts.enable_quickack = value != 0;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_PLACEMENT_ID:
		opts.enable_placement_id = value;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_SERVER:
		opts.enable_zerocopy_send_server = value != 0;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_ZEROCOPY_SEND_CLIENT:
		opts.enable_zerocopy_send_client = value != 0;
		break;
	case SPDK_WASM_RPC_SOCK_ZEROCOPY_THRESHOLD:
		opts.zerocopy_threshold = value;
		break;
	case SPDK_WASM_RPC_SOCK_TLS_VERSION:
		opts.tls_version = value;
		break;
	case SPDK_WASM_RPC_SOCK_ENABLE_KTLS:
		opts.enable_ktls = value != 0;
		break;
	default:
		return -EINVAL;
	}
	rc = spdk_sock_impl_set_opts(impl_name, &opts, len);
	return rc < 0 ? rc : (rc > 0 ? -EINVAL : 0);
}
