/* lib/util/iov.c: copying between scatter-gather lists (the part of upstream's iov.c this tree
 * uses: the receive pipe copies into and out of its ring with it). */
#include "spdk/stdinc.h"
#include "spdk/util.h"

size_t
spdk_iovcpy(struct iovec *siov, size_t siovcnt, struct iovec *diov, size_t diovcnt)
{
	size_t si = 0, di = 0;
	size_t soff = 0, doff = 0;
	size_t total = 0, len;

	while (si < siovcnt && di < diovcnt) {
		/* Upstream's iterator ends at the first empty element of either list. */
		if (siov[si].iov_len == 0 || diov[di].iov_len == 0) {
			break;
		}

		len = spdk_min(siov[si].iov_len - soff, diov[di].iov_len - doff);
		memcpy((uint8_t *)diov[di].iov_base + doff, (uint8_t *)siov[si].iov_base + soff, len);
		total += len;
		soff += len;
		doff += len;

		if (soff == siov[si].iov_len) {
			si++;
			soff = 0;
		}
		if (doff == diov[di].iov_len) {
			di++;
			doff = 0;
		}
	}

	return total;
}
