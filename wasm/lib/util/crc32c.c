/* lib/util: table-driven CRC32C (reflected polynomial 0x82F63B78), one byte per step. The table
 * is built on first use; check value: CRC32C("123456789") = 0xE3069283. */
#include "spdk/stdinc.h"
#include "spdk/crc32.h"

#define SPDK_CRC32C_POLYNOMIAL_REFLECT 0x82f63b78UL

static uint32_t g_crc32c_table[256];
static bool g_crc32c_table_ready;

static void
crc32c_table_init(void)
{
	uint32_t i, j, v;

	for (i = 0; i < 256; i++) {
		v = i;
		for (j = 0; j < 8; j++) {
			v = (v & 1) ? (v >> 1) ^ SPDK_CRC32C_POLYNOMIAL_REFLECT : v >> 1;
		}
		g_crc32c_table[i] = v;
	}
	g_crc32c_table_ready = true;
}

uint32_t
spdk_crc32c_update(const void *buf, size_t len, uint32_t crc)
{
	const uint8_t *p = buf;

	if (!g_crc32c_table_ready) {
		crc32c_table_init();
	}
	while (len-- > 0) {
		crc = g_crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	}
	return crc;
}

uint32_t
spdk_crc32c_iov_update(struct iovec *iov, int iovcnt, uint32_t crc32c)
{
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_base != NULL && iov[i].iov_len > 0) {
			crc32c = spdk_crc32c_update(iov[i].iov_base, iov[i].iov_len, crc32c);
		}
	}
	return crc32c;
}
