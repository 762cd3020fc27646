/* Shared between the NVMe/TCP target (lib/nvmf/tcp.c) and initiator (lib/nvme/nvme_tcp.c), as
 * upstream include/spdk_internal/nvme_tcp.h: the in-memory PDU, the receive state machine's
 * states, digest helpers, and building/reading a PDU's iovecs. */
#ifndef SPDK_INTERNAL_NVME_TCP_H
#define SPDK_INTERNAL_NVME_TCP_H

#include "spdk/stdinc.h"
#include "spdk/crc32.h"
#include "spdk/likely.h"
#include "spdk/log.h"
#include "spdk/nvmf_spec.h"
#include "spdk/queue.h"
#include "spdk/sock.h"
#include "spdk/util.h"

#define NVME_TCP_MAX_SGL_DESCRIPTORS	16
#define NVME_TCP_PDU_H2C_MIN_DATA_SIZE	4096
#define NVME_TCP_HPDA_DEFAULT		0
#define NVME_TCP_MAX_R2T_DEFAULT	1
/* How many of the largest expected PDUs a qpair's socket receive pipe holds. */
#define SPDK_NVMF_TCP_RECV_BUF_SIZE_FACTOR	8

/* The 4 digest bytes go on the wire least significant byte first. */
#define MAKE_DIGEST_WORD(BUF, CRC32C) \
	(((*((uint8_t *)(BUF)+0)) = (uint8_t)((uint32_t)(CRC32C))), \
	 ((*((uint8_t *)(BUF)+1)) = (uint8_t)((uint32_t)(CRC32C) >> 8)), \
	 ((*((uint8_t *)(BUF)+2)) = (uint8_t)((uint32_t)(CRC32C) >> 16)), \
	 ((*((uint8_t *)(BUF)+3)) = (uint8_t)((uint32_t)(CRC32C) >> 24)))

#define MATCH_DIGEST_WORD(BUF, CRC32C) \
	((((uint32_t) *((uint8_t *)(BUF)+0)) | \
	  (((uint32_t) *((uint8_t *)(BUF)+1)) << 8) | \
	  (((uint32_t) *((uint8_t *)(BUF)+2)) << 16) | \
	  (((uint32_t) *((uint8_t *)(BUF)+3)) << 24)) == (CRC32C))

typedef void (*nvme_tcp_qpair_xfer_complete_cb)(void *cb_arg);

union nvme_tcp_pdu_hdr {
	/* The header region, including HDGST and padding up to the maximum PDO. */
	uint8_t					raw[SPDK_NVME_TCP_PDU_PDO_MAX_OFFSET];
	struct spdk_nvme_tcp_common_pdu_hdr	common;
	struct spdk_nvme_tcp_ic_req		ic_req;
	struct spdk_nvme_tcp_term_req_hdr	term_req;
	struct spdk_nvme_tcp_cmd		capsule_cmd;
	struct spdk_nvme_tcp_h2c_data_hdr	h2c_data;
	struct spdk_nvme_tcp_ic_resp		ic_resp;
	struct spdk_nvme_tcp_rsp		capsule_resp;
	struct spdk_nvme_tcp_c2h_data_hdr	c2h_data;
	struct spdk_nvme_tcp_r2t_hdr		r2t;
};
SPDK_STATIC_ASSERT(sizeof(union nvme_tcp_pdu_hdr) == SPDK_NVME_TCP_PDU_PDO_MAX_OFFSET,
		   "PDU header region is the maximum PDO");

struct nvme_tcp_pdu {
	union nvme_tcp_pdu_hdr		hdr;
	bool				has_hdgst;
	bool				ddgst_enable;
	uint32_t			data_digest_crc32;
	uint8_t				data_digest[SPDK_NVME_TCP_DIGEST_LEN];

	uint8_t				ch_valid_bytes;
	uint8_t				psh_valid_bytes;
	uint8_t				psh_len;

	nvme_tcp_qpair_xfer_complete_cb	cb_fn;
	void				*cb_arg;

