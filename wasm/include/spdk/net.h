/* Network helpers (upstream include/spdk/net.h subset). */
#ifndef SPDK_NET_H
#define SPDK_NET_H

#include "spdk/stdinc.h"

/* Local and peer address of a connected fd as strings and ports. 0 or negative errno. */
int spdk_net_getaddr(int fd, char *laddr, int llen, uint16_t *lport,
		     char *paddr, int plen, uint16_t *pport);

/* True if the fd's local address belongs to an interface flagged IFF_LOOPBACK. */
bool spdk_net_is_loopback(int fd);

/* Name of the interface that owns the IPv4 address 'ip'. 0 or negative errno. */
int spdk_net_get_interface_name(const char *ip, char *ifc, size_t len);

#endif /* SPDK_NET_H */
