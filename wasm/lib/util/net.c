/* lib/util/net.c: address strings and loopback detection.
 *
 * spdk_net_is_loopback() is what keeps zero copy off on loopback: it looks up the socket's
 * local address among the interfaces (getifaddrs) and asks that interface's flags with
 * ioctl(SIOCGIFFLAGS). The port only models IPv4 (the host's interface table is IPv4). */
#include "spdk/stdinc.h"
#include "spdk/log.h"
#include "spdk/net.h"

static int
net_addr_str(const struct sockaddr *sa, char *host, size_t hlen)
{
	const char *result = NULL;

	if (sa == NULL || host == NULL) {
		return -EINVAL;
	}
	switch (sa->sa_family) {
	case AF_INET:
		result = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, hlen);
		break;
	case AF_INET6:
		result = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, hlen);
		break;
	default:
		break;
	}
	return result != NULL ? 0 : -errno;
}

int
spdk_net_getaddr(int fd, char *laddr, int llen, uint16_t *lport,
		 char *paddr, int plen, uint16_t *pport)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int rc;

	memset(&sa, 0, sizeof(sa));
	salen = sizeof(sa);
	rc = getsockname(fd, (struct sockaddr *)&sa, &salen);
	if (rc != 0) {
		SPDK_ERRLOG("getsockname() failed (errno=%d)\n", errno);
		return -errno;
	}
	if (sa.ss_family != AF_INET && sa.ss_family != AF_INET6) {
		return -EINVAL;
	}
	if (laddr != NULL) {
		rc = net_addr_str((struct sockaddr *)&sa, laddr, llen);
		if (rc != 0) {
			return rc;
		}
	}
	if (lport != NULL) {
		*lport = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	}

	if (paddr == NULL && pport == NULL) {
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	salen = sizeof(sa);
	rc = getpeername(fd, (struct sockaddr *)&sa, &salen);
	if (rc != 0) {
		SPDK_ERRLOG("getpeername() failed (errno=%d)\n", errno);
		return -errno;
	}
	if (paddr != NULL) {
		rc = net_addr_str((struct sockaddr *)&sa, paddr, plen);
		if (rc != 0) {
			return rc;
		}
	}
	if (pport != NULL) {
		*pport = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	}
	return 0;
}

bool
spdk_net_is_loopback(int fd)
{
	struct ifaddrs *addrs, *ifa;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct ifreq ifr;
	bool is_loopback = false;

	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		return false;
	}
	if (getifaddrs(&addrs) != 0) {
		return false;
	}

	for (ifa = addrs; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr_in *ia = (const struct sockaddr_in *)ifa->ifa_addr;

		if (ia == NULL || !(ifa->ifa_flags & IFF_UP)) {
			continue;
		}
		if (ia->sin_addr.s_addr != sa.sin_addr.s_addr) {
			continue;
		}
		/* Ask the flags by name, as upstream does, rather than trusting ifa_flags. */
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifa->ifa_name);
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK)) {
			is_loopback = true;
		}
		break;
	}

	freeifaddrs(addrs);
	return is_loopback;
}

int
spdk_net_get_interface_name(const char *ip, char *ifc, size_t len)
{
	struct ifaddrs *addrs, *ifa;
	struct in_addr want;
	int rc = -ENODEV;

	if (inet_pton(AF_INET, ip, &want) != 1) {
		return -EINVAL;
	}
	if (getifaddrs(&addrs) != 0) {
		return -errno;
	}
	for (ifa = addrs; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr_in *ia = (const struct sockaddr_in *)ifa->ifa_addr;

		if (ia != NULL && ia->sin_addr.s_addr == want.s_addr) {
			if (strlen(ifa->ifa_name) + 1 > len) {
				rc = -ENOMEM;
			} else {
				snprintf(ifc, len, "%s", ifa->ifa_name);
				rc = 0;
			}
			break;
		}
	}
	freeifaddrs(addrs);
	return rc;
}
