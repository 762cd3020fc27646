/* spdk/uuid.h (upstream lib/util/uuid.c, which wraps libuuid). Lives beside its only user, the
 * lvol library. Version 4 UUIDs come from a xorshift64* stream the host seeds from the world's
 * PRNG, so a run's UUIDs replay with its seed. */
#include "spdk/uuid.h"

static uint64_t g_uuid_state = 0x9e3779b97f4a7c15ULL;

void
spdk_uuid_set_seed(uint64_t seed)
{
	g_uuid_state = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t
uuid_next(void)
{
	g_uuid_state ^= g_uuid_state >> 12;
	g_uuid_state ^= g_uuid_state << 25;
	g_uuid_state ^= g_uuid_state >> 27;
	return g_uuid_state * 0x2545f4914f6cdd1dULL;
}

void
spdk_uuid_generate(struct spdk_uuid *uuid)
{
	uint64_t a = uuid_next(), b = uuid_next();
	int i;

	for (i = 0; i < 8; i++) {
		uuid->u[i] = (uint8_t)(a >> (8 * i));
		uuid->u[8 + i] = (uint8_t)(b >> (8 * i));
	}
	uuid->u[6] = (uuid->u[6] & 0x0f) | 0x40;	/* version 4 */
	uuid->u[8] = (uuid->u[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
}

int
spdk_uuid_fmt_lower(char *uuid_str, size_t uuid_str_size, const struct spdk_uuid *uuid)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (uuid_str_size < SPDK_UUID_STRING_LEN) {
		return -EINVAL;
	}
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			uuid_str[o++] = '-';
		}
		uuid_str[o++] = hex[uuid->u[i] >> 4];
		uuid_str[o++] = hex[uuid->u[i] & 0xf];
	}
	uuid_str[o] = '\0';
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
spdk_uuid_parse(struct spdk_uuid *uuid, const char *uuid_str)
{
	size_t i, o = 0;
	int hi, lo;

	if (uuid_str == NULL || strlen(uuid_str) != SPDK_UUID_STRING_LEN - 1) {
		return -EINVAL;
	}
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (uuid_str[o++] != '-') {
				return -EINVAL;
			}
		}
		hi = hex_digit(uuid_str[o++]);
		lo = hex_digit(uuid_str[o++]);
		if (hi < 0 || lo < 0) {
			return -EINVAL;
		}
		uuid->u[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
spdk_uuid_compare(const struct spdk_uuid *u1, const struct spdk_uuid *u2)
{
	return memcmp(u1, u2, sizeof(*u1));
}

bool
spdk_uuid_is_null(const struct spdk_uuid *uuid)
{
	static const struct spdk_uuid null;

	return memcmp(uuid, &null, sizeof(null)) == 0;
}
