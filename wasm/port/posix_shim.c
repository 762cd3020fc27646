/* libc-shaped wrappers over the host imports, so SPDK-style code calls sendmsg(), epoll_wait(), ...
 * exactly as upstream does. Each wrapper maps a negative host result to -1 + errno. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host.h"

static int
host_result(int32_t rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

int socket(int domain, int type, int protocol)
{
	return host_result(host_socket(domain, type, protocol));
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return host_result(host_bind(fd, addr, len));
}

int listen(int fd, int backlog)
{
	return host_result(host_listen(fd, backlog));
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return host_result(host_accept(fd, addr, len));
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return host_result(host_connect(fd, addr, len));
}

int close(int fd)
{
	return host_result(host_close(fd));
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return host_result(host_setsockopt(fd, level, name, val, len));
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return host_result(host_getsockopt(fd, level, name, val, len));
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return host_result(host_getsockname(fd, addr, len));
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return host_result(host_getpeername(fd, addr, len));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return host_result(host_sendmsg(fd, msg, flags));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return host_result(host_recvmsg(fd, msg, flags));
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	return host_result(host_readv(fd, iov, iovcnt));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return host_result(host_recv(fd, buf, len, flags));
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg = 0;

	/* Read the third argument only for commands that take one: F_GETFL passes none. */
	if (cmd == F_SETFL || cmd == F_SETFD || cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	return host_result(host_fcntl(fd, cmd, arg));
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return host_result(host_poll(fds, nfds, timeout));
}

int epoll_create1(int flags)
{
	return host_result(host_epoll_create1(flags));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return host_result(host_epoll_ctl(epfd, op, fd, ev));
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	return host_result(host_epoll_wait(epfd, events, maxevents, timeout));
}

/* getifaddrs() builds the usual linked list from the host's interface table. */
struct port_ifaddrs {
	struct ifaddrs ifa;
	char name[IF_NAMESIZE];
	struct sockaddr_in addr;
};

int getifaddrs(struct ifaddrs **out)
{
	struct ifaddrs *head = NULL, **tail = &head;
	uint32_t i, flags;

	for (i = 0;; i++) {
		struct port_ifaddrs *p = calloc(1, sizeof(*p));
		int32_t rc;

		if (p == NULL) {
			freeifaddrs(head);
			errno = ENOMEM;
			return -1;
		}
		rc = host_ifaddr(i, p->name, (struct sockaddr *)&p->addr, &flags);
		if (rc < 0) {
			free(p);
			break;
		}
		p->ifa.ifa_name = p->name;
		p->ifa.ifa_addr = (struct sockaddr *)&p->addr;
		p->ifa.ifa_flags = flags;
		*tail = &p->ifa;
		tail = &p->ifa.ifa_next;
	}
	*out = head;
	return 0;
}

void freeifaddrs(struct ifaddrs *ifa)
{
	while (ifa != NULL) {
		struct ifaddrs *next = ifa->ifa_next;

		free(ifa); /* ifa is the first member of port_ifaddrs */
		ifa = next;
	}
}

/* ioctl: only SIOCGIFFLAGS, answered from the same interface table. */
int ioctl(int fd, int req, ...)
{
	struct ifreq *ifr;
	char name[IF_NAMESIZE];
	struct sockaddr_in addr;
	uint32_t i, flags;
	va_list ap;

	(void)fd;
	if (req != SIOCGIFFLAGS) {
		errno = ENOTTY;
		return -1;
	}
	va_start(ap, req);
	ifr = va_arg(ap, struct ifreq *);
	va_end(ap);
	for (i = 0; host_ifaddr(i, name, (struct sockaddr *)&addr, &flags) == 0; i++) {
		if (strncmp(name, ifr->ifr_name, IF_NAMESIZE) == 0) {
			ifr->ifr_flags = (short)flags;
			return 0;
		}
	}
	errno = ENODEV;
	return -1;
}

/* Numeric IPv4 only: the simulation has no resolver, and SPDK passes AI_NUMERICHOST. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	struct {
		struct addrinfo ai;
		struct sockaddr_in sin;
	} *r;
	struct in_addr a = { .s_addr = htonl(INADDR_ANY) };
	long port = 0;

	if (node != NULL && inet_pton(AF_INET, node, &a) != 1) {
		return EAI_NONAME;
	}
	if (service != NULL) {
		char *end;

		port = strtol(service, &end, 10);
		if (*end != '\0' || port < 0 || port > 65535) {
			return EAI_SERVICE;
		}
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return EAI_MEMORY;
	}
	r->sin.sin_family = AF_INET;
	r->sin.sin_port = htons((uint16_t)port);
	r->sin.sin_addr = a;
	r->ai.ai_family = AF_INET;
	r->ai.ai_socktype = hints != NULL && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
	r->ai.ai_protocol = hints != NULL ? hints->ai_protocol : 0;
	r->ai.ai_addrlen = sizeof(r->sin);
	r->ai.ai_addr = (struct sockaddr *)&r->sin;
	*res = &r->ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *ai)
{
	free(ai); /* one allocation holds the addrinfo and its sockaddr */
}
