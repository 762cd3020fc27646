/* Test-only exports: one NVMe/TCP PDU encoded or decoded through the model's wire structs
 * (include/spdk/nvmf_spec.h) and the helpers lib/nvme and lib/nvmf share (spdk_internal/nvme_tcp.h:
 * header/data digests, nvme_tcp_build_iovs), so a test can hold their bytes against the spec's
 * layouts and against its own encoder. Nothing here is on the model's path.
 *
 * Fields f[] per PDU type (the same on encode and decode):
 *   ICReq   0 pfv, 1 hpda, 2 dgst (bit0 HDGST, bit1 DDGST), 3 maxr2t
 *   ICResp  0 pfv, 1 cpda, 2 dgst, 3 maxh2cdata
 *   H2CTermReq / C2HTermReq  0 fes, 1 fei (as a little-endian u32)
 *   CapsuleCmd  0 opc, 1 cid, 2 nsid, 3 cdw10, 4 cdw11, 5 cdw12, 6 SGL length, 7 SGL type,
 *               8 SGL subtype, 9 SGL address (low 32 bits), 10 fuse, 11 psdt
 *   CapsuleResp 0 cdw0, 1 cdw1, 2 sqhd, 3 sqid, 4 cid, 5 sc, 6 sct, 7 dnr, 8 p
 *   H2CData 0 cccid, 1 ttag, 2 datao, 3 datal, 4 LAST_PDU
 *   C2HData 0 cccid, 1 datao, 2 datal, 3 LAST_PDU, 4 SUCCESS
 *   R2T     0 cccid, 1 ttag, 2 r2to, 3 r2tl
 * On decode, also: 16 type, 17 flags, 18 hlen, 19 pdo, 20 plen, 21 header digest and 22 data
 * digest (0 absent, 1 matches, 2 mismatch), 23 data offset, 24 data length. */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk_internal/nvme_tcp.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

#define UT_PDU_FIELDS 25

static uint32_t
ut_pdu_hlen(uint8_t type)
{
	switch (type) {
	case SPDK_NVME_TCP_PDU_TYPE_IC_REQ: return sizeof(struct spdk_nvme_tcp_ic_req);
	case SPDK_NVME_TCP_PDU_TYPE_IC_RESP: return sizeof(struct spdk_nvme_tcp_ic_resp);
	case SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ:
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ: return sizeof(struct spdk_nvme_tcp_term_req_hdr);
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD: return sizeof(struct spdk_nvme_tcp_cmd);
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP: return sizeof(struct spdk_nvme_tcp_rsp);
	case SPDK_NVME_TCP_PDU_TYPE_H2C_DATA: return sizeof(struct spdk_nvme_tcp_h2c_data_hdr);
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA: return sizeof(struct spdk_nvme_tcp_c2h_data_hdr);
	case SPDK_NVME_TCP_PDU_TYPE_R2T: return sizeof(struct spdk_nvme_tcp_r2t_hdr);
	default: return 0;
	}
}

static bool
ut_pdu_is_term_req(uint8_t type)
{
	return type == SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ || type == SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ;
}