	/* Payload bytes read so far (receive side). */
	uint32_t			readv_offset;
	/* Offset of this PDU's data within its request (C2H/H2C sending). */
	uint32_t			rw_offset;
	uint32_t			padding_len;
	uint32_t			data_len;
	int				data_iovcnt;
	struct iovec			data_iov[NVME_TCP_MAX_SGL_DESCRIPTORS];

	void				*req;	/* tcp_req (target) or nvme_tcp_req (host) */
	void				*qpair;
	TAILQ_ENTRY(nvme_tcp_pdu)	tailq;

	/* The sock layer reads the iovecs right after the request (SPDK_SOCK_REQUEST_IOV). */
	struct spdk_sock_request	sock_req;
	struct iovec			iov[NVME_TCP_MAX_SGL_DESCRIPTORS * 2];
};
SPDK_STATIC_ASSERT(offsetof(struct nvme_tcp_pdu, iov) ==
		   offsetof(struct nvme_tcp_pdu, sock_req) + sizeof(struct spdk_sock_request),
		   "iov must follow sock_req");

/* Where a qpair's PDU reader stands; both sides step it in this order for every PDU. */
enum nvme_tcp_pdu_recv_state {
	NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY,	/* between PDUs: reset, then read a header */
	NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_CH,		/* reading the 8-byte common header */
	NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PSH,		/* reading the type's own header (+ digest) */
	NVME_TCP_PDU_RECV_STATE_AWAIT_REQ,		/* target: a command waits for a free request */
	NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_BUF,		/* the payload waits for a buffer */
	NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PAYLOAD,	/* reading data (+ data digest) */
	NVME_TCP_PDU_RECV_STATE_QUIESCING,		/* stopped; PDUs in use must be given back */
	NVME_TCP_PDU_RECV_STATE_ERROR,			/* nothing more is read from the socket */
};

enum nvme_tcp_error_codes {
	NVME_TCP_PDU_IN_PROGRESS	= 0,
	NVME_TCP_CONNECTION_FATAL	= -1,
	NVME_TCP_PDU_FATAL		= -2,
};

/* Host-side qpair states (lib/nvme/nvme_tcp.c). */
enum nvme_tcp_qpair_state {
	NVME_TCP_QPAIR_STATE_INVALID = 0,
	NVME_TCP_QPAIR_STATE_INITIALIZING = 1,
	NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_SEND = 2,
	NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_POLL = 3,
	NVME_TCP_QPAIR_STATE_RUNNING = 4,
	NVME_TCP_QPAIR_STATE_EXITING = 5,
	NVME_TCP_QPAIR_STATE_EXITED = 6,
};

/* Which PDU types may carry a header / data digest. */
static inline bool
nvme_tcp_pdu_type_has_hdgst(uint8_t type)
{
	return type == SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD ||
	       type == SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP ||
	       type == SPDK_NVME_TCP_PDU_TYPE_H2C_DATA ||
	       type == SPDK_NVME_TCP_PDU_TYPE_C2H_DATA ||
	       type == SPDK_NVME_TCP_PDU_TYPE_R2T;
}

static inline bool
nvme_tcp_pdu_type_has_ddgst(uint8_t type)
{
	return type == SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD ||
	       type == SPDK_NVME_TCP_PDU_TYPE_H2C_DATA ||
	       type == SPDK_NVME_TCP_PDU_TYPE_C2H_DATA;
}

static inline const char *
nvme_tcp_pdu_type_str(uint8_t type)
{
	switch (type) {
	case SPDK_NVME_TCP_PDU_TYPE_IC_REQ: return "ICReq";
	case SPDK_NVME_TCP_PDU_TYPE_IC_RESP: return "ICResp";
	case SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ: return "H2CTermReq";
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ: return "C2HTermReq";
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD: return "CapsuleCmd";
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP: return "CapsuleResp";
	case SPDK_NVME_TCP_PDU_TYPE_H2C_DATA: return "H2CData";
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA: return "C2HData";
	case SPDK_NVME_TCP_PDU_TYPE_R2T: return "R2T";
	default: return "unknown";
	}
}

