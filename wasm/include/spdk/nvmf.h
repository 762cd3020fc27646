/* The NVMe-oF target's public API (subset of upstream include/spdk/nvmf.h). */
#ifndef SPDK_NVMF_H
#define SPDK_NVMF_H

#include "spdk/stdinc.h"
#include "spdk/nvmf_transport.h"

struct spdk_nvmf_tgt;
struct spdk_nvmf_subsystem;
struct spdk_nvmf_poll_group;

struct spdk_nvmf_target_opts {
	char		name[64];
	uint32_t	max_subsystems;
	size_t		size;
};

struct spdk_nvmf_tgt *spdk_nvmf_tgt_create(struct spdk_nvmf_target_opts *opts);
void spdk_nvmf_tgt_destroy(struct spdk_nvmf_tgt *tgt);

bool spdk_nvmf_transport_opts_init(const char *transport_name,
				   struct spdk_nvmf_transport_opts *opts, size_t opts_size);
struct spdk_nvmf_transport *spdk_nvmf_transport_create(const char *transport_name,
		struct spdk_nvmf_transport_opts *opts);
/* Adds the transport and creates its poll group in every target poll group. */
int spdk_nvmf_tgt_add_transport(struct spdk_nvmf_tgt *tgt, struct spdk_nvmf_transport *transport);
struct spdk_nvmf_transport *spdk_nvmf_tgt_get_transport(struct spdk_nvmf_tgt *tgt,
		const char *transport_name);
int spdk_nvmf_transport_listen(struct spdk_nvmf_transport *transport,
			       const struct spdk_nvme_transport_id *trid,
			       struct spdk_nvmf_listen_opts *opts);

struct spdk_nvmf_subsystem *spdk_nvmf_subsystem_create(struct spdk_nvmf_tgt *tgt,
		const char *nqn, int type, uint32_t num_ns);
/* 0, or -EBUSY while controllers are connected. */
int spdk_nvmf_subsystem_destroy(struct spdk_nvmf_subsystem *subsystem);
int spdk_nvmf_subsystem_set_allow_any_host(struct spdk_nvmf_subsystem *subsystem,
		bool allow_any_host);
int spdk_nvmf_subsystem_add_host(struct spdk_nvmf_subsystem *subsystem, const char *hostnqn);
/* Returns the nsid (the requested one, or the lowest free when 0), or 0 on failure. */
uint32_t spdk_nvmf_subsystem_add_ns_ext(struct spdk_nvmf_subsystem *subsystem,
					const char *bdev_name, uint32_t nsid);
int spdk_nvmf_subsystem_add_listener(struct spdk_nvmf_subsystem *subsystem,
				     struct spdk_nvme_transport_id *trid);
struct spdk_nvmf_subsystem *spdk_nvmf_subsystem_get_first(struct spdk_nvmf_tgt *tgt);
struct spdk_nvmf_subsystem *spdk_nvmf_subsystem_get_next(struct spdk_nvmf_subsystem *subsystem);
const char *spdk_nvmf_subsystem_get_nqn(const struct spdk_nvmf_subsystem *subsystem);

#endif /* SPDK_NVMF_H */
