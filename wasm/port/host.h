/* The one seam: every OS service the C model uses is a WebAssembly import from module "host".
 * Each import returns a value >= 0 on success or a negative errno (emscripten's numbering);
 * the libc-shaped wrappers in posix_shim.c turn that into -1 + errno as upstream code expects.
 * The TypeScript side is host/spdk/imports.ts, which decodes the pointers and calls HostKernel. */
#ifndef SPDK_WASM_PORT_HOST_H
#define SPDK_WASM_PORT_HOST_H

#include <stdint.h>
#include <stddef.h>

struct sockaddr;
struct msghdr;
struct iovec;
struct pollfd;
struct epoll_event;
struct host_blk_cqe;

#define HOST_IMPORT(name) __attribute__((import_module("host"), import_name(#name)))

/* The virtual clock as both sides see it, shared in linear memory rather than imported: the host
 * writes now_us before each call into the module; spdk_wasm_poll_once leaves the earliest due time
 * of any timed poller (absolute µs, -1 if none) in next_deadline_us, and whether messages wait. */
struct spdk_wasm_clock {
	double now_us;
	double next_deadline_us;
	uint32_t pending_msgs;	/* after a poll: 1 if a thread has messages waiting */
	uint32_t reserved;
};
extern struct spdk_wasm_clock g_spdk_wasm_clock;

/* Diagnostics */
HOST_IMPORT(host_log) void host_log(int32_t level, const char *msg, uint32_t len);
HOST_IMPORT(host_trace) void host_trace(const char *event, uint32_t a, uint32_t b, uint32_t c,
					uint32_t d);

/* Sockets */
HOST_IMPORT(host_socket) int32_t host_socket(int32_t domain, int32_t type, int32_t protocol);
HOST_IMPORT(host_bind) int32_t host_bind(int32_t fd, const struct sockaddr *addr, uint32_t len);
HOST_IMPORT(host_listen) int32_t host_listen(int32_t fd, int32_t backlog);
HOST_IMPORT(host_accept) int32_t host_accept(int32_t fd, struct sockaddr *addr, uint32_t *len);
HOST_IMPORT(host_connect) int32_t host_connect(int32_t fd, const struct sockaddr *addr, uint32_t len);
HOST_IMPORT(host_close) int32_t host_close(int32_t fd);
HOST_IMPORT(host_setsockopt) int32_t host_setsockopt(int32_t fd, int32_t level, int32_t name,
		const void *val, uint32_t len);
HOST_IMPORT(host_getsockopt) int32_t host_getsockopt(int32_t fd, int32_t level, int32_t name,
		void *val, uint32_t *len);
HOST_IMPORT(host_getsockname) int32_t host_getsockname(int32_t fd, struct sockaddr *addr, uint32_t *len);
HOST_IMPORT(host_getpeername) int32_t host_getpeername(int32_t fd, struct sockaddr *addr, uint32_t *len);
HOST_IMPORT(host_sendmsg) int32_t host_sendmsg(int32_t fd, const struct msghdr *msg, int32_t flags);
HOST_IMPORT(host_recvmsg) int32_t host_recvmsg(int32_t fd, struct msghdr *msg, int32_t flags);
HOST_IMPORT(host_readv) int32_t host_readv(int32_t fd, const struct iovec *iov, int32_t iovcnt);
HOST_IMPORT(host_recv) int32_t host_recv(int32_t fd, void *buf, uint32_t len, int32_t flags);
HOST_IMPORT(host_fcntl) int32_t host_fcntl(int32_t fd, int32_t cmd, int32_t arg);

/* Readiness */
HOST_IMPORT(host_poll) int32_t host_poll(struct pollfd *fds, uint32_t nfds, int32_t timeout);
HOST_IMPORT(host_epoll_create1) int32_t host_epoll_create1(int32_t flags);
HOST_IMPORT(host_epoll_ctl) int32_t host_epoll_ctl(int32_t epfd, int32_t op, int32_t fd,
		struct epoll_event *ev);
HOST_IMPORT(host_epoll_wait) int32_t host_epoll_wait(int32_t epfd, struct epoll_event *events,
		int32_t maxevents, int32_t timeout);

/* Interfaces: the i-th configured address (name, IPv4 address, IFF_* flags), -ENOENT past the end. */
HOST_IMPORT(host_ifaddr) int32_t host_ifaddr(uint32_t index, char name[16], struct sockaddr *addr,
		uint32_t *flags);

