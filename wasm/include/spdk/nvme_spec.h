/* NVMe specification structures (subset of upstream include/spdk/nvme_spec.h): the 64-byte
 * submission queue entry, the 16-byte completion, SGL descriptors, opcodes, status codes, the
 * controller registers and the Identify data this tree serves and reads. Layouts are the wire
 * layouts; every structure carries a size assertion. */
#ifndef SPDK_NVME_SPEC_H
#define SPDK_NVME_SPEC_H

#include "spdk/stdinc.h"
#include "spdk/util.h"

/* ---- controller registers ---- */

union spdk_nvme_cap_register {
	uint64_t raw;
	struct {
		uint32_t mqes		: 16;	/* maximum queue entries supported (0's based) */
		uint32_t cqr		: 1;	/* contiguous queues required */
		uint32_t ams		: 2;	/* arbitration mechanism supported */
		uint32_t reserved1	: 5;
		uint32_t to		: 8;	/* timeout, 500 ms units */
		uint32_t dstrd		: 4;
		uint32_t nssrs		: 1;
		uint32_t css		: 8;	/* command sets supported */
		uint32_t bps		: 1;
		uint32_t reserved2	: 2;
		uint32_t mpsmin		: 4;
		uint32_t mpsmax		: 4;
		uint32_t pmrs		: 1;
		uint32_t cmbs		: 1;
		uint32_t reserved3	: 6;
	} bits;
};
SPDK_STATIC_ASSERT(sizeof(union spdk_nvme_cap_register) == 8, "cap is 8 bytes");

#define SPDK_NVME_CAP_CSS_NVM (1u << 0)

union spdk_nvme_cc_register {
	uint32_t raw;
	struct {
		uint32_t en		: 1;
		uint32_t reserved1	: 3;
		uint32_t css		: 3;
		uint32_t mps		: 4;
		uint32_t ams		: 3;
		uint32_t shn		: 2;	/* shutdown notification */
		uint32_t iosqes		: 4;
		uint32_t iocqes		: 4;
		uint32_t reserved2	: 8;
	} bits;
};
SPDK_STATIC_ASSERT(sizeof(union spdk_nvme_cc_register) == 4, "cc is 4 bytes");

enum spdk_nvme_shn_value {
	SPDK_NVME_SHN_NORMAL	= 0x1,
	SPDK_NVME_SHN_ABRUPT	= 0x2,
};

union spdk_nvme_csts_register {
	uint32_t raw;
	struct {
		uint32_t rdy		: 1;
		uint32_t cfs		: 1;	/* controller fatal status */
		uint32_t shst		: 2;	/* shutdown status */
		uint32_t nssro		: 1;
		uint32_t pp		: 1;
		uint32_t reserved1	: 26;
	} bits;
};
SPDK_STATIC_ASSERT(sizeof(union spdk_nvme_csts_register) == 4, "csts is 4 bytes");

enum spdk_nvme_shst_value {
	SPDK_NVME_SHST_NORMAL		= 0x0,
	SPDK_NVME_SHST_OCCURRING	= 0x1,
	SPDK_NVME_SHST_COMPLETE		= 0x2,
};

union spdk_nvme_vs_register {
	uint32_t raw;
	struct {
		uint32_t ter	: 8;
		uint32_t mnr	: 8;
		uint32_t mjr	: 16;
	} bits;
};

#define SPDK_NVME_VERSION(mjr, mnr, ter) \
	(((uint32_t)(mjr) << 16) | ((uint32_t)(mnr) << 8) | (uint32_t)(ter))

union spdk_nvme_aqa_register {
	uint32_t raw;
	struct {
		uint32_t asqs		: 12;
		uint32_t reserved1	: 4;
		uint32_t acqs		: 12;
		uint32_t reserved2	: 4;
	} bits;
};