static inline uint32_t
nvme_tcp_pdu_calc_header_digest(struct nvme_tcp_pdu *pdu)
{
	uint32_t crc32c;

	crc32c = spdk_crc32c_update(&pdu->hdr.raw, pdu->hdr.common.hlen, SPDK_CRC32C_INITIAL);
	return crc32c ^ SPDK_CRC32C_XOR;
}

/* The data digest covers the data, then zero padding to a multiple of 4 bytes. */
static inline uint32_t
nvme_tcp_pdu_calc_data_digest(struct nvme_tcp_pdu *pdu)
{
	static const uint8_t pad[SPDK_NVME_TCP_DIGEST_ALIGNMENT] = {0};
	uint32_t crc32c = SPDK_CRC32C_INITIAL, mod;

	crc32c = spdk_crc32c_iov_update(pdu->data_iov, pdu->data_iovcnt, crc32c);
	mod = pdu->data_len % SPDK_NVME_TCP_DIGEST_ALIGNMENT;
	if (mod != 0) {
		crc32c = spdk_crc32c_update(pad, SPDK_NVME_TCP_DIGEST_ALIGNMENT - mod, crc32c);
	}
	return crc32c ^ SPDK_CRC32C_XOR;
}

/* Points the PDU's data at data_len bytes of iov[], starting data_offset bytes in. */
static inline int
nvme_tcp_pdu_set_data_buf(struct nvme_tcp_pdu *pdu, struct iovec *iov, int iovcnt,
			  uint32_t data_offset, uint32_t data_len)
{
	uint32_t remain = data_len, skip = data_offset, len;
	int i;

	pdu->data_iovcnt = 0;
	pdu->data_len = data_len;
	for (i = 0; i < iovcnt && remain > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		if (pdu->data_iovcnt == NVME_TCP_MAX_SGL_DESCRIPTORS) {
			return -EINVAL;
		}
		len = spdk_min(remain, (uint32_t)iov[i].iov_len - skip);
		pdu->data_iov[pdu->data_iovcnt].iov_base = (uint8_t *)iov[i].iov_base + skip;
		pdu->data_iov[pdu->data_iovcnt].iov_len = len;
		pdu->data_iovcnt++;
		remain -= len;
		skip = 0;
	}
	return remain == 0 ? 0 : -EINVAL;
}

static inline void
nvme_tcp_pdu_set_data(struct nvme_tcp_pdu *pdu, void *data, uint32_t data_len)
{
	pdu->data_iov[0].iov_base = data;
	pdu->data_iov[0].iov_len = data_len;
	pdu->data_iovcnt = 1;
	pdu->data_len = data_len;
}

/* Appends to iov[] the parts of data_iov[] that lie at or after 'offset' bytes of the data. */
static inline int
nvme_tcp_append_data_iovs(struct iovec *iov, int iovcnt, int max, struct nvme_tcp_pdu *pdu,
			  uint32_t offset, uint32_t *mapped)
{
	int i;

	for (i = 0; i < pdu->data_iovcnt && iovcnt < max; i++) {
		if (offset >= pdu->data_iov[i].iov_len) {
			offset -= pdu->data_iov[i].iov_len;
			continue;
		}
		iov[iovcnt].iov_base = (uint8_t *)pdu->data_iov[i].iov_base + offset;
		iov[iovcnt].iov_len = pdu->data_iov[i].iov_len - offset;
		*mapped += iov[iovcnt].iov_len;
		iovcnt++;
		offset = 0;
	}
	return iovcnt;
}

