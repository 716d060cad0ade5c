/*
 * core.h: the bottom of the daemon: options, log, the one event loop,
 * children and the queue for their stdin, the on-disk store and the
 * journal over it. One section per file. loop.c alone includes libev.
 * Nothing here calls a layer above; upper layers are told of news through
 * the callbacks they register.
 */
#ifndef CORE_H
#define CORE_H

#include <sys/types.h>

#include <stdint.h>

#include "../../protocol/protocol.h"

typedef int (*journal_read_cb)(
    void *, uint64_t, enum event_type, const char *, size_t, size_t);

/* options.c */
struct options {
	const char *host;
	int	    port;
	char	   *token; /* NULL: no token (loopback only) */
	int	    no_token;
	const char *data_dir;
	const char *cors_origins[16];
	int	    ncors;
	const char *allow_hosts[16]; /* --allow-host: names for Host */
	int	    nallow_hosts;
	size_t	    max_line;	/* agent stdout line cap */
	size_t	    max_body;	/* HTTP request body cap */
	double	    body_grace; /* seconds a body may take beyond 64 KiB/s */
	double
	    idle_timeout; /* seconds an agent may be silent in a turn; 0: none */
	double	     kill_grace;   /* seconds between SIGTERM and SIGKILL */
	double	     cancel_grace; /* seconds a cancel may take, then restart */
	const char  *record_dir;   /* --record: fixture transcripts */
	int	     no_install;  /* --no-install: never npm install an agent */
	const char  *containment; /* --containment: auto, cgroup, subreaper */
	const char  *cgroup_parent; /* --cgroup-parent, or agentd's cgroup */
	unsigned int max_sessions;  /* sessions not ended; 0: no limit */
	unsigned int max_processes; /* agents and API processes; 0: none */
	unsigned int max_fds;	    /* agentd's soft RLIMIT_NOFILE */
	unsigned long long session_memory; /* default memory.max; 0: none */
	unsigned int	   session_pids;   /* default pids.max; 0: none */
	const char	  *webhook_url;	   /* --webhook: every session's */
	char		  *webhook_secret; /* --webhook-secret-file */
	const char *agent_home; /* --agent-home: none, session or shared */
};
extern struct options options;
char		     *options_default_data_dir(void);
extern int64_t	      agentd_start_ms;

/* log.c */
enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
};
int log_set_level(const char *);
void
log_msg(enum log_level, const char *, const char *, ...) __printflike(3, 4);
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __func__, __VA_ARGS__)
__dead void fatalx(const char *, ...) __printflike(1, 2);

/* loop.c */
struct loop_io;
struct loop_timer;
typedef void (*loop_io_cb)(int, void *);
typedef void (*loop_timer_cb)(void *);
typedef void (*loop_child_cb)(pid_t, int, void *);
void		  *loop_init(void);
void		  *loop_get(void);
void		   loop_run(void);
void		   loop_break(void);
int64_t		   loop_now_ms(void);
int64_t		   loop_wall_ms(void);
struct loop_io	  *loop_io_new(int, int, loop_io_cb, void *);
void		   loop_io_first(struct loop_io *);
void		   loop_io_start(struct loop_io *);
void		   loop_io_stop(struct loop_io *);
void		   loop_io_free(struct loop_io *);
struct loop_timer *loop_timer_new(loop_timer_cb, void *);
void		   loop_timer_set(struct loop_timer *, double);
void		   loop_timer_stop(struct loop_timer *);
int		   loop_timer_pending(struct loop_timer *);
void		   loop_timer_free(struct loop_timer *);
void		   loop_child_watch(pid_t, loop_child_cb, void *);
void		   loop_on_signal(int, void (*)(int));
void		   loop_defer(void (*)(void *), void *);

/* journal.c */
struct journal;
struct journal_sub;
struct store;
typedef void (*journal_wake_cb)(void *);
typedef void (*journal_stall_cb)(void *, int); /* 1: stalled, 0: going */
struct journal *journal_new(struct store *, const char *);
void		journal_free(struct journal *);
struct store   *journal_store(struct journal *);
uint64_t	journal_last(struct journal *);
void		journal_append(
	       struct journal *, uint64_t, enum event_type, char *, size_t, size_t);
uint64_t journal_append_message(struct journal *, char *, size_t, const char *);
uint64_t journal_append_message_copy(struct journal *, const char *, size_t);
void	 journal_set_ring(struct journal *, size_t);
void	 journal_on_stall(struct journal *, journal_stall_cb, void *);
int	 journal_stalled(struct journal *);
void	 journal_sync(struct journal *);
void	 journal_trim(struct journal *);
void	 journal_rest(struct journal *);
int journal_read(struct journal *, uint64_t, size_t, journal_read_cb, void *);
struct journal_sub	*
journal_subscribe(struct journal *, journal_wake_cb, void *);
void journal_unsubscribe(struct journal_sub *);
void journal_wake(struct journal *);

/* contain.c */
struct contain;
enum contain_mode {
	CONTAIN_CGROUP,
	CONTAIN_SUBREAPER
};
struct contain_limits {
	unsigned long long memory; /* bytes; 0: none */
	unsigned int	   pids;   /* 0: none */
};
struct contain_usage {
	double		   cpu_seconds;
	unsigned long long memory_bytes;
	unsigned int	   processes;
};
/* A limit was hit: ("memory" or "pids", message). */
typedef void (*contain_limit_cb)(void *, const char *, const char *);
int		contain_init(char **);
const char     *contain_mode_name(void);
int		contain_can_limit(const char *);
struct contain *contain_new(
    const char *, const struct contain_limits *, contain_limit_cb, void *);
