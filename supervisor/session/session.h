/*
 * session.h: sessions (registry, lifecycle, queue, spawn), the agents
 * catalog and installs, and fixture recording. One section per file.
 * Below HTTP: nothing here knows a request or a reply.
 */
#ifndef SESSION_H
#define SESSION_H

#include "../../adapters/adapters.h"
#include "../core/core.h"

/* agents.c */
cJSON *agents_info(const struct agent_profile *);
cJSON *agents_list(void);
void   agents_learn(const struct agent_profile *, const cJSON *);
typedef void (*agents_done_cb)(void *, const char *); /* NULL: installed */
int   agents_installed(const struct agent_profile *);
char *agents_find(const char *);
char *agents_which(const char *, const char *);
int
agents_install(const struct agent_profile *, agents_done_cb, void *, char **);
int agents_can_install(const struct agent_profile *, char **);
int agents_main(int, char **);
int agents_install_main(int, char **);

struct session;

/* archive.c */
typedef void (*archive_export_cb)(void *, int, uint64_t, int, const char *);
int archive_export(struct session *, int, archive_export_cb, void *, char **);
struct archive_import;
struct archive_import *
archive_import_new(const char *, const char *, const char *, int *, char **);
int archive_import_feed(struct archive_import *, const char *, size_t, char **);
struct session *archive_import_finish(struct archive_import *, int *, char **);
void archive_import_counts(struct archive_import *, size_t *, size_t *);
void archive_import_free(struct archive_import *);
void archive_sweep(void);

/* credentials.c */
int	    credentials_check(const cJSON *, const cJSON *, char **);
const char *credentials_file_member(const cJSON *);
void	    credentials_env(const cJSON *, struct argv_builder *);
int	    credentials_write(const cJSON *, const char *, char **);
void	    credentials_remove(const cJSON *, const char *);
int	    credentials_secret_file(const char *);
cJSON	   *credentials_names(const cJSON *);
void	    credentials_free(cJSON *);

/* dirconfig.c */
enum dirconfig_kind {
	DIRCONFIG_MCP,
	DIRCONFIG_SKILLS
};
struct dirconfig_launch {
	cJSON *mcp;	   /* ACP McpServer[]: the request's, then the dir's */
	char  *mcp_file;   /* Claude Code's --mcp-config file, or NULL */
	char  *skills_dir; /* has .claude/skills/<name> links, or NULL */
};
int dirconfig_get(
    enum dirconfig_kind, const char *, const char *, cJSON **, char **);
int dirconfig_set(
    enum dirconfig_kind, const char *, const char *, const cJSON *, char **);
int  dirconfig_delete(enum dirconfig_kind, const char *, const char *, char **);
int  dirconfig_check_own(enum dirconfig_kind, const cJSON *, char **);
int  dirconfig_launch(const char *, const char *, const cJSON *, const cJSON *,
     const cJSON *, struct dirconfig_launch *, char **);
void dirconfig_launch_free(struct dirconfig_launch *);
void dirconfig_forget(const char *);

/* home.c */
enum home_mode {
	HOME_NONE,    /* agentd's own environment */
	HOME_SESSION, /* <data-dir>/homes/<id> */
	HOME_SHARED   /* <data-dir>/home */
};
int	    home_mode_parse(const char *, enum home_mode *);
const char *home_mode_name(enum home_mode);
const char *home_data_dir(void);
char	   *home_dir(enum home_mode, const char *);
int	    home_make(const char *, int *, char **);
void	    home_env(struct argv_builder *, const char *);
int	    home_is_var(const char *);
int	    home_env_clash(const cJSON *, enum home_mode, char **);
int	    home_remove(const char *);
void	    home_mark_deleted(const char *);
int	    home_is_deleted(const char *);

/* native.c */
typedef int (*native_file_cb)(void *, const char *, const char *);
void native_before_start(
    const struct agent_profile *, const char *, const cJSON *, const char *);
char *native_store_dir(
    const struct agent_profile *, const char *, const cJSON *, const char **);
int   native_files(const struct agent_profile *, const char *, const cJSON *,
      const char *, native_file_cb, void *);
int   native_skip(const char *);
int   native_moved(const struct agent_profile *, const char *, const char *,
      const char *, const char *);
void  native_wrap(const struct agent_profile *, const char *, const cJSON *,
     const char *, struct argv_builder *);
char *native_relocate(
    const struct agent_profile *, const char *, const char *, const char *);
void native_pathmap(struct pathmap *, const char *, const char *);

/* attach.c */
int    attach_check(const cJSON *, const char *, cJSON **, char **);
cJSON *attach_parts(const cJSON *, cJSON *);

/* session.c */
struct session;
struct session_place {
	enum home_mode home;
	const char    *home_dir; /* or NULL */
	const cJSON   *env;
	const char    *native_id; /* or NULL */
	const char    *cwd;
	int	       running; /* the agent process is up */
};
cJSON	       *session_meta(struct session *, int);
void		session_place(struct session *, struct session_place *);
struct session *session_adopt(const char *, char **);
int		session_load_all(char **);
void		session_shutdown(void);
int		session_valid_id(const char *);
struct session *session_find(const char *);
int    session_create(const char *, const cJSON *, struct session **, char **);
cJSON *session_info(struct session *);
cJSON *session_list(void);
int    session_post_message(struct session *, const cJSON *, char **);
int    session_reply_permission(
       struct session *, const char *, enum permission_reply, char **);
