/* module/sock/posix unit-test entry points, defined at the end of posix.c and exported by
 * wasm/api/spdk_wasm_api.c (upstream's posix_ut.c #includes posix.c instead). Not part of the
 * sock API. */
#ifndef SPDK_POSIX_UT_H
#define SPDK_POSIX_UT_H

#include "spdk/stdinc.h"

struct spdk_sock;

int posix_sock_ut_flush(struct spdk_sock *sock);
int posix_sock_ut_check_zcopy(struct spdk_sock *sock);
uint32_t posix_sock_ut_sendmsg_idx(struct spdk_sock *sock);
bool posix_sock_ut_zcopy(struct spdk_sock *sock);
int posix_sock_ut_fd(struct spdk_sock *sock);
void posix_sock_ut_set_sendmsg_idx(struct spdk_sock *sock, uint32_t idx);
int posix_sock_ut_recv_buf_sz(struct spdk_sock *sock);
int posix_sock_ut_pipe_bytes(struct spdk_sock *sock);
bool posix_sock_ut_pipe_has_data(struct spdk_sock *sock);
bool posix_sock_ut_socket_has_data(struct spdk_sock *sock);
bool posix_sock_ut_on_socks_with_data(struct spdk_sock *sock);

#endif