int	    contain_prepare(struct contain *, char **);
int	    contain_child(struct contain *);
void	    contain_started(struct contain *, pid_t, unsigned long long);
const char *contain_tag(struct contain *);
void	    contain_dirs(struct contain *, const char **, size_t);
int	    contain_signal(struct contain *, int);
int	    contain_kill(struct contain *);
void	    contain_stopped(struct contain *);
void	    contain_usage(struct contain *, struct contain_usage *);
void	    contain_free(struct contain *);
int  contain_reclaim(const char *, const char *const *, const char *, pid_t,
     unsigned long long, int, double);
void contain_shutdown(double);
int  contain_budget_take(char **);
void contain_budget_give(void);
unsigned int contain_budget_used(void);

/* outq.c */
#define OUTQ_KEEP_FD 0x1 /* the fd is the owner's output too: never closed */
struct outq;
typedef void (*outq_closed_cb)(void *, int); /* the reader went: errno */
struct outq *outq_new(int, size_t, int, outq_closed_cb, void *);
int	     outq_write(struct outq *, const char *, size_t);
void	     outq_end(struct outq *);
void	     outq_free(struct outq *);

/* proc.c */
struct proc;
struct proc_cbs {
	void (*line)(void *, const char *, size_t, int); /* MEMFIND_* */
	void (*toolong)(void *, size_t);
	void (*exit)(void *, int);
};
struct proc *proc_spawn(char **, char **, const char *, size_t,
    const struct proc_cbs *, void *, char **);
struct proc *proc_spawn_in(struct contain *, char **, char **, const char *,
    size_t, const struct proc_cbs *, void *, char **);
const char  *proc_exec_path(const char *, char *, size_t);
void	     proc_raise_nofile(void);
void	     proc_child_limits(void);
pid_t	     proc_pid(struct proc *);
unsigned long long proc_start(struct proc *);
unsigned long long proc_start_time(pid_t);
const char	  *proc_boot_id(void);
int  proc_end_orphan(pid_t, unsigned long long, const char *, double);
int  proc_write(struct proc *, const char *, size_t);
void proc_stderr(struct proc *, char **, char **, int *);
void proc_stop(struct proc *, double);
void proc_pause(struct proc *, int);
void proc_free(struct proc *);

/* child.c */
#define CHILD_PTY      0x1 /* on a pseudo-terminal */
#define CHILD_NO_STDIN 0x2 /* stdin is /dev/null */
enum child_stream {
	CHILD_STDOUT,
	CHILD_STDERR,
	CHILD_TERM /* a terminal's output (both, mixed as the child wrote) */
};
struct child;
struct child_cbs {
	void (*output)(void *, int, const char *, size_t);
	void (*exit)(void *, int); /* wait status; output all delivered */
};
struct child *child_spawn(char **, char **, const char *, int, int, int,
    const struct child_cbs *, void *, char **);
pid_t	      child_pid(struct child *);
int	      child_write(struct child *, const char *, size_t);
void	      child_end_input(struct child *);
int	      child_resize(struct child *, int, int);
void	      child_signal(struct child *, int);
void	      child_stop(struct child *, double);
void	      child_pause(struct child *, int);
void	      child_free(struct child *);

/* store.c */
enum store_kind {
	STORE_EVENTS,	/* sessions/<id>/events.jsonl, session.json */
	STORE_MESSAGES, /* acp/<id>/messages.jsonl, server.json */
	STORE_LOGS	/* processes/<id>/log.jsonl, process.json; bounded */
};
struct store;
int  store_init(const char *, char **);
int  store_mkdirs(const char *);
int  store_list(enum store_kind, const char *, char ***, size_t *);
void store_sweep(const char *, char ***, size_t *);
int  store_lock(const char *, char **);
struct store *
store_create(enum store_kind, const char *, const char *, char **);
struct store *
store_open(enum store_kind, const char *, const char *, uint64_t *, char **);
enum store_kind store_kind(const struct store *);
void		store_set_cap(struct store *, uint64_t);
int		store_append(
		struct store *, uint64_t, const char *, size_t, const char *, char **);
struct store_line {
	const char *data;
	size_t	    len;
};
int store_append_events(
    struct store *, uint64_t, const struct store_line *, size_t, char **);
int store_sync(struct store *);
int store_dirty(const struct store *);
int store_write_file(
    const char *, const char *, const char *, size_t, size_t, char **);
char *store_read_file(const char *, const char *, size_t, size_t *);
int   store_write_meta(struct store *, const char *, size_t, char **);
char *store_read_meta(struct store *, size_t *);
typedef int (*store_read_cb)(
    void *, uint64_t, const char *, size_t, const char *, size_t);
int	 store_read(struct store *, uint64_t, size_t, store_read_cb, void *);
uint64_t store_last_seq(const struct store *);
unsigned long long store_bytes(const struct store *);
#define STORE_SYNC_BUCKETS 10
extern const double store_sync_bounds[STORE_SYNC_BUCKETS];
struct store_stats {
	uint64_t syncs;
	uint64_t sync_errors;
	double	 sync_seconds;
	uint64_t sync_le[STORE_SYNC_BUCKETS]; /* syncs <= each bound */
};
void store_get_stats(struct store_stats *);
int  store_remove(struct store *);
int  store_rest(struct store *);
void store_close(struct store *);

#endif /* CORE_H */
