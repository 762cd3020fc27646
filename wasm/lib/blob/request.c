/* Request sets (upstream lib/blob/request.c): completion dispatch, sequences, batches and
 * queued user ops. Device completions arrive through spdk_bs_dev_cb_args embedded in the set. */
#include "spdk/stdinc.h"
#include "spdk/log.h"

#include "blobstore.h"
#include "request.h"

void
bs_call_cpl(struct spdk_bs_cpl *cpl, int bserrno)
{
	switch (cpl->type) {
	case SPDK_BS_CPL_TYPE_BS_BASIC:
		cpl->u.bs_basic.cb_fn(cpl->u.bs_basic.cb_arg, bserrno);
		break;
	case SPDK_BS_CPL_TYPE_BS_HANDLE:
		cpl->u.bs_handle.cb_fn(cpl->u.bs_handle.cb_arg, bserrno == 0 ? cpl->u.bs_handle.bs : NULL,
				       bserrno);
		break;
	case SPDK_BS_CPL_TYPE_BLOB_BASIC:
		cpl->u.blob_basic.cb_fn(cpl->u.blob_basic.cb_arg, bserrno);
		break;
	case SPDK_BS_CPL_TYPE_BLOBID:
		cpl->u.blobid.cb_fn(cpl->u.blobid.cb_arg,
				    bserrno == 0 ? cpl->u.blobid.blobid : SPDK_BLOBID_INVALID, bserrno);
		break;
	case SPDK_BS_CPL_TYPE_BLOB_HANDLE:
		cpl->u.blob_handle.cb_fn(cpl->u.blob_handle.cb_arg,
					 bserrno == 0 ? cpl->u.blob_handle.blob : NULL, bserrno);
		break;
	case SPDK_BS_CPL_TYPE_NESTED_SEQUENCE:
		cpl->u.nested_seq.cb_fn(cpl->u.nested_seq.parent, cpl->u.nested_seq.cb_arg, bserrno);
		break;
	case SPDK_BS_CPL_TYPE_NONE:
		break;
	}
}

static void
bs_request_set_complete(struct spdk_bs_request_set *set)
{
	struct spdk_bs_cpl cpl = set->cpl;
	int bserrno = set->bserrno;

	set->channel->outstanding--;
	free(set);
	bs_call_cpl(&cpl, bserrno);
}

static struct spdk_bs_request_set *
bs_request_set_alloc(struct spdk_io_channel *_channel, struct spdk_bs_cpl *cpl)
{
	struct spdk_bs_channel *channel = bs_channel_get(_channel);
	struct spdk_bs_request_set *set = calloc(1, sizeof(*set));

	if (set == NULL) {
		return NULL;
	}
	set->cpl = *cpl;
	set->channel = channel;
	set->cb_args.channel = channel->dev_channel;
	set->cb_args.cb_arg = set;
	channel->outstanding++;
	return set;
}

/* ---- sequences ---- */

static void
bs_sequence_completion(struct spdk_io_channel *channel, void *cb_arg, int bserrno)
{
	struct spdk_bs_request_set *set = cb_arg;

	(void)channel;
	set->bserrno = bserrno;
	set->u.sequence.cb_fn((spdk_bs_sequence_t *)set, set->u.sequence.cb_arg, bserrno);
}

spdk_bs_sequence_t *
bs_sequence_start(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl)
{
	struct spdk_bs_request_set *set = bs_request_set_alloc(channel, cpl);

	if (set == NULL) {
		return NULL;
	}
	set->cb_args.cb_fn = bs_sequence_completion;
	return set;
}

static void
bs_sequence_prepare(spdk_bs_sequence_t *seq, spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	seq->u.sequence.cb_fn = cb_fn;
	seq->u.sequence.cb_arg = cb_arg;
	seq->cb_args.cb_fn = bs_sequence_completion;
}

void
bs_sequence_read_bs_dev(spdk_bs_sequence_t *seq, struct spdk_bs_dev *bs_dev, void *payload,
			uint64_t lba, uint32_t lba_count, spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	bs_sequence_prepare(seq, cb_fn, cb_arg);
	bs_dev->read(bs_dev, NULL, payload, lba, lba_count, &seq->cb_args);
}

