/* File descriptor helpers (upstream include/spdk/fd.h subset). */
#ifndef SPDK_FD_H
#define SPDK_FD_H

#include "spdk/stdinc.h"

/* Set or clear O_NONBLOCK. 0 or negative errno. */
int spdk_fd_set_nonblock(int fd);
int spdk_fd_clear_nonblock(int fd);

#endif /* SPDK_FD_H */
