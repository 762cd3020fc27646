/* NVMe over Fabrics structures (subset of upstream include/spdk/nvmf_spec.h): the Fabrics
 * command capsules (Connect, Property Get/Set), the Connect data, and the NVMe/TCP PDU
 * headers, which upstream keeps in this header too. Wire layouts, little-endian. */
#ifndef SPDK_NVMF_SPEC_H
#define SPDK_NVMF_SPEC_H

#include "spdk/stdinc.h"
#include "spdk/nvme_spec.h"

#define SPDK_NVMF_NQN_MAX_LEN		223
#define SPDK_NVMF_NQN_MIN_LEN		11
#define SPDK_NVMF_DISCOVERY_NQN		"nqn.2014-08.org.nvmexpress.discovery"

/* ---- Fabrics commands ---- */

enum spdk_nvmf_fabric_cmd_types {
	SPDK_NVMF_FABRIC_COMMAND_PROPERTY_SET		= 0x00,
	SPDK_NVMF_FABRIC_COMMAND_CONNECT		= 0x01,
	SPDK_NVMF_FABRIC_COMMAND_PROPERTY_GET		= 0x04,
	SPDK_NVMF_FABRIC_COMMAND_AUTHENTICATION_SEND	= 0x05,
	SPDK_NVMF_FABRIC_COMMAND_AUTHENTICATION_RECV	= 0x06,
	SPDK_NVMF_FABRIC_COMMAND_DISCONNECT		= 0x08,
	SPDK_NVMF_FABRIC_COMMAND_START_VENDOR_SPECIFIC	= 0xc0,
};

enum spdk_nvmf_fabric_cmd_status_code {
	SPDK_NVMF_FABRIC_SC_INCOMPATIBLE_FORMAT		= 0x80,
	SPDK_NVMF_FABRIC_SC_CONTROLLER_BUSY		= 0x81,
	SPDK_NVMF_FABRIC_SC_INVALID_PARAM		= 0x82,
	SPDK_NVMF_FABRIC_SC_RESTART_DISCOVERY		= 0x83,
	SPDK_NVMF_FABRIC_SC_INVALID_HOST		= 0x84,
	SPDK_NVMF_FABRIC_SC_LOG_RESTART_DISCOVERY	= 0x90,
	SPDK_NVMF_FABRIC_SC_AUTH_REQUIRED		= 0x91,
};

/* Generic Fabrics capsule: every Fabrics command starts like this. */
struct spdk_nvmf_capsule_cmd {
	uint8_t opcode;
	uint8_t reserved1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t reserved2[35];
	uint8_t fabric_specific[24];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_capsule_cmd) == 64, "capsule cmd is 64 B");

/* Connect command attributes (cattr). */
#define SPDK_NVMF_CONNECT_ATTR_DISABLE_SQ_FC (1u << 2)

struct spdk_nvmf_fabric_connect_cmd {
	uint8_t opcode;
	uint8_t reserved1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t reserved2[19];
	struct spdk_nvme_sgl_descriptor sgl1;
	uint16_t recfmt;	/* 40: record format, 0 */
	uint16_t qid;		/* 42 */
	uint16_t sqsize;	/* 44: 0's based */
	uint8_t cattr;		/* 46 */
	uint8_t reserved3;
	uint32_t kato;		/* 48: keep alive timeout, ms */
	uint8_t reserved4[12];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_connect_cmd) == 64, "connect cmd is 64 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_connect_cmd, recfmt) == 40, "recfmt");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_connect_cmd, kato) == 48, "kato");

struct spdk_nvmf_fabric_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;	/* 0xffff: dynamic controller */
	uint8_t reserved5[238];
	uint8_t subnqn[SPDK_NVME_NQN_FIELD_SIZE];
	uint8_t hostnqn[SPDK_NVME_NQN_FIELD_SIZE];
	uint8_t reserved6[256];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_connect_data) == 1024, "connect data 1024 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_connect_data, subnqn) == 256, "subnqn");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_connect_data, hostnqn) == 512, "hostnqn");

struct spdk_nvmf_fabric_connect_rsp {
	union {
		struct {
			uint16_t cntlid;
			uint16_t authreq;
		} success;
		struct {
			uint16_t ipo;	/* offset of the invalid parameter */
			uint8_t iattr;	/* 0: in the command, 1: in the data */
			uint8_t reserved;
		} invalid;
		uint32_t raw;
	} status_code_specific;
	uint32_t reserved0;
	uint16_t sqhd;
	uint16_t reserved1;
	uint16_t cid;
	struct spdk_nvme_status status;
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_connect_rsp) == 16, "connect rsp 16 B");