/* Host block devices (a file or block device opened by path), asynchronous like io_uring: open
 * gives a descriptor, a ring collects the completions of the submissions made through it, and the
 * C reaps them from a poller. Offsets and sizes are bytes, as doubles (exact below 2^53).
 * Operation codes and struct host_blk_cqe: host_blk.h. Wrappers: blk_shim.c. */
HOST_IMPORT(host_blk_open) int32_t host_blk_open(const char *path, uint32_t path_len, int32_t flags);
HOST_IMPORT(host_blk_info) int32_t host_blk_info(int32_t fd, uint32_t *blocklen, double *size);
HOST_IMPORT(host_blk_close) int32_t host_blk_close(int32_t fd);
HOST_IMPORT(host_blk_ring_create) int32_t host_blk_ring_create(uint32_t entries);
HOST_IMPORT(host_blk_ring_destroy) int32_t host_blk_ring_destroy(int32_t ring);
HOST_IMPORT(host_blk_submit) int32_t host_blk_submit(int32_t ring, int32_t fd, int32_t op,
		double offset, uint32_t len, void *buf, uint32_t user_data);
HOST_IMPORT(host_blk_reap) int32_t host_blk_reap(int32_t ring, struct host_blk_cqe *cqes,
		uint32_t max);

/* Exposure of SPDK storage to the host kernel (ublk-like): the kernel submits block I/O to an
 * exported C function with a tag, and the C completes each one here (rc 0 or a negative errno). */
HOST_IMPORT(host_blk_export_done) void host_blk_export_done(uint32_t tag, int32_t rc);

/* Verbs (the model's libibverbs, rdma_shim.c): objects are host handles (> 0); work requests,
 * completions and attributes are read and written in place (host/spdk/rdma-imports.ts). */
struct ibv_send_wr;
struct ibv_recv_wr;
struct ibv_wc;
struct ibv_qp_cap;
HOST_IMPORT(host_ibv_device_name) int32_t host_ibv_device_name(uint32_t index, char name[64]);
HOST_IMPORT(host_ibv_open_device) int32_t host_ibv_open_device(const char *name);
HOST_IMPORT(host_ibv_close_device) int32_t host_ibv_close_device(uint32_t ctx);
HOST_IMPORT(host_ibv_async_fd) int32_t host_ibv_async_fd(uint32_t ctx);
/* lim: max_qp, max_qp_wr, max_sge, max_cqe, max_mr, max_srq, max_srq_wr */
HOST_IMPORT(host_ibv_query_device) int32_t host_ibv_query_device(uint32_t ctx, int32_t lim[7]);
HOST_IMPORT(host_ibv_get_async_event) int32_t host_ibv_get_async_event(uint32_t ctx, uint32_t *type,
		uint32_t *element);
HOST_IMPORT(host_ibv_ack_async_event) int32_t host_ibv_ack_async_event(uint32_t ctx, uint32_t element);
HOST_IMPORT(host_ibv_alloc_pd) int32_t host_ibv_alloc_pd(uint32_t ctx);
HOST_IMPORT(host_ibv_dealloc_pd) int32_t host_ibv_dealloc_pd(uint32_t pd);
HOST_IMPORT(host_ibv_reg_mr) int32_t host_ibv_reg_mr(uint32_t pd, void *addr, double len, int32_t access,
		uint32_t keys[2]);
HOST_IMPORT(host_ibv_dereg_mr) int32_t host_ibv_dereg_mr(uint32_t mr);
HOST_IMPORT(host_ibv_create_comp_channel) int32_t host_ibv_create_comp_channel(uint32_t ctx, int32_t *fd);
HOST_IMPORT(host_ibv_destroy_comp_channel) int32_t host_ibv_destroy_comp_channel(uint32_t ch);
HOST_IMPORT(host_ibv_create_cq) int32_t host_ibv_create_cq(uint32_t ctx, int32_t cqe, uint32_t ch);
HOST_IMPORT(host_ibv_destroy_cq) int32_t host_ibv_destroy_cq(uint32_t cq);
HOST_IMPORT(host_ibv_poll_cq) int32_t host_ibv_poll_cq(uint32_t cq, int32_t max, struct ibv_wc *wc);
HOST_IMPORT(host_ibv_req_notify_cq) int32_t host_ibv_req_notify_cq(uint32_t cq);
HOST_IMPORT(host_ibv_create_srq) int32_t host_ibv_create_srq(uint32_t pd, uint32_t max_wr, uint32_t max_sge);
HOST_IMPORT(host_ibv_destroy_srq) int32_t host_ibv_destroy_srq(uint32_t srq);
HOST_IMPORT(host_ibv_post_srq_recv) int32_t host_ibv_post_srq_recv(uint32_t srq, struct ibv_recv_wr *wr,
		int32_t *bad_index);
