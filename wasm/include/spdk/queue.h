/* Intrusive lists in the BSD <sys/queue.h> shape that SPDK code is written against.
 * Emscripten's libc does not ship sys/queue.h, so the subset SPDK uses is defined here:
 * STAILQ (singly linked tail queue) and TAILQ (doubly linked tail queue). */
#ifndef SPDK_QUEUE_H
#define SPDK_QUEUE_H

#include <stddef.h>

/* ---- STAILQ ---- */

#define STAILQ_HEAD(name, type)						\
struct name {								\
	struct type *stqh_first;					\
	struct type **stqh_last;					\
}

#define STAILQ_HEAD_INITIALIZER(head)	{ NULL, &(head).stqh_first }

#define STAILQ_ENTRY(type)						\
struct {								\
	struct type *stqe_next;						\
}

#define STAILQ_FIRST(head)		((head)->stqh_first)
#define STAILQ_EMPTY(head)		((head)->stqh_first == NULL)
#define STAILQ_NEXT(elm, field)		((elm)->field.stqe_next)

#define STAILQ_INIT(head) do {						\
	(head)->stqh_first = NULL;					\
	(head)->stqh_last = &(head)->stqh_first;			\
} while (0)

#define STAILQ_INSERT_HEAD(head, elm, field) do {			\
	if (((elm)->field.stqe_next = (head)->stqh_first) == NULL)	\
		(head)->stqh_last = &(elm)->field.stqe_next;		\
	(head)->stqh_first = (elm);					\
} while (0)

#define STAILQ_INSERT_TAIL(head, elm, field) do {			\
	(elm)->field.stqe_next = NULL;					\
	*(head)->stqh_last = (elm);					\
	(head)->stqh_last = &(elm)->field.stqe_next;			\
} while (0)

#define STAILQ_REMOVE_HEAD(head, field) do {				\
	if (((head)->stqh_first = (head)->stqh_first->field.stqe_next) == NULL) \
		(head)->stqh_last = &(head)->stqh_first;		\
} while (0)

#define STAILQ_REMOVE_AFTER(head, elm, field) do {			\
	if (((elm)->field.stqe_next =					\
	     (elm)->field.stqe_next->field.stqe_next) == NULL)		\
		(head)->stqh_last = &(elm)->field.stqe_next;		\
} while (0)

#define STAILQ_REMOVE(head, elm, type, field) do {			\
	if ((head)->stqh_first == (elm)) {				\
		STAILQ_REMOVE_HEAD((head), field);			\
	} else {							\
		struct type *_stq_cur = (head)->stqh_first;		\
		while (_stq_cur->field.stqe_next != (elm))		\
			_stq_cur = _stq_cur->field.stqe_next;		\
		STAILQ_REMOVE_AFTER(head, _stq_cur, field);		\
	}								\
} while (0)

#define STAILQ_FOREACH(var, head, field)				\
	for ((var) = (head)->stqh_first; (var) != NULL;			\
	     (var) = (var)->field.stqe_next)

#define STAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = (head)->stqh_first;				\
	     (var) != NULL && ((tvar) = (var)->field.stqe_next, 1);	\
	     (var) = (tvar))

/* Start at var if it is set, else at the head. */
#define STAILQ_FOREACH_FROM(var, head, field)				\
	for ((var) = ((var) != NULL ? (var) : (head)->stqh_first);	\
	     (var) != NULL; (var) = (var)->field.stqe_next)

/* ---- TAILQ ---- */

#define TAILQ_HEAD(name, type)						\
struct name {								\
	struct type *tqh_first;						\
	struct type **tqh_last;						\
}

#define TAILQ_HEAD_INITIALIZER(head)	{ NULL, &(head).tqh_first }

#define TAILQ_ENTRY(type)						\
struct {								\
	struct type *tqe_next;						\
	struct type **tqe_prev;						\
}

#define TAILQ_FIRST(head)		((head)->tqh_first)
#define TAILQ_EMPTY(head)		((head)->tqh_first == NULL)
#define TAILQ_NEXT(elm, field)		((elm)->field.tqe_next)
/* The last element's next pointer is where tqh_last points; the head struct has the same
 * layout as an entry, so stepping back through it finds the element. */
#define TAILQ_LAST(head, headname)					\
	(*(((struct headname *)((head)->tqh_last))->tqh_last))
#define TAILQ_PREV(elm, headname, field)				\
	(*(((struct headname *)((elm)->field.tqe_prev))->tqh_last))

#define TAILQ_INIT(head) do {						\
	(head)->tqh_first = NULL;					\
	(head)->tqh_last = &(head)->tqh_first;				\
} while (0)

#define TAILQ_INSERT_HEAD(head, elm, field) do {			\
	if (((elm)->field.tqe_next = (head)->tqh_first) != NULL)	\
		(head)->tqh_first->field.tqe_prev = &(elm)->field.tqe_next; \
	else								\
		(head)->tqh_last = &(elm)->field.tqe_next;		\
	(head)->tqh_first = (elm);					\
	(elm)->field.tqe_prev = &(head)->tqh_first;			\
} while (0)

#define TAILQ_INSERT_TAIL(head, elm, field) do {			\
	(elm)->field.tqe_next = NULL;					\
	(elm)->field.tqe_prev = (head)->tqh_last;			\
	*(head)->tqh_last = (elm);					\
	(head)->tqh_last = &(elm)->field.tqe_next;			\
} while (0)

#define TAILQ_INSERT_AFTER(head, listelm, elm, field) do {		\
	if (((elm)->field.tqe_next = (listelm)->field.tqe_next) != NULL) \
		(elm)->field.tqe_next->field.tqe_prev = &(elm)->field.tqe_next; \
	else								\
		(head)->tqh_last = &(elm)->field.tqe_next;		\
	(listelm)->field.tqe_next = (elm);				\
	(elm)->field.tqe_prev = &(listelm)->field.tqe_next;		\
} while (0)

#define TAILQ_INSERT_BEFORE(listelm, elm, field) do {			\
	(elm)->field.tqe_prev = (listelm)->field.tqe_prev;		\
	(elm)->field.tqe_next = (listelm);				\
	*(listelm)->field.tqe_prev = (elm);				\
	(listelm)->field.tqe_prev = &(elm)->field.tqe_next;		\
} while (0)

#define TAILQ_REMOVE(head, elm, field) do {				\
	if ((elm)->field.tqe_next != NULL)				\
		(elm)->field.tqe_next->field.tqe_prev = (elm)->field.tqe_prev; \
	else								\
		(head)->tqh_last = (elm)->field.tqe_prev;		\
	*(elm)->field.tqe_prev = (elm)->field.tqe_next;			\
} while (0)

#define TAILQ_FOREACH(var, head, field)					\
	for ((var) = (head)->tqh_first; (var) != NULL;			\
	     (var) = (var)->field.tqe_next)

#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = (head)->tqh_first;					\
	     (var) != NULL && ((tvar) = (var)->field.tqe_next, 1);	\
	     (var) = (tvar))

#endif /* SPDK_QUEUE_H */