#define SPDK_NVMF_PROP_SIZE_4	0
#define SPDK_NVMF_PROP_SIZE_8	1

struct spdk_nvmf_fabric_prop_get_cmd {
	uint8_t opcode;
	uint8_t reserved1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t reserved2[35];
	struct {
		uint8_t size		: 3;
		uint8_t reserved	: 5;
	} attrib;		/* 40 */
	uint8_t reserved3[3];
	uint32_t ofst;		/* 44 */
	uint8_t reserved4[16];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_prop_get_cmd) == 64, "prop get 64 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_prop_get_cmd, ofst) == 44, "ofst");

struct spdk_nvmf_fabric_prop_get_rsp {
	union {
		uint64_t u64;
		struct {
			uint32_t low;
			uint32_t high;
		} u32;
	} value;
	uint16_t sqhd;
	uint16_t reserved0;
	uint16_t cid;
	struct spdk_nvme_status status;
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_prop_get_rsp) == 16, "prop get rsp 16 B");

struct spdk_nvmf_fabric_prop_set_cmd {
	uint8_t opcode;
	uint8_t reserved0;
	uint16_t cid;
	uint8_t fctype;
	uint8_t reserved1[35];
	struct {
		uint8_t size		: 3;
		uint8_t reserved	: 5;
	} attrib;		/* 40 */
	uint8_t reserved2[3];
	uint32_t ofst;		/* 44 */
	union {
		uint64_t u64;
		struct {
			uint32_t low;
			uint32_t high;
		} u32;
	} value;		/* 48 */
	uint8_t reserved4[8];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_fabric_prop_set_cmd) == 64, "prop set 64 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvmf_fabric_prop_set_cmd, value) == 48, "value");

/* ---- NVMe/TCP PDUs (NVMe/TCP transport spec, section 3.6) ---- */

#define SPDK_NVME_TCP_DIGEST_LEN		4
#define SPDK_NVME_TCP_DIGEST_ALIGNMENT		4
#define SPDK_NVME_TCP_QPAIR_EXIT_TIMEOUT	30	/* seconds */
#define SPDK_NVMF_TCP_DEFAULT_PORT		4420
/* Largest PDO a receiver accepts: (31 + 1) dwords. */
#define SPDK_NVME_TCP_PDU_PDO_MAX_OFFSET	((31 + 1) << 2)
#define SPDK_NVME_TCP_CPDA_MAX			31
#define SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE 128

enum spdk_nvme_tcp_pdu_type {
	SPDK_NVME_TCP_PDU_TYPE_IC_REQ		= 0x00,
	SPDK_NVME_TCP_PDU_TYPE_IC_RESP		= 0x01,
	SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ	= 0x02,
	SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ	= 0x03,
	SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD	= 0x04,
	SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP	= 0x05,
	SPDK_NVME_TCP_PDU_TYPE_H2C_DATA		= 0x06,
	SPDK_NVME_TCP_PDU_TYPE_C2H_DATA		= 0x07,
	SPDK_NVME_TCP_PDU_TYPE_R2T		= 0x09,
};

#define SPDK_NVME_TCP_CH_FLAGS_HDGSTF		(1u << 0)
#define SPDK_NVME_TCP_CH_FLAGS_DDGSTF		(1u << 1)
#define SPDK_NVME_TCP_H2C_DATA_FLAGS_LAST_PDU	(1u << 2)
#define SPDK_NVME_TCP_C2H_DATA_FLAGS_LAST_PDU	(1u << 2)
#define SPDK_NVME_TCP_C2H_DATA_FLAGS_SUCCESS	(1u << 3)

enum spdk_nvme_tcp_term_req_fes {
	SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD			= 0x01,
	SPDK_NVME_TCP_TERM_REQ_FES_PDU_SEQUENCE_ERROR			= 0x02,
	SPDK_NVME_TCP_TERM_REQ_FES_HDGST_ERROR				= 0x03,
	SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_OUT_OF_RANGE		= 0x04,
	SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_LIMIT_EXCEEDED		= 0x05,
	SPDK_NVME_TCP_TERM_REQ_FES_R2T_LIMIT_EXCEEDED			= 0x05,
	SPDK_NVME_TCP_TERM_REQ_FES_INVALID_DATA_UNSUPPORTED_PARAMETER	= 0x06,
};

