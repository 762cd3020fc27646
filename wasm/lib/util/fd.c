/* lib/util/fd.c: O_NONBLOCK through fcntl(), as upstream. */
#include "spdk/stdinc.h"
#include "spdk/fd.h"
#include "spdk/log.h"

static int
fd_update_flags(int fd, int set, int clear)
{
	int flag;

	flag = fcntl(fd, F_GETFL);
	if (flag < 0) {
		SPDK_ERRLOG("fcntl(%d, F_GETFL) failed, errno %d\n", fd, errno);
		return -errno;
	}
	flag = (flag | set) & ~clear;
	if (fcntl(fd, F_SETFL, flag) < 0) {
		SPDK_ERRLOG("fcntl(%d, F_SETFL, 0x%x) failed, errno %d\n", fd, flag, errno);
		return -errno;
	}
	return 0;
}

int
spdk_fd_set_nonblock(int fd)
{
	return fd_update_flags(fd, O_NONBLOCK, 0);
}

int
spdk_fd_clear_nonblock(int fd)
{
	return fd_update_flags(fd, 0, O_NONBLOCK);
}