HOST_IMPORT(host_ibv_create_qp) int32_t host_ibv_create_qp(uint32_t pd, uint32_t send_cq, uint32_t recv_cq,
		uint32_t srq, const struct ibv_qp_cap *cap, int32_t sq_sig_all, uint32_t *qp_num);
HOST_IMPORT(host_ibv_destroy_qp) int32_t host_ibv_destroy_qp(uint32_t qp);
HOST_IMPORT(host_ibv_modify_qp_err) int32_t host_ibv_modify_qp_err(uint32_t qp);
HOST_IMPORT(host_ibv_qp_state) int32_t host_ibv_qp_state(uint32_t qp);
HOST_IMPORT(host_ibv_post_send) int32_t host_ibv_post_send(uint32_t qp, struct ibv_send_wr *wr,
		int32_t *bad_index);
HOST_IMPORT(host_ibv_post_recv) int32_t host_ibv_post_recv(uint32_t qp, struct ibv_recv_wr *wr,
		int32_t *bad_index);

/* RDMA-CM (the model's librdmacm, rdma_cm_shim.c): event channels, ids and events are host
 * handles; sockaddrs and connection parameters are read in place. */
struct rdma_conn_param;
HOST_IMPORT(host_rdma_device_context) int32_t host_rdma_device_context(uint32_t index);
HOST_IMPORT(host_rdma_create_event_channel) int32_t host_rdma_create_event_channel(int32_t *fd);
HOST_IMPORT(host_rdma_destroy_event_channel) int32_t host_rdma_destroy_event_channel(uint32_t ch);
HOST_IMPORT(host_rdma_create_id) int32_t host_rdma_create_id(uint32_t ch);
HOST_IMPORT(host_rdma_destroy_id) int32_t host_rdma_destroy_id(uint32_t id);
HOST_IMPORT(host_rdma_bind_addr) int32_t host_rdma_bind_addr(uint32_t id, const struct sockaddr *addr,
		uint32_t len);
HOST_IMPORT(host_rdma_listen) int32_t host_rdma_listen(uint32_t id, int32_t backlog);
HOST_IMPORT(host_rdma_resolve_addr) int32_t host_rdma_resolve_addr(uint32_t id, const struct sockaddr *dst,
		uint32_t len);
HOST_IMPORT(host_rdma_resolve_route) int32_t host_rdma_resolve_route(uint32_t id);
/* verbs: the handle of the id's device context (0 while unbound); src/dst: struct sockaddr_in */
HOST_IMPORT(host_rdma_id_info) int32_t host_rdma_id_info(uint32_t id, uint32_t *verbs, void *src, void *dst);
HOST_IMPORT(host_rdma_create_qp) int32_t host_rdma_create_qp(uint32_t id, uint32_t pd, uint32_t send_cq,
		uint32_t recv_cq, uint32_t srq, const struct ibv_qp_cap *cap, int32_t sq_sig_all, uint32_t *qp_num);
HOST_IMPORT(host_rdma_connect) int32_t host_rdma_connect(uint32_t id, const struct rdma_conn_param *param);
HOST_IMPORT(host_rdma_accept) int32_t host_rdma_accept(uint32_t id, const struct rdma_conn_param *param);
HOST_IMPORT(host_rdma_reject) int32_t host_rdma_reject(uint32_t id, const void *data, uint32_t len);
HOST_IMPORT(host_rdma_disconnect) int32_t host_rdma_disconnect(uint32_t id);
/* out: event handle, type, id, listen id, status, private data length; data: up to 196 bytes */
HOST_IMPORT(host_rdma_get_cm_event) int32_t host_rdma_get_cm_event(uint32_t ch, int32_t out[6], uint8_t *data);
HOST_IMPORT(host_rdma_ack_cm_event) int32_t host_rdma_ack_cm_event(uint32_t event);

#endif