/* Type-specific header fields, written through the structs. */
static void
ut_pdu_set_fields(union nvme_tcp_pdu_hdr *h, const uint32_t *f, uint32_t data_len)
{
	struct spdk_nvme_cmd *cmd = &h->capsule_cmd.ccsqe;
	struct spdk_nvme_cpl *cpl = &h->capsule_resp.rccqe;

	switch (h->common.pdu_type) {
	case SPDK_NVME_TCP_PDU_TYPE_IC_REQ:
		h->ic_req.pfv = f[0];
		h->ic_req.hpda = f[1];
		h->ic_req.dgst.raw = f[2];
		h->ic_req.maxr2t = f[3];
		break;
	case SPDK_NVME_TCP_PDU_TYPE_IC_RESP:
		h->ic_resp.pfv = f[0];
		h->ic_resp.cpda = f[1];
		h->ic_resp.dgst.raw = f[2];
		h->ic_resp.maxh2cdata = f[3];
		break;
	case SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ:
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ:
		h->term_req.fes = f[0];
		memcpy(h->term_req.fei, &f[1], sizeof(h->term_req.fei));
		break;
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD:
		cmd->opc = f[0];
		cmd->cid = f[1];
		cmd->nsid = f[2];
		cmd->cdw10 = f[3];
		cmd->cdw11 = f[4];
		cmd->cdw12 = f[5];
		cmd->dptr.sgl1.unkeyed.length = f[6];
		cmd->dptr.sgl1.unkeyed.type = f[7];
		cmd->dptr.sgl1.unkeyed.subtype = f[8];
		cmd->dptr.sgl1.address = f[9];
		cmd->fuse = f[10];
		cmd->psdt = f[11];
		break;
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP:
		cpl->cdw0 = f[0];
		cpl->cdw1 = f[1];
		cpl->sqhd = f[2];
		cpl->sqid = f[3];
		cpl->cid = f[4];
		cpl->status.sc = f[5];
		cpl->status.sct = f[6];
		cpl->status.dnr = f[7];
		cpl->status.p = f[8];
		break;
	case SPDK_NVME_TCP_PDU_TYPE_H2C_DATA:
		h->h2c_data.cccid = f[0];
		h->h2c_data.ttag = f[1];
		h->h2c_data.datao = f[2];
		h->h2c_data.datal = data_len;
		if (f[4]) {
			h->common.flags |= SPDK_NVME_TCP_H2C_DATA_FLAGS_LAST_PDU;
		}
		break;
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA:
		h->c2h_data.cccid = f[0];
		h->c2h_data.datao = f[1];
		h->c2h_data.datal = data_len;
		if (f[3]) {
			h->common.flags |= SPDK_NVME_TCP_C2H_DATA_FLAGS_LAST_PDU;
		}
		if (f[4]) {
			h->common.flags |= SPDK_NVME_TCP_C2H_DATA_FLAGS_SUCCESS;
		}
		break;
	case SPDK_NVME_TCP_PDU_TYPE_R2T:
		h->r2t.cccid = f[0];
		h->r2t.ttag = f[1];
		h->r2t.r2to = f[2];
		h->r2t.r2tl = f[3];
		break;
	default:
		break;
	}
}

static void
ut_pdu_get_fields(const union nvme_tcp_pdu_hdr *h, uint32_t *f)
{
	const struct spdk_nvme_cmd *cmd = &h->capsule_cmd.ccsqe;
	const struct spdk_nvme_cpl *cpl = &h->capsule_resp.rccqe;
	uint8_t flags = h->common.flags;

	switch (h->common.pdu_type) {
	case SPDK_NVME_TCP_PDU_TYPE_IC_REQ:
		f[0] = h->ic_req.pfv;
		f[1] = h->ic_req.hpda;
		f[2] = h->ic_req.dgst.raw;
		f[3] = h->ic_req.maxr2t;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_IC_RESP:
		f[0] = h->ic_resp.pfv;
		f[1] = h->ic_resp.cpda;
		f[2] = h->ic_resp.dgst.raw;
		f[3] = h->ic_resp.maxh2cdata;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ:
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ:
		f[0] = h->term_req.fes;
		memcpy(&f[1], h->term_req.fei, sizeof(h->term_req.fei));
		break;
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD:
		f[0] = cmd->opc;
		f[1] = cmd->cid;
		f[2] = cmd->nsid;
		f[3] = cmd->cdw10;
		f[4] = cmd->cdw11;
		f[5] = cmd->cdw12;
		f[6] = cmd->dptr.sgl1.unkeyed.length;
		f[7] = cmd->dptr.sgl1.unkeyed.type;
		f[8] = cmd->dptr.sgl1.unkeyed.subtype;
		f[9] = (uint32_t)cmd->dptr.sgl1.address;
		f[10] = cmd->fuse;
		f[11] = cmd->psdt;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP:
		f[0] = cpl->cdw0;
		f[1] = cpl->cdw1;
		f[2] = cpl->sqhd;
		f[3] = cpl->sqid;
		f[4] = cpl->cid;
		f[5] = cpl->status.sc;
		f[6] = cpl->status.sct;
		f[7] = cpl->status.dnr;
		f[8] = cpl->status.p;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_H2C_DATA:
		f[0] = h->h2c_data.cccid;
		f[1] = h->h2c_data.ttag;
		f[2] = h->h2c_data.datao;
		f[3] = h->h2c_data.datal;
		f[4] = (flags & SPDK_NVME_TCP_H2C_DATA_FLAGS_LAST_PDU) != 0;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA:
		f[0] = h->c2h_data.cccid;
		f[1] = h->c2h_data.datao;
		f[2] = h->c2h_data.datal;
		f[3] = (flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_LAST_PDU) != 0;
		f[4] = (flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) != 0;
		break;
	case SPDK_NVME_TCP_PDU_TYPE_R2T:
		f[0] = h->r2t.cccid;
		f[1] = h->r2t.ttag;
		f[2] = h->r2t.r2to;
		f[3] = h->r2t.r2tl;
		break;
	default:
		break;
	}
}

