/*
 * queue.h: the subset of BSD <sys/queue.h> that agentd uses (musl ships
 * none). Doubly linked tail queues and lists, intrusive, no allocation.
 */
#ifndef COMPAT_QUEUE_H
#define COMPAT_QUEUE_H

#define LIST_HEAD(name, type)          \
	struct name {                  \
		struct type *lh_first; \
	}
#define LIST_HEAD_INITIALIZER(head) \
	{                           \
		NULL                \
	}
#define LIST_ENTRY(type)               \
	struct {                       \
		struct type  *le_next; \
		struct type **le_prev; \
	}
#define LIST_INIT(head)	      ((head)->lh_first = NULL)
#define LIST_FIRST(head)      ((head)->lh_first)
#define LIST_EMPTY(head)      ((head)->lh_first == NULL)
#define LIST_NEXT(elm, field) ((elm)->field.le_next)
#define LIST_FOREACH(var, head, field)                \
	for ((var) = LIST_FIRST(head); (var) != NULL; \
	     (var) = LIST_NEXT(var, field))
#define LIST_FOREACH_SAFE(var, head, field, tvar)                  \
	for ((var) = LIST_FIRST(head);                             \
	     (var) != NULL && ((tvar) = LIST_NEXT(var, field), 1); \
	     (var) = (tvar))
#define LIST_INSERT_HEAD(head, elm, field)                             \
	do {                                                           \
		if (((elm)->field.le_next = (head)->lh_first) != NULL) \
			(head)->lh_first->field.le_prev =              \
			    &(elm)->field.le_next;                     \
		(head)->lh_first = (elm);                              \
		(elm)->field.le_prev = &(head)->lh_first;              \
	} while (0)
#define LIST_REMOVE(elm, field)                               \
	do {                                                  \
		if ((elm)->field.le_next != NULL)             \
			(elm)->field.le_next->field.le_prev = \
			    (elm)->field.le_prev;             \
		*(elm)->field.le_prev = (elm)->field.le_next; \
	} while (0)

#define TAILQ_HEAD(name, type)           \
	struct name {                    \
		struct type  *tqh_first; \
		struct type **tqh_last;  \
	}
#define TAILQ_HEAD_INITIALIZER(head)    \
	{                               \
		NULL, &(head).tqh_first \
	}
#define TAILQ_ENTRY(type)               \
	struct {                        \
		struct type  *tqe_next; \
		struct type **tqe_prev; \
	}
#define TAILQ_FIRST(head)      ((head)->tqh_first)
#define TAILQ_EMPTY(head)      ((head)->tqh_first == NULL)
#define TAILQ_NEXT(elm, field) ((elm)->field.tqe_next)
#define TAILQ_INIT(head)                               \
	do {                                           \
		(head)->tqh_first = NULL;              \
		(head)->tqh_last = &(head)->tqh_first; \
	} while (0)
#define TAILQ_FOREACH(var, head, field)                \
	for ((var) = TAILQ_FIRST(head); (var) != NULL; \
	     (var) = TAILQ_NEXT(var, field))
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                  \
	for ((var) = TAILQ_FIRST(head);                             \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1); \
	     (var) = (tvar))
#define TAILQ_INSERT_TAIL(head, elm, field)                \
	do {                                               \
		(elm)->field.tqe_next = NULL;              \
		(elm)->field.tqe_prev = (head)->tqh_last;  \
		*(head)->tqh_last = (elm);                 \
		(head)->tqh_last = &(elm)->field.tqe_next; \
	} while (0)
#define TAILQ_INSERT_HEAD(head, elm, field)                              \
	do {                                                             \
		if (((elm)->field.tqe_next = (head)->tqh_first) != NULL) \
			(head)->tqh_first->field.tqe_prev =              \
			    &(elm)->field.tqe_next;                      \
		else                                                     \
			(head)->tqh_last = &(elm)->field.tqe_next;       \
		(head)->tqh_first = (elm);                               \
		(elm)->field.tqe_prev = &(head)->tqh_first;              \
	} while (0)
/*
 * The first element's tqe_prev is &tqh_first: naming the head when elm is
 * first does what the write through tqe_prev does, but lets clang's
 * analyzer see a loop of TAILQ_FIRST and TAILQ_REMOVE empty the queue
 * (it cannot know where tqe_prev points, and took the freed first element
 * to be still there).
 */
#define TAILQ_REMOVE(head, elm, field)                                  \
	do {                                                            \
		if (((elm)->field.tqe_next) != NULL)                    \
			(elm)->field.tqe_next->field.tqe_prev =         \
			    (elm)->field.tqe_prev;                      \
		else                                                    \
			(head)->tqh_last = (elm)->field.tqe_prev;       \
		if ((head)->tqh_first == (elm))                         \
			(head)->tqh_first = (elm)->field.tqe_next;      \
		else                                                    \
			*(elm)->field.tqe_prev = (elm)->field.tqe_next; \
	} while (0)

#endif /* COMPAT_QUEUE_H */
