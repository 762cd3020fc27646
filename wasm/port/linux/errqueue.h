/* The part of Linux's <linux/errqueue.h> that MSG_ZEROCOPY needs. Emscripten's libc does not ship it,
 * and SPDK includes it only under __linux__, so the seam supplies it. Layout as on Linux. */
#ifndef SPDK_WASM_LINUX_ERRQUEUE_H
#define SPDK_WASM_LINUX_ERRQUEUE_H

#include <stdint.h>

struct sock_extended_err {
	uint32_t ee_errno;
	uint8_t ee_origin;
	uint8_t ee_type;
	uint8_t ee_code;
	uint8_t ee_pad;
	uint32_t ee_info;
	uint32_t ee_data;
};

#define SO_EE_ORIGIN_NONE		0
#define SO_EE_ORIGIN_LOCAL		1
#define SO_EE_ORIGIN_ICMP		2
#define SO_EE_ORIGIN_ICMP6		3
#define SO_EE_ORIGIN_TXSTATUS		4
#define SO_EE_ORIGIN_ZEROCOPY		5
#define SO_EE_CODE_ZEROCOPY_COPIED	1

/* From <linux/in.h> / <linux/in6.h>: the cmsg types of error-queue messages. */
#ifndef IP_RECVERR
#define IP_RECVERR	11
#endif
#ifndef IPV6_RECVERR
#define IPV6_RECVERR	25
#endif

#endif
