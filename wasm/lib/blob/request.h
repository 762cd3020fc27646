/* Request sets: the sequences and batches that carry a blobstore operation through its device
 * I/O (upstream lib/blob/request.h). A sequence runs one device op at a time, each completion
 * calling the next step; a batch runs many at once and completes when the last one does. */
#ifndef SPDK_BS_REQUEST_H
#define SPDK_BS_REQUEST_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/queue.h"

enum spdk_bs_cpl_type {
	SPDK_BS_CPL_TYPE_NONE,
	SPDK_BS_CPL_TYPE_BS_BASIC,
	SPDK_BS_CPL_TYPE_BS_HANDLE,
	SPDK_BS_CPL_TYPE_BLOB_BASIC,
	SPDK_BS_CPL_TYPE_BLOBID,
	SPDK_BS_CPL_TYPE_BLOB_HANDLE,
	SPDK_BS_CPL_TYPE_NESTED_SEQUENCE,
};

enum spdk_blob_op_type {
	SPDK_BLOB_WRITE,
	SPDK_BLOB_READ,
	SPDK_BLOB_UNMAP,
	SPDK_BLOB_WRITE_ZEROES,
};

struct spdk_bs_request_set;
typedef struct spdk_bs_request_set spdk_bs_sequence_t;
typedef struct spdk_bs_request_set spdk_bs_batch_t;
typedef struct spdk_bs_request_set spdk_bs_user_op_t;
typedef void (*spdk_bs_sequence_cpl)(spdk_bs_sequence_t *sequence, void *cb_arg, int bserrno);

struct spdk_bs_cpl {
	enum spdk_bs_cpl_type type;
	union {
		struct {
			spdk_bs_op_complete	cb_fn;
			void			*cb_arg;
		} bs_basic;
		struct {
			spdk_bs_op_with_handle_complete	cb_fn;
			void				*cb_arg;
			struct spdk_blob_store		*bs;
		} bs_handle;
		struct {
			spdk_blob_op_complete	cb_fn;
			void			*cb_arg;
		} blob_basic;
		struct {
			spdk_blob_op_with_id_complete	cb_fn;
			void				*cb_arg;
			spdk_blob_id			blobid;
		} blobid;
		struct {
			spdk_blob_op_with_handle_complete	cb_fn;
			void					*cb_arg;
			struct spdk_blob			*blob;
		} blob_handle;
		struct {
			spdk_bs_sequence_cpl	cb_fn;
			void			*cb_arg;
			spdk_bs_sequence_t	*parent;
		} nested_seq;
	} u;
};

struct spdk_bs_channel;

struct spdk_bs_request_set {
	struct spdk_bs_cpl		cpl;
	int				bserrno;
	struct spdk_bs_channel		*channel;
	struct spdk_bs_dev_cb_args	cb_args;
	union {
		struct {
			spdk_bs_sequence_cpl	cb_fn;
			void			*cb_arg;
		} sequence;
		struct {
			uint32_t		outstanding_ops;
			uint32_t		batch_closed;
			spdk_bs_sequence_cpl	cb_fn;
			void			*cb_arg;
		} batch;
		struct {
			struct spdk_blob	*blob;
			enum spdk_blob_op_type	op_type;
			void			*payload;
			uint64_t		offset;
			uint64_t		length;
			struct spdk_io_channel	*channel;
		} user_op;
	} u;
	TAILQ_ENTRY(spdk_bs_request_set) link;
};

void bs_call_cpl(struct spdk_bs_cpl *cpl, int bserrno);

spdk_bs_sequence_t *bs_sequence_start(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl);
void bs_sequence_read_bs_dev(spdk_bs_sequence_t *seq, struct spdk_bs_dev *bs_dev, void *payload,
			     uint64_t lba, uint32_t lba_count, spdk_bs_sequence_cpl cb_fn,
			     void *cb_arg);
void bs_sequence_read_dev(spdk_bs_sequence_t *seq, void *payload, uint64_t lba,
			  uint32_t lba_count, spdk_bs_sequence_cpl cb_fn, void *cb_arg);
void bs_sequence_write_dev(spdk_bs_sequence_t *seq, void *payload, uint64_t lba,
			   uint32_t lba_count, spdk_bs_sequence_cpl cb_fn, void *cb_arg);
void bs_sequence_write_zeroes_dev(spdk_bs_sequence_t *seq, uint64_t lba, uint64_t lba_count,
				  spdk_bs_sequence_cpl cb_fn, void *cb_arg);
void bs_sequence_copy_dev(spdk_bs_sequence_t *seq, uint64_t dst_lba, uint64_t src_lba,
			  uint64_t lba_count, spdk_bs_sequence_cpl cb_fn, void *cb_arg);
void bs_sequence_finish(spdk_bs_sequence_t *seq, int bserrno);

spdk_bs_batch_t *bs_batch_open(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl);
void bs_batch_read_bs_dev(spdk_bs_batch_t *batch, struct spdk_bs_dev *bs_dev, void *payload,
			  uint64_t lba, uint32_t lba_count);
void bs_batch_read_dev(spdk_bs_batch_t *batch, void *payload, uint64_t lba, uint32_t lba_count);
void bs_batch_write_dev(spdk_bs_batch_t *batch, void *payload, uint64_t lba, uint32_t lba_count);
void bs_batch_unmap_dev(spdk_bs_batch_t *batch, uint64_t lba, uint64_t lba_count);
void bs_batch_write_zeroes_dev(spdk_bs_batch_t *batch, uint64_t lba, uint64_t lba_count);
void bs_batch_close(spdk_bs_batch_t *batch);
spdk_bs_batch_t *bs_sequence_to_batch(spdk_bs_sequence_t *seq, spdk_bs_sequence_cpl cb_fn,
				      void *cb_arg);

spdk_bs_user_op_t *bs_user_op_alloc(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl,
				    enum spdk_blob_op_type op_type, struct spdk_blob *blob,
				    void *payload, uint64_t offset, uint64_t length);
void bs_user_op_execute(spdk_bs_user_op_t *op);
void bs_user_op_abort(spdk_bs_user_op_t *op, int bserrno);

#endif /* SPDK_BS_REQUEST_H */
