/* UUIDs (subset of upstream include/spdk/uuid.h). Generation is deterministic here: the model's
 * randomness comes from the world's seeded PRNG, which the host hands over with
 * spdk_uuid_set_seed (decision 7), not from the OS. */
#ifndef SPDK_UUID_H
#define SPDK_UUID_H

#include "spdk/stdinc.h"

struct spdk_uuid {
	uint8_t u[16];
};

#define SPDK_UUID_STRING_LEN 37 /* 36 characters + NUL */

/* Lowercase 8-4-4-4-12 form into buf (at least SPDK_UUID_STRING_LEN bytes); 0 or -EINVAL. */
int spdk_uuid_fmt_lower(char *uuid_str, size_t uuid_str_size, const struct spdk_uuid *uuid);
/* Parses the 8-4-4-4-12 form (either case); 0 or -EINVAL. */
int spdk_uuid_parse(struct spdk_uuid *uuid, const char *uuid_str);
int spdk_uuid_compare(const struct spdk_uuid *u1, const struct spdk_uuid *u2);
bool spdk_uuid_is_null(const struct spdk_uuid *uuid);
/* A version 4 (random) UUID from the seeded generator. */
void spdk_uuid_generate(struct spdk_uuid *uuid);
void spdk_uuid_set_seed(uint64_t seed);

#endif /* SPDK_UUID_H */