/* The register file as a Fabrics property space (offsets are what Property Get/Set carry). */
struct spdk_nvme_registers {
	union spdk_nvme_cap_register	cap;	/* 0x00 */
	union spdk_nvme_vs_register	vs;	/* 0x08 */
	uint32_t			intms;	/* 0x0c */
	uint32_t			intmc;	/* 0x10 */
	union spdk_nvme_cc_register	cc;	/* 0x14 */
	uint32_t			reserved1;
	union spdk_nvme_csts_register	csts;	/* 0x1c */
	uint32_t			nssr;	/* 0x20 */
	union spdk_nvme_aqa_register	aqa;	/* 0x24 */
	uint64_t			asq;	/* 0x28 */
	uint64_t			acq;	/* 0x30 */
};
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_registers, cc) == 0x14, "cc offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_registers, csts) == 0x1c, "csts offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_registers, acq) == 0x30, "acq offset");

/* ---- SGL descriptors ---- */

enum spdk_nvme_sgl_descriptor_type {
	SPDK_NVME_SGL_TYPE_DATA_BLOCK		= 0x0,
	SPDK_NVME_SGL_TYPE_BIT_BUCKET		= 0x1,
	SPDK_NVME_SGL_TYPE_SEGMENT		= 0x2,
	SPDK_NVME_SGL_TYPE_LAST_SEGMENT		= 0x3,
	SPDK_NVME_SGL_TYPE_KEYED_DATA_BLOCK	= 0x4,
	SPDK_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK	= 0x5,
	SPDK_NVME_SGL_TYPE_VENDOR_SPECIFIC	= 0xf,
};

enum spdk_nvme_sgl_descriptor_subtype {
	SPDK_NVME_SGL_SUBTYPE_ADDRESS		= 0x0,
	SPDK_NVME_SGL_SUBTYPE_OFFSET		= 0x1,
	SPDK_NVME_SGL_SUBTYPE_TRANSPORT		= 0xa,
};

struct spdk_nvme_sgl_descriptor {
	uint64_t address;
	union {
		struct {
			uint8_t reserved[7];
			uint8_t subtype	: 4;
			uint8_t type	: 4;
		} generic;
		struct {
			uint32_t length;
			uint8_t reserved[3];
			uint8_t subtype	: 4;
			uint8_t type	: 4;
		} unkeyed;
		struct {
			uint64_t length	: 24;
			uint64_t key	: 32;
			uint64_t subtype : 4;
			uint64_t type	: 4;
		} keyed;
	};
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_sgl_descriptor) == 16, "SGL descriptor is 16 bytes");

/* ---- submission queue entry ---- */

enum spdk_nvme_cmd_fuse {
	SPDK_NVME_CMD_FUSE_NONE		= 0x0,
	SPDK_NVME_CMD_FUSE_FIRST	= 0x1,
	SPDK_NVME_CMD_FUSE_SECOND	= 0x2,
	SPDK_NVME_CMD_FUSE_MASK		= 0x3,
};

enum spdk_nvme_psdt_value {
	SPDK_NVME_PSDT_PRP		= 0x0,
	SPDK_NVME_PSDT_SGL_MPTR_CONTIG	= 0x1,
	SPDK_NVME_PSDT_SGL_MPTR_SGL	= 0x2,
};

struct spdk_nvme_cmd {
	uint16_t opc	: 8;
	uint16_t fuse	: 2;
	uint16_t rsvd1	: 4;
	uint16_t psdt	: 2;
	uint16_t cid;
	uint32_t nsid;
	uint32_t rsvd2;
	uint32_t rsvd3;
	uint64_t mptr;
	union {
		struct {
			uint64_t prp1;
			uint64_t prp2;
		} prp;
		struct spdk_nvme_sgl_descriptor sgl1;
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_cmd) == 64, "SQE is 64 bytes");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_cmd, dptr) == 24, "dptr offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_cmd, cdw10) == 40, "cdw10 offset");

/* ---- completion queue entry ---- */