/* The iovecs of a whole PDU on the wire: header (+HDGST, +padding up to PDO), data, DDGST. */
static inline int
nvme_tcp_build_iovs(struct iovec *iov, int iovcnt, struct nvme_tcp_pdu *pdu,
		    bool hdgst_enable, bool ddgst_enable, uint32_t *_mapped_length)
{
	uint32_t hlen, plen = 0, mapped = 0;
	int n = 0;

	hlen = pdu->hdr.common.hlen;
	if (hdgst_enable && nvme_tcp_pdu_type_has_hdgst(pdu->hdr.common.pdu_type)) {
		hlen += SPDK_NVME_TCP_DIGEST_LEN;
	}
	if (pdu->data_len > 0 && pdu->hdr.common.pdo > hlen) {
		/* The zeroed header region supplies the padding. */
		hlen = pdu->hdr.common.pdo;
	}
	iov[n].iov_base = pdu->hdr.raw;
	iov[n].iov_len = hlen;
	mapped += hlen;
	plen += hlen;
	n++;

	if (pdu->data_len > 0) {
		n = nvme_tcp_append_data_iovs(iov, n, iovcnt - 1, pdu, 0, &mapped);
		plen += pdu->data_len;
		if (ddgst_enable && nvme_tcp_pdu_type_has_ddgst(pdu->hdr.common.pdu_type)) {
			iov[n].iov_base = pdu->data_digest;
			iov[n].iov_len = SPDK_NVME_TCP_DIGEST_LEN;
			mapped += SPDK_NVME_TCP_DIGEST_LEN;
			plen += SPDK_NVME_TCP_DIGEST_LEN;
			n++;
		}
	}
	assert(plen == pdu->hdr.common.plen);
	(void)plen;
	if (_mapped_length != NULL) {
		*_mapped_length = mapped;
	}
	return n;
}

/* Reads up to 'bytes'; 0 on EAGAIN, NVME_TCP_CONNECTION_FATAL on EOF or any other error. */
static inline int
nvme_tcp_read_data(struct spdk_sock *sock, int bytes, void *buf)
{
	ssize_t ret;

	ret = spdk_sock_recv(sock, buf, bytes);
	if (ret > 0) {
		return (int)ret;
	}
	if (ret < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		}
		if (errno != ECONNRESET) {
			SPDK_ERRLOG("spdk_sock_recv() failed, errno %d: %s\n", errno, strerror(errno));
		}
	}
	return NVME_TCP_CONNECTION_FATAL;
}

static inline int
nvme_tcp_readv_data(struct spdk_sock *sock, struct iovec *iov, int iovcnt)
{
	ssize_t ret;

	if (iovcnt == 1) {
		return nvme_tcp_read_data(sock, iov->iov_len, iov->iov_base);
	}
	ret = spdk_sock_readv(sock, iov, iovcnt);
	if (ret > 0) {
		return (int)ret;
	}
	if (ret < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		}
		if (errno != ECONNRESET) {
			SPDK_ERRLOG("spdk_sock_readv() failed, errno %d: %s\n", errno, strerror(errno));
		}
	}
	return NVME_TCP_CONNECTION_FATAL;
}

/* Reads the rest of the payload (data, then DDGST if enabled) from readv_offset on. */
static inline int
nvme_tcp_read_payload_data(struct spdk_sock *sock, struct nvme_tcp_pdu *pdu)
{
	struct iovec iov[NVME_TCP_MAX_SGL_DESCRIPTORS + 1];
	uint32_t mapped = 0;
	int n = 0;

	if (pdu->readv_offset < pdu->data_len) {
		n = nvme_tcp_append_data_iovs(iov, 0, NVME_TCP_MAX_SGL_DESCRIPTORS, pdu,
					      pdu->readv_offset, &mapped);
	}
	if (pdu->ddgst_enable) {
		uint32_t dgst_done = pdu->readv_offset > pdu->data_len ?
				     pdu->readv_offset - pdu->data_len : 0;
		iov[n].iov_base = pdu->data_digest + dgst_done;
		iov[n].iov_len = SPDK_NVME_TCP_DIGEST_LEN - dgst_done;
		n++;
	}
	if (n == 0) {
		return 0;
	}
	return nvme_tcp_readv_data(sock, iov, n);
}

#endif /* SPDK_INTERNAL_NVME_TCP_H */
