/* lib/log: format messages and pass them to the host. */
#include "spdk/stdinc.h"
#include "spdk/log.h"
#include "host.h"

/* As upstream: NOTICE and above are printed unless the level is changed. */
static enum spdk_log_level g_spdk_log_print_level = SPDK_LOG_NOTICE;

void
spdk_log_set_print_level(enum spdk_log_level level)
{
	g_spdk_log_print_level = level;
}

enum spdk_log_level
spdk_log_get_print_level(void)
{
	return g_spdk_log_print_level;
}

void
spdk_log(enum spdk_log_level level, const char *file, int line, const char *func,
	 const char *format, ...)
{
	char buf[512];
	va_list ap;
	int n, m;

	if (level > g_spdk_log_print_level) {
		return;
	}

	/* Upstream's "file:line:func: msg" prefix; the level travels separately to the host. */
	n = snprintf(buf, sizeof(buf), "%s:%d:%s: ", file, line, func);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		n = 0;
	}
	va_start(ap, format);
	m = vsnprintf(buf + n, sizeof(buf) - n, format, ap);
	va_end(ap);
	if (m < 0) {
		m = 0;
	}
	n += m;
	if ((size_t)n >= sizeof(buf)) {
		n = sizeof(buf) - 1;
	}
	host_log(level, buf, (uint32_t)n);
}
