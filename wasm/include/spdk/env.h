/* The part of upstream's env layer this tree needs: the tick clock. Ticks are the world's
 * virtual microseconds (g_spdk_wasm_clock, port/host.h), so spdk_get_ticks_hz() is 1,000,000. */
#ifndef SPDK_ENV_H
#define SPDK_ENV_H

#include "spdk/stdinc.h"

#define SPDK_ENV_NUMA_ID_ANY (-1)

uint64_t spdk_get_ticks(void);
uint64_t spdk_get_ticks_hz(void);

#endif /* SPDK_ENV_H */