int
session_reply_question(struct session *, const char *, const cJSON *, char **);
int	    session_cancel(struct session *, char **);
int	    session_configure(struct session *, const cJSON *, char **);
int	    session_terminate(struct session *);
void	    session_delete(struct session *);
const char *session_name(struct session *);
const struct agent_profile *session_agent(struct session *);
struct journal		   *session_journal(struct session *);
uint64_t		    session_last_seq(struct session *);
int			    session_is_dead(struct session *);
typedef void (*session_quiet_cb)(void *);
int  session_quiesce(struct session *, session_quiet_cb, void *);
int  session_read(struct session *, uint64_t, size_t, journal_read_cb, void *);
void session_ref(struct session *);
void session_unref(struct session *);
void session_set_driver(struct session *, const char *);
const char *session_driver(struct session *);
typedef void (*session_added_cb)(void *, struct session *);
void session_on_added(session_added_cb, void *);
struct session_webhook {
	const char  *url;
	const char  *secret; /* or NULL: unsigned */
	unsigned int batch;  /* events per POST at most */
	uint64_t     acked;  /* the receiver has every event up to this */
};
int  session_webhook(struct session *, struct session_webhook *);
void session_webhook_acked(struct session *, uint64_t);
void session_webhook_report(
    struct session *, const char *, const char *, unsigned int, int64_t);
struct session_stats {
	const char	    *id; /* NULL: deleted sessions of the agent */
	const char	    *agent;
	const char	    *state;
	uint64_t	     events;
	unsigned long long   store_bytes;
	struct host_usage    usage;
	int		     pending_permissions;
	int		     pending_questions;
	int		     queued;
	int		     running; /* proc holds its processes' use */
	struct contain_usage proc;
	int		     webhook;
	uint64_t	     webhook_acked;
	unsigned int	     webhook_failures;
};
typedef void (*session_stats_cb)(void *, const struct session_stats *);
void session_stats(session_stats_cb, void *);

/* fs.c */
struct fs_upload;
int  fs_resolve(const char *, char **, char **);
int  fs_entries(const char *, cJSON **, char **);
int  fs_stat(const char *, cJSON **, char **);
int  fs_open(const char *, int *, uint64_t *, char **);
int  fs_mkdir(const char *, cJSON **, char **);
int  fs_move(const char *, const char *, int, cJSON **, char **);
int  fs_delete(const char *, int, cJSON **, char **);
int  fs_write_begin(const char *, int, struct fs_upload **, char **);
int  fs_batch_begin(const char *, struct fs_upload **, char **);
int  fs_upload_write(struct fs_upload *, const char *, size_t, char **);
int  fs_upload_end(struct fs_upload *, cJSON **, char **);
void fs_upload_abort(struct fs_upload *);

/* procs.c */
enum procs_filter { /* the order of ProcessLogsStream's names */
	PROCS_STDOUT,
	PROCS_STDERR,
	PROCS_COMBINED,
	PROCS_PTY
};
struct process;
typedef void (*procs_wait_cb)(void *, struct process *);
typedef void (*procs_run_cb)(void *, cJSON *); /* takes the cJSON */
int		procs_load_all(char **);
void		procs_shutdown(void);
cJSON	       *procs_config(void);
int		procs_set_config(const cJSON *, cJSON **, char **);
int		procs_create(const cJSON *, cJSON **, char **);
int		procs_run(const cJSON *, procs_run_cb, void *, char **);
cJSON	       *procs_list(const char *);
struct process *procs_find(const char *);
cJSON	       *procs_info(struct process *);
void		procs_ref(struct process *);
void		procs_unref(struct process *);
int		procs_running(struct process *);
int		procs_is_tty(struct process *);
const char     *procs_id(struct process *);
struct journal *procs_journal(struct process *);
uint64_t	procs_last_seq(struct process *);
uint64_t	procs_scrollback(struct process *);
int		procs_delete(struct process *, char **);
int  procs_decode_input(const char *, const char *, char **, size_t *, char **);
int  procs_write(struct process *, const char *, size_t, char **);
int  procs_input(struct process *, const cJSON *, cJSON **, char **);
void procs_signal(struct process *, int);
void procs_wait(struct process *, int64_t, procs_wait_cb, void *);
int  procs_resize(struct process *, long long, long long, char **);
int  procs_stream_filter(struct process *, const char *, int *);
int  procs_entry_matches(const char *, size_t, int);
int  procs_entry_bytes(const char *, size_t, char *, size_t *);
int  procs_logs(
     struct process *, int, const char *, uint64_t, uint64_t, cJSON **, char **);

/* record.c */
struct record;
struct record *record_open(const char *, const char *, char **);
void	       record_line(struct record *, char, const char *, size_t);
void	       record_exit(struct record *, int);
void	       record_close(struct record *);

#endif /* SESSION_H */