void
bs_sequence_read_dev(spdk_bs_sequence_t *seq, void *payload, uint64_t lba, uint32_t lba_count,
		     spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	struct spdk_bs_channel *ch = seq->channel;

	bs_sequence_prepare(seq, cb_fn, cb_arg);
	ch->dev->read(ch->dev, ch->dev_channel, payload, lba, lba_count, &seq->cb_args);
}

void
bs_sequence_write_dev(spdk_bs_sequence_t *seq, void *payload, uint64_t lba, uint32_t lba_count,
		      spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	struct spdk_bs_channel *ch = seq->channel;

	bs_sequence_prepare(seq, cb_fn, cb_arg);
	ch->dev->write(ch->dev, ch->dev_channel, payload, lba, lba_count, &seq->cb_args);
}

void
bs_sequence_write_zeroes_dev(spdk_bs_sequence_t *seq, uint64_t lba, uint64_t lba_count,
			     spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	struct spdk_bs_channel *ch = seq->channel;

	bs_sequence_prepare(seq, cb_fn, cb_arg);
	ch->dev->write_zeroes(ch->dev, ch->dev_channel, lba, lba_count, &seq->cb_args);
}

void
bs_sequence_copy_dev(spdk_bs_sequence_t *seq, uint64_t dst_lba, uint64_t src_lba,
		     uint64_t lba_count, spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	struct spdk_bs_channel *ch = seq->channel;

	bs_sequence_prepare(seq, cb_fn, cb_arg);
	ch->dev->copy(ch->dev, ch->dev_channel, dst_lba, src_lba, lba_count, &seq->cb_args);
}

void
bs_sequence_finish(spdk_bs_sequence_t *seq, int bserrno)
{
	if (bserrno != 0) {
		seq->bserrno = bserrno;
	}
	bs_request_set_complete(seq);
}

/* ---- batches ---- */

static void
bs_batch_completion(struct spdk_io_channel *_channel, void *cb_arg, int bserrno)
{
	struct spdk_bs_request_set *set = cb_arg;

	(void)_channel;
	set->u.batch.outstanding_ops--;
	if (bserrno != 0 && set->bserrno == 0) {
		set->bserrno = bserrno;
	}
	if (set->u.batch.outstanding_ops == 0 && set->u.batch.batch_closed) {
		if (set->u.batch.cb_fn) {
			set->cb_args.cb_fn = bs_sequence_completion;
			set->u.batch.cb_fn(set, set->u.batch.cb_arg, set->bserrno);
		} else {
			bs_request_set_complete(set);
		}
	}
}

spdk_bs_batch_t *
bs_batch_open(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl)
{
	struct spdk_bs_request_set *set = bs_request_set_alloc(channel, cpl);

	if (set == NULL) {
		return NULL;
	}
	set->cb_args.cb_fn = bs_batch_completion;
	return set;
}

void
bs_batch_read_bs_dev(spdk_bs_batch_t *batch, struct spdk_bs_dev *bs_dev, void *payload,
		     uint64_t lba, uint32_t lba_count)
{
	batch->u.batch.outstanding_ops++;
	bs_dev->read(bs_dev, NULL, payload, lba, lba_count, &batch->cb_args);
}

void
bs_batch_read_dev(spdk_bs_batch_t *batch, void *payload, uint64_t lba, uint32_t lba_count)
{
	struct spdk_bs_channel *ch = batch->channel;

	batch->u.batch.outstanding_ops++;
	ch->dev->read(ch->dev, ch->dev_channel, payload, lba, lba_count, &batch->cb_args);
}

void
bs_batch_write_dev(spdk_bs_batch_t *batch, void *payload, uint64_t lba, uint32_t lba_count)
{
	struct spdk_bs_channel *ch = batch->channel;

	batch->u.batch.outstanding_ops++;
	ch->dev->write(ch->dev, ch->dev_channel, payload, lba, lba_count, &batch->cb_args);
}