struct spdk_nvme_status {
	uint16_t p	: 1;	/* phase tag */
	uint16_t sc	: 8;	/* status code */
	uint16_t sct	: 3;	/* status code type */
	uint16_t crd	: 2;	/* command retry delay */
	uint16_t m	: 1;	/* more */
	uint16_t dnr	: 1;	/* do not retry */
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_status) == 2, "status is 2 bytes");

struct spdk_nvme_cpl {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	union {
		uint16_t status_raw;
		struct spdk_nvme_status status;
	};
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_cpl) == 16, "CQE is 16 bytes");

enum spdk_nvme_status_code_type {
	SPDK_NVME_SCT_GENERIC			= 0x0,
	SPDK_NVME_SCT_COMMAND_SPECIFIC		= 0x1,
	SPDK_NVME_SCT_MEDIA_ERROR		= 0x2,
	SPDK_NVME_SCT_PATH			= 0x3,
	SPDK_NVME_SCT_VENDOR_SPECIFIC		= 0x7,
};

enum spdk_nvme_generic_command_status_code {
	SPDK_NVME_SC_SUCCESS				= 0x00,
	SPDK_NVME_SC_INVALID_OPCODE			= 0x01,
	SPDK_NVME_SC_INVALID_FIELD			= 0x02,
	SPDK_NVME_SC_COMMAND_ID_CONFLICT		= 0x03,
	SPDK_NVME_SC_DATA_TRANSFER_ERROR		= 0x04,
	SPDK_NVME_SC_ABORTED_POWER_LOSS			= 0x05,
	SPDK_NVME_SC_INTERNAL_DEVICE_ERROR		= 0x06,
	SPDK_NVME_SC_ABORTED_BY_REQUEST			= 0x07,
	SPDK_NVME_SC_ABORTED_SQ_DELETION		= 0x08,
	SPDK_NVME_SC_ABORTED_FAILED_FUSED		= 0x09,
	SPDK_NVME_SC_ABORTED_MISSING_FUSED		= 0x0a,
	SPDK_NVME_SC_INVALID_NAMESPACE_OR_FORMAT	= 0x0b,
	SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR		= 0x0c,
	SPDK_NVME_SC_INVALID_SGL_SEG_DESCRIPTOR		= 0x0d,
	SPDK_NVME_SC_INVALID_NUM_SGL_DESCIRPTORS	= 0x0e,
	SPDK_NVME_SC_DATA_SGL_LENGTH_INVALID		= 0x0f,
	SPDK_NVME_SC_METADATA_SGL_LENGTH_INVALID	= 0x10,
	SPDK_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID	= 0x11,
	SPDK_NVME_SC_INVALID_SGL_OFFSET			= 0x16,
	SPDK_NVME_SC_KEEP_ALIVE_EXPIRED			= 0x19,
	SPDK_NVME_SC_KEEP_ALIVE_INVALID			= 0x1a,
	SPDK_NVME_SC_TRANSIENT_TRANSPORT_ERROR		= 0x22,
	SPDK_NVME_SC_LBA_OUT_OF_RANGE			= 0x80,
	SPDK_NVME_SC_CAPACITY_EXCEEDED			= 0x81,
	SPDK_NVME_SC_NAMESPACE_NOT_READY		= 0x82,
};

enum spdk_nvme_command_specific_status_code {
	SPDK_NVME_SC_COMPLETION_QUEUE_INVALID		= 0x00,
	SPDK_NVME_SC_INVALID_QUEUE_IDENTIFIER		= 0x01,
	SPDK_NVME_SC_INVALID_QUEUE_SIZE			= 0x02,
	SPDK_NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED	= 0x03,
	SPDK_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED	= 0x05,
};

#define spdk_nvme_cpl_is_error(cpl) \
	((cpl)->status.sc != SPDK_NVME_SC_SUCCESS || (cpl)->status.sct != SPDK_NVME_SCT_GENERIC)
