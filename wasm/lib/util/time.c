/* Wall-clock time for metadata (the LH fork's lvol creation_time). The model has no wall clock:
 * spdk_get_ticks() is the world's virtual clock in µs, taken as µs since the Unix epoch (as the
 * pcap timestamps are), so a run writes the same times every time it is replayed. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/util.h"

/* Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days:
 * shift to 0000-03-01 so the leap day ends a year, then split into 400-year eras). */
static void
civil_from_days(uint64_t days, uint32_t *y, uint32_t *m, uint32_t *d)
{
	uint64_t z = days + 719468, era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	*d = (uint32_t)(doy - (153 * mp + 2) / 5 + 1);
	*m = (uint32_t)(mp < 10 ? mp + 3 : mp - 9);
	*y = (uint32_t)(yoe + era * 400 + (*m <= 2));
}

int
spdk_current_utc_time_rfc3339(char *buf, size_t buf_size)
{
	uint64_t secs = spdk_get_ticks() / spdk_get_ticks_hz(), sod = secs % 86400;
	uint32_t y, m, d;
	int n;

	civil_from_days(secs / 86400, &y, &m, &d);
	n = snprintf(buf, buf_size, "%04u-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
		     (uint32_t)(sod / 3600), (uint32_t)(sod / 60 % 60), (uint32_t)(sod % 60));
	return n < 0 || (size_t)n >= buf_size ? -ENOSPC : 0;
}