/* Encodes one PDU (fields above; data: in-capsule, H2C or C2H data, or a TermReq's offending
 * header). dgst: bit0 HDGST, bit1 DDGST negotiated; pda: the receiver's PDU data alignment
 * (0's-based dwords). Writes at most out_len bytes to out; returns plen or -errno. */
SPDK_WASM_API int
spdk_wasm_ut_pdu_encode(uint32_t type, const uint32_t *f, const void *data, uint32_t data_len,
			uint32_t dgst, uint32_t pda, void *out, uint32_t out_len)
{
	struct nvme_tcp_pdu *pdu;
	union nvme_tcp_pdu_hdr *h;
	uint32_t hlen = ut_pdu_hlen(type), hd_len, plen, mapped = 0, at = 0, alignment;
	bool hdgst, ddgst;
	int iovcnt, i;

	if (hlen == 0 || (data_len > 0 && data == NULL) || pda > SPDK_NVME_TCP_CPDA_MAX ||
	    (ut_pdu_is_term_req(type) && data_len > SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE)) {
		return -EINVAL;
	}
	pdu = calloc(1, sizeof(*pdu));
	if (pdu == NULL) {
		return -ENOMEM;
	}
	h = &pdu->hdr;
	h->common.pdu_type = type;
	h->common.hlen = hlen;
	hdgst = (dgst & 1) && nvme_tcp_pdu_type_has_hdgst(type);
	ddgst = (dgst & 2) && nvme_tcp_pdu_type_has_ddgst(type) && data_len > 0;
	hd_len = hlen + (hdgst ? SPDK_NVME_TCP_DIGEST_LEN : 0);
	plen = hd_len;
	if (hdgst) {
		h->common.flags |= SPDK_NVME_TCP_CH_FLAGS_HDGSTF;
	}
	if (data_len > 0) {
		/* As the model's senders: data starts after the header (and HDGST), rounded up
		 * to the receiver's alignment; a TermReq's data follows its header directly. */
		alignment = (pda + 1) << 2;
		h->common.pdo = ut_pdu_is_term_req(type) || pda == 0 ? hd_len :
				(hd_len + alignment - 1) / alignment * alignment;
		plen = h->common.pdo + data_len + (ddgst ? SPDK_NVME_TCP_DIGEST_LEN : 0);
		if (ddgst) {
			h->common.flags |= SPDK_NVME_TCP_CH_FLAGS_DDGSTF;
		}
		nvme_tcp_pdu_set_data(pdu, (void *)data, data_len);
	}
	h->common.plen = plen;
	ut_pdu_set_fields(h, f, data_len);
	if (hdgst) {
		MAKE_DIGEST_WORD((uint8_t *)h->raw + hlen, nvme_tcp_pdu_calc_header_digest(pdu));
	}
	if (ddgst) {
		MAKE_DIGEST_WORD(pdu->data_digest, nvme_tcp_pdu_calc_data_digest(pdu));
	}
	if (plen > out_len) {
		free(pdu);
		return -ENOSPC;
	}
	iovcnt = nvme_tcp_build_iovs(pdu->iov, SPDK_COUNTOF(pdu->iov), pdu, hdgst, ddgst, &mapped);
	for (i = 0; i < iovcnt; i++) {
		memcpy((uint8_t *)out + at, pdu->iov[i].iov_base, pdu->iov[i].iov_len);
		at += pdu->iov[i].iov_len;
	}
	free(pdu);
	return at == plen && mapped == plen ? (int)plen : -EIO;
}