void
bs_batch_unmap_dev(spdk_bs_batch_t *batch, uint64_t lba, uint64_t lba_count)
{
	struct spdk_bs_channel *ch = batch->channel;

	batch->u.batch.outstanding_ops++;
	ch->dev->unmap(ch->dev, ch->dev_channel, lba, lba_count, &batch->cb_args);
}

void
bs_batch_write_zeroes_dev(spdk_bs_batch_t *batch, uint64_t lba, uint64_t lba_count)
{
	struct spdk_bs_channel *ch = batch->channel;

	batch->u.batch.outstanding_ops++;
	ch->dev->write_zeroes(ch->dev, ch->dev_channel, lba, lba_count, &batch->cb_args);
}

void
bs_batch_close(spdk_bs_batch_t *batch)
{
	batch->u.batch.batch_closed = 1;
	if (batch->u.batch.outstanding_ops == 0) {
		if (batch->u.batch.cb_fn) {
			batch->cb_args.cb_fn = bs_sequence_completion;
			batch->u.batch.cb_fn(batch, batch->u.batch.cb_arg, batch->bserrno);
		} else {
			bs_request_set_complete(batch);
		}
	}
}

spdk_bs_batch_t *
bs_sequence_to_batch(spdk_bs_sequence_t *seq, spdk_bs_sequence_cpl cb_fn, void *cb_arg)
{
	struct spdk_bs_request_set *set = seq;

	set->u.batch.cb_fn = cb_fn;
	set->u.batch.cb_arg = cb_arg;
	set->u.batch.outstanding_ops = 0;
	set->u.batch.batch_closed = 0;
	set->cb_args.cb_fn = bs_batch_completion;
	return set;
}

/* ---- user ops parked while a cluster is allocated or the blob is frozen ---- */

spdk_bs_user_op_t *
bs_user_op_alloc(struct spdk_io_channel *channel, struct spdk_bs_cpl *cpl,
		 enum spdk_blob_op_type op_type, struct spdk_blob *blob, void *payload,
		 uint64_t offset, uint64_t length)
{
	struct spdk_bs_request_set *set = bs_request_set_alloc(channel, cpl);

	if (set == NULL) {
		return NULL;
	}
	set->u.user_op.blob = blob;
	set->u.user_op.op_type = op_type;
	set->u.user_op.payload = payload;
	set->u.user_op.offset = offset;
	set->u.user_op.length = length;
	set->u.user_op.channel = channel;
	return set;
}

void
bs_user_op_execute(spdk_bs_user_op_t *op)
{
	struct spdk_bs_request_set *set = op;
	struct spdk_blob *blob = set->u.user_op.blob;
	struct spdk_io_channel *ch = set->u.user_op.channel;
	void *payload = set->u.user_op.payload;
	uint64_t offset = set->u.user_op.offset, length = set->u.user_op.length;
	spdk_blob_op_complete cb_fn = set->cpl.u.blob_basic.cb_fn;
	void *cb_arg = set->cpl.u.blob_basic.cb_arg;
	enum spdk_blob_op_type type = set->u.user_op.op_type;

	set->channel->outstanding--;
	free(set);

	switch (type) {
	case SPDK_BLOB_READ:
		spdk_blob_io_read(blob, ch, payload, offset, length, cb_fn, cb_arg);
		break;
	case SPDK_BLOB_WRITE:
		spdk_blob_io_write(blob, ch, payload, offset, length, cb_fn, cb_arg);
		break;
	case SPDK_BLOB_UNMAP:
		spdk_blob_io_unmap(blob, ch, offset, length, cb_fn, cb_arg);
		break;
	case SPDK_BLOB_WRITE_ZEROES:
		spdk_blob_io_write_zeroes(blob, ch, offset, length, cb_fn, cb_arg);
		break;
	}
}

void
bs_user_op_abort(spdk_bs_user_op_t *op, int bserrno)
{
	op->bserrno = bserrno;
	bs_request_set_complete(op);
}