#define spdk_nvme_cpl_is_success(cpl) (!spdk_nvme_cpl_is_error(cpl))

/* ---- opcodes ---- */

enum spdk_nvme_data_transfer {
	SPDK_NVME_DATA_NONE			= 0,
	SPDK_NVME_DATA_HOST_TO_CONTROLLER	= 1,
	SPDK_NVME_DATA_CONTROLLER_TO_HOST	= 2,
	SPDK_NVME_DATA_BIDIRECTIONAL		= 3,
};

/* The two low opcode bits give the direction of data (NVMe base spec, "Opcodes"). */
static inline enum spdk_nvme_data_transfer
spdk_nvme_opc_get_data_transfer(uint8_t opc)
{
	return (enum spdk_nvme_data_transfer)(opc & 3);
}

enum spdk_nvme_admin_opcode {
	SPDK_NVME_OPC_DELETE_IO_SQ		= 0x00,
	SPDK_NVME_OPC_CREATE_IO_SQ		= 0x01,
	SPDK_NVME_OPC_GET_LOG_PAGE		= 0x02,
	SPDK_NVME_OPC_DELETE_IO_CQ		= 0x04,
	SPDK_NVME_OPC_CREATE_IO_CQ		= 0x05,
	SPDK_NVME_OPC_IDENTIFY			= 0x06,
	SPDK_NVME_OPC_ABORT			= 0x08,
	SPDK_NVME_OPC_SET_FEATURES		= 0x09,
	SPDK_NVME_OPC_GET_FEATURES		= 0x0a,
	SPDK_NVME_OPC_ASYNC_EVENT_REQUEST	= 0x0c,
	SPDK_NVME_OPC_KEEP_ALIVE		= 0x18,
	SPDK_NVME_OPC_FABRIC			= 0x7f,
};

enum spdk_nvme_nvm_opcode {
	SPDK_NVME_OPC_FLUSH		= 0x00,
	SPDK_NVME_OPC_WRITE		= 0x01,
	SPDK_NVME_OPC_READ		= 0x02,
	SPDK_NVME_OPC_WRITE_ZEROES	= 0x08,
	SPDK_NVME_OPC_DATASET_MANAGEMENT = 0x09,
};

#define SPDK_NVME_IO_FLAGS_FORCE_UNIT_ACCESS (1u << 30)

enum spdk_nvme_identify_cns {
	SPDK_NVME_IDENTIFY_NS			= 0x00,
	SPDK_NVME_IDENTIFY_CTRLR		= 0x01,
	SPDK_NVME_IDENTIFY_ACTIVE_NS_LIST	= 0x02,
};

enum spdk_nvme_feat {
	SPDK_NVME_FEAT_NUMBER_OF_QUEUES		= 0x07,
	SPDK_NVME_FEAT_KEEP_ALIVE_TIMER		= 0x0f,
};

/* ---- Identify data ---- */

struct spdk_nvme_cdata_nvmf_specific {
	uint32_t ioccsz;	/* I/O queue command capsule size, 16-byte units */
	uint32_t iorcsz;	/* I/O queue response capsule size, 16-byte units */
	uint16_t icdoff;	/* in-capsule data offset, 16-byte units */
	uint8_t ctrattr;
	uint8_t msdbd;		/* maximum SGL data block descriptors */
	uint8_t reserved[244];
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_cdata_nvmf_specific) == 256, "nvmf specific is 256");

