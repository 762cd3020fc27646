/* Logging. Messages are formatted here and handed to the host with host_log(level, msg, len);
 * level uses SPDK's enum spdk_log_level numbering (ERROR 0 ... DEBUG 4). */
#ifndef SPDK_LOG_H
#define SPDK_LOG_H

#include "spdk/stdinc.h"

enum spdk_log_level {
	SPDK_LOG_DISABLED = -1,
	SPDK_LOG_ERROR,
	SPDK_LOG_WARN,
	SPDK_LOG_NOTICE,
	SPDK_LOG_INFO,
	SPDK_LOG_DEBUG,
};

void spdk_log_set_print_level(enum spdk_log_level level);
enum spdk_log_level spdk_log_get_print_level(void);

void spdk_log(enum spdk_log_level level, const char *file, int line, const char *func,
	      const char *format, ...) __attribute__((format(printf, 5, 6)));

#define SPDK_NOTICELOG(...) \
	spdk_log(SPDK_LOG_NOTICE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define SPDK_WARNLOG(...) \
	spdk_log(SPDK_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define SPDK_ERRLOG(...) \
	spdk_log(SPDK_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define SPDK_INFOLOG(flag, ...) \
	spdk_log(SPDK_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
/* Upstream gates debug logs per component (SPDK_LOG_REGISTER_COMPONENT); here the host's print
 * level filters them, and the component name is accepted and dropped. */
#define SPDK_DEBUGLOG(flag, ...) \
	spdk_log(SPDK_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

#define SPDK_LOG_REGISTER_COMPONENT(flag)

#endif /* SPDK_LOG_H */
