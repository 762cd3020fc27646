/* Growable bit arrays for the blobstore's page, cluster and blob-id maps (upstream uses
 * lib/util's spdk_bit_array and spdk_bit_pool). Bit i is bit i%8 of byte i/8, as on disk. */
#include "blobstore.h"

int
bs_bit_array_resize(struct bs_bit_array *ba, uint32_t bit_count)
{
	uint32_t old_bytes = (ba->bit_count + 7) / 8, new_bytes = (bit_count + 7) / 8, i;
	uint8_t *bits;

	if (new_bytes != old_bytes || ba->bits == NULL) {
		bits = realloc(ba->bits, new_bytes ? new_bytes : 1);
		if (bits == NULL) {
			return -ENOMEM;
		}
		if (new_bytes > old_bytes) {
			memset(bits + old_bytes, 0, new_bytes - old_bytes);
		}
		ba->bits = bits;
	}
	if (bit_count < ba->bit_count) {
		/* Drop bits beyond the new end and recount. */
		if (bit_count % 8) {
			ba->bits[bit_count / 8] &= (uint8_t)((1u << (bit_count % 8)) - 1);
		}
		ba->bit_count = bit_count;
		ba->set_count = 0;
		for (i = 0; i < bit_count; i++) {
			ba->set_count += bs_bit_array_get(ba, i);
		}
	}
	ba->bit_count = bit_count;
	return 0;
}

void
bs_bit_array_free(struct bs_bit_array *ba)
{
	free(ba->bits);
	ba->bits = NULL;
	ba->bit_count = 0;
	ba->set_count = 0;
}

bool
bs_bit_array_get(const struct bs_bit_array *ba, uint32_t bit)
{
	if (bit >= ba->bit_count) {
		return false;
	}
	return (ba->bits[bit / 8] >> (bit % 8)) & 1;
}

void
bs_bit_array_set(struct bs_bit_array *ba, uint32_t bit)
{
	assert(bit < ba->bit_count);
	if (!bs_bit_array_get(ba, bit)) {
		ba->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
		ba->set_count++;
	}
}

void
bs_bit_array_clear(struct bs_bit_array *ba, uint32_t bit)
{
	if (bs_bit_array_get(ba, bit)) {
		ba->bits[bit / 8] &= (uint8_t)~(1u << (bit % 8));
		ba->set_count--;
	}
}

uint32_t
bs_bit_array_find_first_clear(const struct bs_bit_array *ba, uint32_t start)
{
	uint32_t i;

	for (i = start; i < ba->bit_count; i++) {
		if ((i % 8) == 0 && ba->bits[i / 8] == 0xff) {
			i += 7;
			continue;
		}
		if (!bs_bit_array_get(ba, i)) {
			return i;
		}
	}
	return UINT32_MAX;
}