/* Decodes the PDU at buf (len bytes); f must hold UT_PDU_FIELDS values. dgst: what was
 * negotiated (bit0 HDGST, bit1 DDGST): a digest is checked when negotiated and flagged.
 * Returns 0, -EINVAL for a type or framing it cannot read, -EMSGSIZE when plen exceeds len. */
SPDK_WASM_API int
spdk_wasm_ut_pdu_decode(const void *buf, uint32_t len, uint32_t dgst, uint32_t *f)
{
	const struct spdk_nvme_tcp_common_pdu_hdr *ch = buf;
	struct nvme_tcp_pdu *pdu;
	uint32_t hlen, data_off = 0, data_len = 0, ddlen;
	uint8_t type, flags;

	if (buf == NULL || f == NULL || len < sizeof(*ch)) {
		return -EINVAL;
	}
	memset(f, 0, UT_PDU_FIELDS * sizeof(*f));
	type = ch->pdu_type;
	flags = ch->flags;
	hlen = ut_pdu_hlen(type);
	if (hlen == 0 || ch->hlen != hlen || ch->plen < hlen) {
		return -EINVAL;
	}
	if (ch->plen > len) {
		return -EMSGSIZE;
	}
	pdu = calloc(1, sizeof(*pdu));
	if (pdu == NULL) {
		return -ENOMEM;
	}
	memcpy(pdu->hdr.raw, buf, spdk_min(ch->plen, (uint32_t)sizeof(pdu->hdr.raw)));
	ut_pdu_get_fields(&pdu->hdr, f);
	f[16] = type;
	f[17] = flags;
	f[18] = hlen;
	f[19] = ch->pdo;
	f[20] = ch->plen;
	if ((dgst & 1) && nvme_tcp_pdu_type_has_hdgst(type) && (flags & SPDK_NVME_TCP_CH_FLAGS_HDGSTF)) {
		f[21] = MATCH_DIGEST_WORD((const uint8_t *)buf + hlen,
					  nvme_tcp_pdu_calc_header_digest(pdu)) ? 1 : 2;
	}
	ddlen = (dgst & 2) && nvme_tcp_pdu_type_has_ddgst(type) &&
		(flags & SPDK_NVME_TCP_CH_FLAGS_DDGSTF) ? SPDK_NVME_TCP_DIGEST_LEN : 0;
	if (ut_pdu_is_term_req(type)) {
		data_off = hlen;
		data_len = ch->plen - hlen;
	} else if (ch->pdo > 0) {
		if (ch->pdo > ch->plen || ch->plen - ch->pdo < ddlen) {
			free(pdu);
			return -EINVAL;
		}
		data_off = ch->pdo;
		data_len = ch->plen - ch->pdo - ddlen;
	}
	f[23] = data_off;
	f[24] = data_len;
	if (ddlen > 0 && data_len > 0) {
		nvme_tcp_pdu_set_data(pdu, (uint8_t *)buf + data_off, data_len);
		f[22] = MATCH_DIGEST_WORD((const uint8_t *)buf + data_off + data_len,
					  nvme_tcp_pdu_calc_data_digest(pdu)) ? 1 : 2;
	}
	free(pdu);
	return 0;
}