struct spdk_nvme_ctrlr_data {
	uint16_t vid;			/* 0 */
	uint16_t ssvid;			/* 2 */
	int8_t sn[20];			/* 4 */
	int8_t mn[40];			/* 24 */
	uint8_t fr[8];			/* 64 */
	uint8_t rab;			/* 72 */
	uint8_t ieee[3];		/* 73 */
	uint8_t cmic;			/* 76 */
	uint8_t mdts;			/* 77: max data transfer size, 2^n min pages */
	uint16_t cntlid;		/* 78 */
	uint32_t ver;			/* 80 */
	uint32_t rtd3r;			/* 84 */
	uint32_t rtd3e;			/* 88 */
	uint32_t oaes;			/* 92 */
	uint32_t ctratt;		/* 96 */
	uint8_t reserved_100[156];	/* 100 */
	uint16_t oacs;			/* 256 */
	uint8_t acl;			/* 258 */
	uint8_t aerl;			/* 259 */
	uint8_t frmw;			/* 260 */
	uint8_t lpa;			/* 261 */
	uint8_t elpe;			/* 262 */
	uint8_t npss;			/* 263 */
	uint8_t avscc;			/* 264 */
	uint8_t apsta;			/* 265 */
	uint16_t wctemp;		/* 266 */
	uint16_t cctemp;		/* 268 */
	uint8_t reserved_270[50];	/* 270 */
	uint16_t kas;			/* 320: keep alive support, 100 ms units */
	uint8_t reserved_322[190];	/* 322 */
	uint8_t sqes;			/* 512 */
	uint8_t cqes;			/* 513 */
	uint16_t maxcmd;		/* 514 */
	uint32_t nn;			/* 516 */
	uint16_t oncs;			/* 520 */
	uint16_t fuses;			/* 522 */
	uint8_t fna;			/* 524 */
	uint8_t vwc;			/* 525 */
	uint16_t awun;			/* 526 */
	uint16_t awupf;			/* 528 */
	uint8_t nvscc;			/* 530 */
	uint8_t nwpc;			/* 531 */
	uint16_t acwu;			/* 532 */
	uint16_t reserved_534;		/* 534 */
	uint32_t sgls;			/* 536 */
	uint32_t mnan;			/* 540 */
	uint8_t reserved_544[224];	/* 544 */
	uint8_t subnqn[256];		/* 768 */
	uint8_t reserved_1024[768];	/* 1024 */
	struct spdk_nvme_cdata_nvmf_specific nvmf_specific; /* 1792 */
	uint8_t psd[1024];		/* 2048: power state descriptors (unused) */
	uint8_t vs[1024];		/* 3072 */
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_ctrlr_data) == 4096, "Identify controller is 4096 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, mdts) == 77, "mdts offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, kas) == 320, "kas offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, sqes) == 512, "sqes offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, sgls) == 536, "sgls offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, subnqn) == 768, "subnqn offset");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ctrlr_data, nvmf_specific) == 1792, "ioccsz offset");

struct spdk_nvme_lbaf {
	uint32_t ms	: 16;	/* metadata size */
	uint32_t lbads	: 8;	/* LBA data size, log2 */
	uint32_t rp	: 2;
	uint32_t reserved6 : 6;
};

struct spdk_nvme_ns_data {
	uint64_t nsze;			/* 0 */
	uint64_t ncap;			/* 8 */
	uint64_t nuse;			/* 16 */
	uint8_t nsfeat;			/* 24 */
	uint8_t nlbaf;			/* 25: number of LBA formats, 0's based */
	uint8_t flbas;			/* 26: formatted LBA size, bits 0-3 index lbaf[] */
	uint8_t mc;			/* 27 */
	uint8_t dpc;			/* 28 */
	uint8_t dps;			/* 29 */
	uint8_t nmic;			/* 30 */
	uint8_t nsrescap;		/* 31 */
	uint8_t reserved_32[96];	/* 32 */
	struct spdk_nvme_lbaf lbaf[16];	/* 128 */
	uint8_t reserved_192[3904];	/* 192 */
};
SPDK_STATIC_ASSERT(sizeof(struct spdk_nvme_ns_data) == 4096, "Identify namespace is 4096 B");
SPDK_STATIC_ASSERT(offsetof(struct spdk_nvme_ns_data, lbaf) == 128, "lbaf offset");

#define SPDK_NVME_NQN_FIELD_SIZE 256

#endif /* SPDK_NVME_SPEC_H */