struct spdk_nvme_tcp_common_pdu_hdr {
	uint8_t pdu_type;
	uint8_t flags;
	uint8_t hlen;	/* header length, without HDGST */
	uint8_t pdo;	/* data offset from the start of the PDU */
	uint32_t plen;	/* whole PDU, digests and padding included */
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_common_pdu_hdr) == 8, "common header 8 B");

struct spdk_nvme_tcp_ic_req {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t pfv;
	uint8_t hpda;	/* host PDU data alignment, 0's based dwords */
	union {
		uint8_t raw;
		struct {
			uint8_t hdgst_enable	: 1;
			uint8_t ddgst_enable	: 1;
			uint8_t reserved	: 6;
		} bits;
	} dgst;
	uint32_t maxr2t;	/* 0's based */
	uint8_t reserved16[112];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_ic_req) == 128, "ICReq 128 B");

struct spdk_nvme_tcp_ic_resp {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t pfv;
	uint8_t cpda;	/* controller PDU data alignment */
	union {
		uint8_t raw;
		struct {
			uint8_t hdgst_enable	: 1;
			uint8_t ddgst_enable	: 1;
			uint8_t reserved	: 6;
		} bits;
	} dgst;
	uint32_t maxh2cdata;	/* bytes */
	uint8_t reserved16[112];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_ic_resp) == 128, "ICResp 128 B");

struct spdk_nvme_tcp_term_req_hdr {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t fes;		/* fatal error status */
	uint8_t fei[4];		/* fatal error information */
	uint8_t reserved14[10];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_term_req_hdr) == 24, "TermReq 24 B");

struct spdk_nvme_tcp_cmd {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	struct spdk_nvme_cmd ccsqe;
	/* in-capsule data follows, after HDGST and padding */
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_cmd) == 72, "CapsuleCmd 72 B");

struct spdk_nvme_tcp_rsp {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	struct spdk_nvme_cpl rccqe;
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_rsp) == 24, "CapsuleResp 24 B");

struct spdk_nvme_tcp_h2c_data_hdr {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t datao;
	uint32_t datal;
	uint8_t reserved20[4];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_h2c_data_hdr) == 24, "H2CData 24 B");

struct spdk_nvme_tcp_c2h_data_hdr {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t cccid;
	uint8_t reserved10[2];
	uint32_t datao;
	uint32_t datal;
	uint8_t reserved20[4];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_c2h_data_hdr) == 24, "C2HData 24 B");

struct spdk_nvme_tcp_r2t_hdr {
	struct spdk_nvme_tcp_common_pdu_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint8_t reserved20[4];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_tcp_r2t_hdr) == 24, "R2T 24 B");

/* RDMA-CM private data of the NVMe-oF RDMA transport binding (spec facts; layouts as upstream). */
struct spdk_nvmf_rdma_request_private_data {
	uint16_t	recfmt;	/* record format */
	uint16_t	qid;	/* queue id */
	uint16_t	hrqsize;	/* host receive queue size */
	uint16_t	hsqsize;	/* host send queue size */
	uint16_t	cntlid;	/* controller id */
	uint8_t		reserved[22];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_rdma_request_private_data) == 32, "32 bytes");

struct spdk_nvmf_rdma_accept_private_data {
	uint16_t	recfmt;
	uint16_t	crqsize;	/* controller receive queue size */
	uint8_t		reserved[28];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvmf_rdma_accept_private_data) == 32, "32 bytes");

struct spdk_nvmf_rdma_reject_private_data {
	uint16_t	recfmt;
	uint16_t	sts;	/* status */
};

enum spdk_nvmf_rdma_transport_error {
	SPDK_NVMF_RDMA_ERROR_INVALID_PRIVATE_DATA_LENGTH	= 0x1,
	SPDK_NVMF_RDMA_ERROR_INVALID_RECFMT			= 0x2,
	SPDK_NVMF_RDMA_ERROR_INVALID_QID			= 0x3,
	SPDK_NVMF_RDMA_ERROR_INVALID_HSQSIZE			= 0x4,
	SPDK_NVMF_RDMA_ERROR_INVALID_HRQSIZE			= 0x5,
	SPDK_NVMF_RDMA_ERROR_NO_RESOURCES			= 0x6,
	SPDK_NVMF_RDMA_ERROR_INVALID_IRD			= 0x7,
	SPDK_NVMF_RDMA_ERROR_INVALID_ORD			= 0x8,
};

#endif /* SPDK_NVMF_SPEC_H */
