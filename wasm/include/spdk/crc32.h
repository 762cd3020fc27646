/* CRC32C (Castagnoli), as upstream include/spdk/crc32.h: the running value is passed in and
 * returned without inversion, so a caller starts with SPDK_CRC32C_INITIAL and XORs the result
 * with SPDK_CRC32C_XOR once at the end. NVMe/TCP header and data digests use it. */
#ifndef SPDK_CRC32_H
#define SPDK_CRC32_H

#include "spdk/stdinc.h"

#define SPDK_CRC32C_INITIAL	0xffffffffUL
#define SPDK_CRC32C_XOR		0xffffffffUL

uint32_t spdk_crc32c_update(const void *buf, size_t len, uint32_t crc);
uint32_t spdk_crc32c_iov_update(struct iovec *iov, int iovcnt, uint32_t crc32c);

#endif /* SPDK_CRC32_H */
