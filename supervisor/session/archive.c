/*
 * archive.c: a session as one tar archive, out (export) and in (import).
 *
 * An archive holds, in this order:
 *   session.json   the session's metadata as session.json keeps it, less
 *                  the agent's process; env and credentials only when the
 *                  export was asked for them (?credentials=true), else
 *                  their names; and "export": where it came from (format,
 *                  the agent's store roots, the home mode)
 *   events.jsonl   the universal log, whole lines only
 *   home/…         the agent's own files, by their path under a home laid
 *                  out as home.c lays it out (.claude/…, .codex/…): the
 *                  whole home of a session that has its own ("home":
 *                  "session"), else the files of this session in the
 *                  agent's store (native.c), less caches, locks and the
 *                  files that hold secrets (credentials.c) unless asked.
 *
 * Export writes the archive into an unnamed temporary file under the data
 * dir, at most ARCHIVE_STEP bytes per loop pass (a timer of 0 s between
 * passes, so the loop serves others meanwhile), then hands the descriptor
 * to its caller, which sends it. A file that changes size while it is
 * copied fails the export (the agent is writing: export between turns).
 *
 * Import takes the archive as it arrives (protocol/tar.c) into a staging
 * directory <data-dir>/.import-XXXXXX, rewriting as it goes the paths the
 * agent's files name (pathmap.c): the old cwd to the new one (?cwd=, or
 * the same), the old store roots to the new home, and the folder names
 * agents make of the cwd (native.c). A member is text, and rewritten, if
 * its first 8 KiB hold no NUL byte; binary files (SQLite) are copied as
 * they are. At the end the session's directory and its home are renamed
 * into place and the session is loaded as at start-up; the next message
 * resumes the agent with its native id.
 *
 * Refused, with a problem that says which member and why, and nothing
 * left on disk: a first member that is not session.json, a member outside
 * session.json, events.jsonl and home/ (absolute, "..", "." or empty
 * path parts), links and devices, a member over what is left of
 * ARCHIVE_IMPORT_MAX, more than ARCHIVE_MEMBERS_MAX members, an archive
 * cut short, an events.jsonl that does not end a line, a log the store
 * will not open.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#ifndef AGENTD_VERSION
#define AGENTD_VERSION "0.0.0"
#endif

#define ARCHIVE_FORMAT	    "agentd-session"
#define ARCHIVE_STEP	    (4UL * 1024 * 1024) /* bytes per loop pass */
#define ARCHIVE_FILES_MAX   100000		/* files of one export */
#define ARCHIVE_META_MAX    (4UL * 1024 * 1024) /* session.json */
#define ARCHIVE_IMPORT_MAX  (16ULL << 30)	/* bytes of one import */
#define ARCHIVE_MEMBERS_MAX 100000
#define ARCHIVE_SNIFF	    8192 /* bytes that tell text from binary */

struct archive_entry {
	char	*src;  /* file to copy, or NULL for mem */
	char	*name; /* in the archive */
	char	*mem;
	uint64_t size;
	unsigned mode;
	int64_t	 mtime;
};

struct archive_export {
	struct session	     *s;
	struct archive_entry *ents;
	size_t		      n;
	size_t		      cap;
	size_t		      cur;   /* entry being written */
	int		      phase; /* 0 header, 1 data, 2 end */
	uint64_t	      done;  /* data bytes of cur written */
	int		      in;    /* cur's source, or -1 */
	int		      fd;    /* the archive */
	uint64_t	      total; /* bytes written */
	int		      secrets;
	size_t		      skipped;
	struct loop_timer    *timer;
	archive_export_cb     cb;
	void		     *arg;
};

static void archive_export_step_cb(void *);

/* An unnamed temporary file under the data dir, 0600. */
static int
archive_tmpfile(char **cause)
{
	char *dir, *path;
	int   fd;

	xasprintf(&dir, "%s/tmp", options.data_dir);
	if (store_mkdirs(dir) != 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		return (-1);
	}
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		xasprintf(&path, "%s/export.XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
			(void)unlink(path);
		free(path);
	}
	if (fd == -1)
		xasprintf(
		    cause, "%s: temporary file: %s", dir, strerror(errno));
	free(dir);
	return (fd);
}

static void
archive_add(struct archive_export *ex, char *src, char *name, char *mem,
    uint64_t size, unsigned mode, int64_t mtime)
{
	struct archive_entry *e;

	if (ex->n == ex->cap) {
		ex->cap = ex->cap == 0 ? 16 : ex->cap * 2;
		ex->ents = xreallocarray(ex->ents, ex->cap, sizeof *ex->ents);
	}
	e = &ex->ents[ex->n++];
	e->src = src;
	e->name = name;
	e->mem = mem;
	e->size = size;
	e->mode = mode;
	e->mtime = mtime;
}

/* Add one file of the agent's (rel is its path under home/). */
static int
archive_add_file_cb(void *arg, const char *abs, const char *rel)
{
	struct archive_export *ex = arg;
	struct stat	       sb;
	char		      *name;

	if (native_skip(rel) ||
	    (!ex->secrets && credentials_secret_file(rel))) {
		ex->skipped++;
		return (0);
	}
	if (lstat(abs, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ex->skipped++;
		return (0);
	}
	if (ex->n >= ARCHIVE_FILES_MAX)
		return (-1);
	xasprintf(&name, "home/%s", rel);
	if (strlen(name) > TARW_NAME_MAX) {
		free(name);
		ex->skipped++;
		return (0);
	}
	archive_add(ex, xstrdup(abs), name, NULL, (uint64_t)sb.st_size,
	    sb.st_mode & 0700, (int64_t)sb.st_mtime);
	return (0);
}

/* Every regular file under dir; directories are walked, links skipped. */
static int
archive_walk(
    struct archive_export *ex, const char *dir, const char *rel, int depth)
{
	struct dirent *de;
	struct stat    sb;
	DIR	      *d;
	char	      *sub, *srel, *probe;
	int	       rv = 0;

	if (depth > 32 || (d = opendir(dir)) == NULL)
		return (0);
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&sub, "%s/%s", dir, de->d_name);
		if (*rel == '\0')
			srel = xstrdup(de->d_name);
		else
			xasprintf(&srel, "%s/%s", rel, de->d_name);
		if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			xasprintf(&probe, "%s/", srel);
			if (native_skip(probe))
				ex->skipped++;
			else
				rv = archive_walk(ex, sub, srel, depth + 1);
			free(probe);
		} else if (lstat(sub, &sb) == 0 && S_ISREG(sb.st_mode))
			rv = archive_add_file_cb(ex, sub, srel);
		else
			ex->skipped++; /* links, sockets, fifos */
		free(sub);
		free(srel);
	}
	closedir(d);
	return (rv);
}

/*
 * The size of events.jsonl up to its last newline: a line the store is
 * writing right now is not carried.
 */
static int
archive_events_size(const char *path, uint64_t *size)
{
	struct stat sb;
	char	    buf[65536];
	off_t	    end;
	ssize_t	    n, i;
	int	    fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return (-1);
	}
	end = sb.st_size;
	while (end > 0) {
		n = end > (off_t)sizeof buf ? (ssize_t)sizeof buf
					    : (ssize_t)end;
		if (pread(fd, buf, (size_t)n, end - n) != n) {
			close(fd);
			return (-1);
		}
		for (i = n; i > 0; i--) {
			if (buf[i - 1] == '\n')
				break;
		}
		if (i > 0) {
			end = end - n + i;
			break;
		}
		end -= n;
	}
	close(fd);
	*size = (uint64_t)end;
	return (0);
}

/* session.json for the archive: the metadata and where it came from. */
static char *
archive_meta(struct archive_export *ex, const struct session_place *pl,
    const char *root, const char *rel, size_t *len)
{
	cJSON *o, *x, *roots;
	char  *text;

	o = session_meta(ex->s, ex->secrets);
	x = json_object();
	json_set_str(x, "format", ARCHIVE_FORMAT);
	json_set_int(x, "version", 1);
	json_set_str(x, "agentdVersion", AGENTD_VERSION);
	json_set_int(x, "exportedAt", loop_wall_ms());
	json_set_str(x, "home", home_mode_name(pl->home));
	json_set_bool(x, "credentials", ex->secrets);
	roots = json_object();
	if (root != NULL)
		json_set_str(roots, root, rel);
	json_set(x, "roots", roots);
	json_set_int(x, "files", (long long)ex->n);
	json_set_int(x, "skipped", (long long)ex->skipped);
	json_set(o, "export", x);
	text = json_print(o, len);
	json_free(o);
	return (text);
}

static void
archive_export_free(struct archive_export *ex)
{
	size_t i;

	for (i = 0; i < ex->n; i++) {
		free(ex->ents[i].src);
		free(ex->ents[i].name);
		if (ex->ents[i].mem != NULL)
			xfree_secret(ex->ents[i].mem);
	}
	free(ex->ents);
	if (ex->in != -1)
		close(ex->in);
	if (ex->fd != -1)
		close(ex->fd);
	loop_timer_free(ex->timer);
	session_unref(ex->s);
	free(ex);
}

/* Tell the caller and free: the archive's descriptor, or a problem. */
static void
archive_export_end(struct archive_export *ex, int status, char *cause)
{
	int fd = -1;

	if (status == 0) {
		fd = ex->fd;
		ex->fd = -1;
	}
	ex->cb(ex->arg, fd, ex->total, status, cause);
	free(cause);
	archive_export_free(ex);
}

static int
archive_write(struct archive_export *ex, const char *p, size_t len)
{
	if (compat_writeall(ex->fd, p, len) != 0)
		return (-1);
	ex->total += len;
	return (0);
}

/*
 * One pass: headers and data up to ARCHIVE_STEP bytes. 1 when the
 * archive is complete, 0 to go on, an HTTP status with *cause on failure.
 */
static int
archive_export_step(struct archive_export *ex, char **cause)
{
	struct archive_entry *e;
	char		      hdr[TARW_HEADER_MAX], buf[65536];
	size_t		      n, budget = ARCHIVE_STEP, want;
	ssize_t		      got;

	while (budget > 0) {
		if (ex->cur == ex->n) {
			n = tarw_end(hdr);
			if (archive_write(ex, hdr, n) != 0)
				goto wfail;
			return (1);
		}
		e = &ex->ents[ex->cur];
		if (ex->phase == 0) {
			n = tarw_header(hdr, sizeof hdr, e->name, TARW_FILE,
			    e->size, e->mode | 0600, e->mtime);
			if (n == 0) {
				xasprintf(
				    cause, "%s: cannot be archived", e->name);
				return (500);
			}
			if (archive_write(ex, hdr, n) != 0)
				goto wfail;
			if (e->src != NULL &&
			    (ex->in = open(e->src,
				 O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
				xasprintf(
				    cause, "%s: %s", e->src, strerror(errno));
				return (409);
			}
			ex->phase = 1;
			ex->done = 0;
		}
		while (ex->done < e->size && budget > 0) {
			want = sizeof buf;
			if (want > e->size - ex->done)
				want = (size_t)(e->size - ex->done);
			if (e->src == NULL) {
				if (archive_write(
					ex, e->mem + ex->done, want) != 0)
					goto wfail;
				got = (ssize_t)want;
			} else {
				got = pread(ex->in, buf, want, (off_t)ex->done);
				if (got <= 0) {
					xasprintf(cause,
					    "%s changed while it was "
					    "exported (the agent is writing: "
					    "export between turns)",
					    e->name);
					return (409);
				}
				if (archive_write(ex, buf, (size_t)got) != 0)
					goto wfail;
			}
			ex->done += (uint64_t)got;
			budget -= budget > (size_t)got ? (size_t)got : budget;
		}
		if (ex->done < e->size)
			return (0);
		memset(buf, 0, TARW_BLOCK);
		if (archive_write(ex, buf, tarw_pad(e->size)) != 0)
			goto wfail;
		if (ex->in != -1) {
			close(ex->in);
			ex->in = -1;
		}
		ex->phase = 0;
		ex->cur++;
	}
	return (0);
wfail:
	xasprintf(cause, "cannot write the archive: %s", strerror(errno));
	return (errno == ENOSPC ? 507 : 500);
}

static void
archive_export_step_cb(void *arg)
{
	struct archive_export *ex = arg;
	char		      *cause = NULL;
	int		       r;

	if (session_is_dead(ex->s)) {
		archive_export_end(ex, 404, xstrdup("the session was deleted"));
		return;
	}
	r = archive_export_step(ex, &cause);
	if (r == 0) {
		loop_timer_set(ex->timer, 0);
		return;
	}
	archive_export_end(ex, r == 1 ? 0 : r, cause);
}

/*
 * List what the archive holds and start writing it, a few MiB a pass.
 * 0, or an HTTP status with *cause (ex is then freed).
 */
static int
archive_export_start(struct archive_export *ex, char **cause)
{
	struct session	    *s = ex->s;
	struct session_place pl;
	char		    *meta, *events, *root = NULL;
	const char	    *rel = "";
	uint64_t	     esize;
	size_t		     len;
	int		     status;

	session_place(s, &pl);
	if ((ex->fd = archive_tmpfile(cause)) == -1) {
		status = 507;
		goto fail;
	}
	xasprintf(&events, "%s/sessions/%s/events.jsonl", options.data_dir,
	    session_name(s));
	if (archive_events_size(events, &esize) != 0) {
		xasprintf(cause, "%s: %s", events, strerror(errno));
		free(events);
		status = 500;
		goto fail;
	}
	/* session.json first (its size is known at the end), then the log,
	 * then the agent's files. */
	archive_add(ex, NULL, xstrdup("session.json"), NULL, 0, 0600, 0);
	archive_add(ex, events, xstrdup("events.jsonl"), NULL, esize, 0600,
	    loop_wall_ms() / 1000);
	if (pl.home == HOME_SESSION) {
		root = xstrdup(pl.home_dir);
		if (archive_walk(ex, root, "", 0) != 0)
			goto toomany;
	} else {
		/* The session's files only: the store is not its alone. */
		if (pl.home == HOME_SHARED)
			root = xstrdup(pl.home_dir);
		else
			root = native_store_dir(
			    session_agent(s), NULL, pl.env, &rel);
		if (native_files(session_agent(s), pl.home_dir, pl.env,
			pl.native_id, archive_add_file_cb, ex) != 0)
			goto toomany;
	}
	meta = archive_meta(ex, &pl, root, rel, &len);
	ex->ents[0].mem = meta;
	ex->ents[0].size = len;
	ex->ents[0].mtime = loop_wall_ms() / 1000;
	free(root);
	ex->timer = loop_timer_new(archive_export_step_cb, ex);
	loop_timer_set(ex->timer, 0);
	log_info("session %s: exporting %zu files%s", session_name(s),
	    ex->n - 2, ex->secrets ? " with its credentials" : "");
	return (0);
toomany:
	free(root);
	xasprintf(cause, "the agent's home holds more than %d files",
	    ARCHIVE_FILES_MAX);
	status = 413;
fail:
	archive_export_free(ex);
	return (status);
}

/* The agent stopped for the export has exited: its files are whole. */
static void
archive_export_quiet_cb(void *arg)
{
	struct archive_export *ex = arg;
	archive_export_cb      cb = ex->cb;
	void		      *cbarg = ex->arg;
	char		      *cause = NULL;
	int		       status;

	if (session_is_dead(ex->s)) {
		archive_export_end(ex, 404, xstrdup("the session was deleted"));
		return;
	}
	if ((status = archive_export_start(ex, &cause)) != 0) {
		cb(cbarg, -1, 0, status, cause);
		free(cause);
	}
}

/*
 * Start exporting s; cb(arg, fd, size, 0, NULL) gets the archive (a
 * descriptor at its end, to read with pread from 0) or (…, -1, 0, status,
 * cause). secrets: carry env, credentials and the agent's secret files.
 * An agent running between turns is stopped first (session_quiesce), so
 * that what it writes behind its events is in. 0, or an HTTP status with
 * *cause when it cannot even start.
 */
int
archive_export(struct session *s, int secrets, archive_export_cb cb, void *arg,
    char **cause)
{
	struct archive_export *ex;

	ex = xcalloc(1, sizeof *ex);
	ex->s = s;
	session_ref(s);
	ex->in = -1;
	ex->fd = -1;
	ex->secrets = secrets;
	ex->cb = cb;
	ex->arg = arg;
	if (session_quiesce(s, archive_export_quiet_cb, ex) == 0)
		return (0);
	return (archive_export_start(ex, cause));
}

/* Import ----------------------------------------------------------------- */

enum archive_member {
	AM_NONE,
	AM_META,   /* session.json, gathered in memory */
	AM_EVENTS, /* events.jsonl */
	AM_HOME,   /* a file under home/ */
	AM_SKIP	   /* a file not taken (a secret for a shared home) */
};

struct archive_import {
	char	      *want_id;	 /* ?id=, or NULL */
	char	      *want_cwd; /* ?cwd=, or NULL */
	enum home_mode home;
	struct tar    *tar;
	char	      *stage;  /* <data-dir>/.import-XXXXXX */
	int	       status; /* the problem's, once failed */
	char	      *error;

	enum archive_member    member;
	char		      *name; /* the member's name in the archive */
	uint64_t	       left; /* its data bytes to come */
	int		       fd;   /* where they go, or -1 */
	struct buf	       meta;
	char		       sniff[ARCHIVE_SNIFF];
	size_t		       nsniff;
	int		       sniffed;
	struct pathmap_stream *rw;   /* a text member's rewriter */
	char		       last; /* the last byte of events.jsonl */

	cJSON			   *session; /* session.json, parsed */
	char			   *id;
	char			   *cwd;
	char			   *old_cwd;
	const struct agent_profile *profile;
	struct pathmap		   *pm;	    /* paths in the agent's files */
	struct pathmap		   *events; /* the session id in events.jsonl */
	int			    have_events;
	uint64_t		    total;
	size_t			    members;
	size_t			    nfiles;	/* file members */
	uint64_t		    nlines;	/* of events.jsonl */
	long long		    want_files; /* export.files */
	size_t			    files;
	size_t			    skipped;
};

static int archive_fail(struct archive_import *, int, const char *, ...)
    __printflike(3, 4);

static int
archive_fail(struct archive_import *im, int status, const char *fmt, ...)
{
	va_list ap;

	if (im->error == NULL) {
		va_start(ap, fmt);
		(void)xvasprintf(&im->error, fmt, ap);
		va_end(ap);
		im->status = status;
	}
	return (-1);
}

/*
 * A member's name under home/: relative, made of plain parts (no "", "."
 * or ".."), at most TARW_NAME_MAX. Returns the part after "home/" or NULL.
 */
static const char *
archive_home_name(const char *name)
{
	const char *p, *part;
	size_t	    len;

	if (strncmp(name, "home/", 5) != 0 || strlen(name) > TARW_NAME_MAX)
		return (NULL);
	for (part = p = name + 5;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		len = (size_t)(p - part);
		if (len == 0 || (len == 1 && part[0] == '.') ||
		    (len == 2 && part[0] == '.' && part[1] == '.'))
			return (NULL);
		if (*p == '\0')
			return (name + 5);
		part = p + 1;
	}
}

/*
 * Open dir/rel for writing, making its parents: every part is opened
 * with O_NOFOLLOW under the staging directory, which holds nothing but
 * what this import made, so no link can lead out.
 */
static int
archive_create(const char *dir, const char *rel, int excl)
{
	char *copy, *part, *slash;
	int   dfd, fd, saved;

	if ((dfd = open(
		 dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (-1);
	copy = xstrdup(rel);
	for (part = copy; (slash = strchr(part, '/')) != NULL;
	     part = slash + 1) {
		*slash = '\0';
		if (mkdirat(dfd, part, 0700) == -1 && errno != EEXIST)
			goto fail;
		fd = openat(
		    dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			goto fail;
		close(dfd);
		dfd = fd;
	}
	fd = openat(dfd, part,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		(excl ? O_EXCL : O_TRUNC),
	    0600);
	saved = errno;
	close(dfd);
	free(copy);
	errno = saved;
	return (fd);
fail:
	saved = errno;
	close(dfd);
	free(copy);
	errno = saved;
	return (-1);
}

static int
archive_fd_write(struct archive_import *im, const char *p, size_t len)
{
	if (compat_writeall(im->fd, p, len) != 0)
		return (archive_fail(im, errno == ENOSPC ? 507 : 500, "%s: %s",
		    im->name, strerror(errno)));
	return (0);
}

static int
archive_rw_cb(void *arg, const char *p, size_t len)
{
	return (archive_fd_write(arg, p, len));
}

/*
 * session.json is in: check it and settle the id, the cwd, the home and
 * the rewrites of everything that follows.
 */
static int
archive_meta_done(struct archive_import *im)
{
	const cJSON *x, *roots, *r;
	const char  *err, *v;
	struct stat  sb;
	char	    *path, *home, *to;

	im->session = json_parse(
	    im->meta.p != NULL ? im->meta.p : "", im->meta.len, &err);
	if (!json_is_obj(im->session))
		return (archive_fail(im, 400,
		    "session.json: not a JSON "
		    "object"));
	x = json_get_obj(im->session, "export");
	if ((v = json_get_str(x, "format")) == NULL ||
	    strcmp(v, ARCHIVE_FORMAT) != 0)
		return (archive_fail(im, 400,
		    "session.json: not an agentd session export (no "
		    "export.format \"" ARCHIVE_FORMAT "\")"));
	/* The count tells an archive cut at a member's end from a whole. */
	if (json_get_int(x, "files", &im->want_files) != 0 ||
	    im->want_files < 2)
		return (archive_fail(im, 400,
		    "session.json: export.files (the number of files) is "
		    "missing"));
	if ((v = json_get_str(im->session, "agent")) == NULL ||
	    (im->profile = adapter_find_agent(v)) == NULL)
		return (archive_fail(im, 400, "session.json: unknown agent"));
	v = im->want_id != NULL ? im->want_id : json_get_str(im->session, "id");
	if (v == NULL || !session_valid_id(v))
		return (archive_fail(im, 400, "invalid session id"));
	im->id = xstrdup(v);
	if (session_find(im->id) != NULL)
		return (archive_fail(
		    im, 409, "session '%s' already exists", im->id));
	xasprintf(&path, "%s/sessions/%s", options.data_dir, im->id);
	if (lstat(path, &sb) == 0) {
		free(path);
		return (archive_fail(
		    im, 409, "session '%s' already exists (on disk)", im->id));
	}
	free(path);
	if ((v = json_get_str(im->session, "cwd")) == NULL || *v != '/')
		return (archive_fail(im, 400, "session.json: no absolute cwd"));
	im->cwd = xstrdup(im->want_cwd != NULL ? im->want_cwd : v);
	im->old_cwd = xstrdup(v);
	if (stat(im->cwd, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return (archive_fail(im, 400,
		    "cwd '%s' is not an existing directory here (give ?cwd=)",
		    im->cwd));
	if (im->home == HOME_SESSION) {
		xasprintf(&path, "%s/homes/%s", home_data_dir(), im->id);
		if (lstat(path, &sb) == 0) {
			free(path);
			return (
			    archive_fail(im, 409, "%s/homes/%s exists already",
				home_data_dir(), im->id));
		}
		free(path);
	}
	/* Old cwd, old store roots: to the new ones. */
	native_pathmap(im->pm, v, im->cwd);
	home = home_dir(im->home, im->id);
	roots = json_get_obj(x, "roots");
	JSON_FOREACH(r, roots) {
		if (*json_key(r) != '/' || json_str(r) == NULL)
			continue;
		xasprintf(&to, "home/%s", json_str(r));
		if (*json_str(r) != '\0' && archive_home_name(to) == NULL) {
			free(to);
			free(home);
			return (archive_fail(im, 400,
			    "session.json: export.roots: '%s' is not a plain "
			    "path",
			    json_str(r)));
		}
		free(to);
		if (*json_str(r) == '\0')
			to = xstrdup(home);
		else
			xasprintf(&to, "%s/%s", home, json_str(r));
		pathmap_add(im->pm, json_key(r), to);
		free(to);
	}
	free(home);
	if (strcmp(im->id, json_get_str(im->session, "id")) != 0) {
		xasprintf(&path, "\"session_id\":\"%s\"",
		    json_get_str(im->session, "id"));
		xasprintf(&to, "\"session_id\":\"%s\"", im->id);
		pathmap_add(im->events, path, to);
		free(path);
		free(to);
	}
	return (0);
}

static int
archive_entry_cb(void *arg, const struct tar_entry *e)
{
	struct archive_import *im = arg;
	const char	      *rel;
	char		      *mapped, *dir;

	free(im->name);
	im->name = xstrdup(e->name);
	im->left = e->size;
	im->nsniff = 0;
	im->sniffed = 0;
	if (++im->members > ARCHIVE_MEMBERS_MAX)
		return (archive_fail(
		    im, 413, "more than %d members", ARCHIVE_MEMBERS_MAX));
	if (e->size > ARCHIVE_IMPORT_MAX - im->total)
		return (archive_fail(im, 413,
		    "%s: %llu bytes, over what an import may hold", e->name,
		    (unsigned long long)e->size));
	im->total += e->size;
	if (im->session == NULL) {
		if (strcmp(e->name, "session.json") != 0 || e->type != TAR_FILE)
			return (archive_fail(im, 400,
			    "the first member must be session.json, not %s",
			    e->name));
		if (e->size > ARCHIVE_META_MAX)
			return (
			    archive_fail(im, 413, "session.json is too big"));
		im->member = AM_META;
		im->nfiles++;
		return (0);
	}
	if (e->type == TAR_DIR && strncmp(e->name, "home/", 5) == 0) {
		im->member = AM_NONE;
		return (0); /* made with the files in it */
	}
	if (e->type == TAR_FILE)
		im->nfiles++;
	if (e->type != TAR_FILE)
		return (archive_fail(im, 400,
		    "%s: a %s; only files and directories are taken", e->name,
		    e->type == TAR_SYMLINK	  ? "symbolic link"
			: e->type == TAR_HARDLINK ? "hard link"
						  : "special file"));
	if (strcmp(e->name, "events.jsonl") == 0 && !im->have_events) {
		im->have_events = 1;
		im->member = AM_EVENTS;
		im->last = '\n';
		if ((im->fd = archive_create(
			 im->stage, "session/events.jsonl", 1)) == -1)
			return (archive_fail(
			    im, 500, "events.jsonl: %s", strerror(errno)));
		im->rw = pathmap_stream_new(im->events, archive_rw_cb, im);
		return (0);
	}
	if ((rel = archive_home_name(e->name)) == NULL)
		return (archive_fail(im, 400,
		    "%s: not session.json, events.jsonl or a plain path under "
		    "home/",
		    e->name));
	if (im->home == HOME_SHARED && credentials_secret_file(rel)) {
		im->member = AM_SKIP;
		im->skipped++;
		return (0);
	}
	mapped = pathmap_apply(im->pm, rel);
	/* Still a plain path once rewritten (no "..", nothing absolute). */
	xasprintf(&dir, "home/%s", mapped);
	if (archive_home_name(dir) == NULL) {
		free(dir);
		free(mapped);
		return (archive_fail(
		    im, 400, "%s: not a plain path once moved", e->name));
	}
	free(dir);
	xasprintf(&dir, "%s/home", im->stage);
	im->fd = archive_create(dir, mapped, 1);
	free(dir);
	if (im->fd == -1) {
		archive_fail(im, errno == EEXIST ? 400 : 500, "%s: %s", e->name,
		    errno == EEXIST ? "twice in the archive" : strerror(errno));
		free(mapped);
		return (-1);
	}
	free(mapped);
	im->member = AM_HOME;
	im->files++;
	return (0);
}

/* A home file's first bytes: text (rewritten) or binary (copied)? */
static int
archive_sniff_done(struct archive_import *im)
{
	im->sniffed = 1;
	if (memchr(im->sniff, '\0', im->nsniff) == NULL)
		im->rw = pathmap_stream_new(im->pm, archive_rw_cb, im);
	if (im->rw != NULL)
		return (pathmap_stream_feed(im->rw, im->sniff, im->nsniff) ? -1
									   : 0);
	return (archive_fd_write(im, im->sniff, im->nsniff));
}

static int
archive_data_cb(void *arg, const char *p, size_t len)
{
	struct archive_import *im = arg;
	size_t		       n;

	switch (im->member) {
	case AM_META:
		if (buf_add(&im->meta, p, len) != 0)
			return (
			    archive_fail(im, 413, "session.json is too big"));
		return (0);
	case AM_EVENTS:
		if (len > 0)
			im->last = p[len - 1];
		for (n = 0; n < len; n++)
			im->nlines += p[n] == '\n';
		return (pathmap_stream_feed(im->rw, p, len) ? -1 : 0);
	case AM_HOME:
		if (!im->sniffed) {
			n = ARCHIVE_SNIFF - im->nsniff;
			if (n > len)
				n = len;
			memcpy(im->sniff + im->nsniff, p, n);
			im->nsniff += n;
			p += n;
			len -= n;
			if (im->nsniff < ARCHIVE_SNIFF)
				return (0);
			if (archive_sniff_done(im) != 0)
				return (-1);
		}
		if (len == 0)
			return (0);
		if (im->rw != NULL)
			return (pathmap_stream_feed(im->rw, p, len) ? -1 : 0);
		return (archive_fd_write(im, p, len));
	default:
		return (0);
	}
}

/* The member's data is complete. */
static int
archive_end_cb(void *arg)
{
	struct archive_import *im = arg;
	int		       rv = 0;

	if (im->member == AM_META)
		rv = archive_meta_done(im);
	else if (im->member == AM_HOME && !im->sniffed)
		rv = archive_sniff_done(im);
	if (rv == 0 && im->rw != NULL && pathmap_stream_finish(im->rw) != 0)
		rv = -1;
	if (rv == 0 && im->member == AM_EVENTS && im->last != '\n')
		rv = archive_fail(
		    im, 400, "events.jsonl does not end with a whole line");
	pathmap_stream_free(im->rw);
	im->rw = NULL;
	if (im->fd != -1) {
		if (close(im->fd) != 0 && rv == 0)
			rv = archive_fail(
			    im, 500, "%s: %s", im->name, strerror(errno));
		im->fd = -1;
	}
	im->member = AM_NONE;
	return (rv);
}

static const struct tar_cbs archive_tar_cbs = { archive_entry_cb,
	archive_data_cb, archive_end_cb };

void
archive_import_free(struct archive_import *im)
{
	if (im == NULL)
		return;
	if (im->fd != -1)
		close(im->fd);
	if (im->stage != NULL && home_remove(im->stage) != 0)
		log_warn("%s: cannot remove: %s", im->stage, strerror(errno));
	pathmap_stream_free(im->rw);
	pathmap_free(im->pm);
	pathmap_free(im->events);
	tar_free(im->tar);
	buf_free(&im->meta);
	json_free(im->session);
	free(im->stage);
	free(im->want_id);
	free(im->want_cwd);
	free(im->id);
	free(im->cwd);
	free(im->old_cwd);
	free(im->name);
	free(im->error);
	free(im);
}

/*
 * Begin an import. id and cwd (either NULL) override the archive's; home
 * is where the agent's files go ("session" or "shared"; NULL: the
 * daemon's --agent-home if it names one, else "session"). NULL with an
 * HTTP status and *cause if it cannot begin.
 */
struct archive_import *
archive_import_new(const char *id, const char *cwd, const char *home,
    int *status, char **cause)
{
	struct archive_import *im;
	enum home_mode	       mode = HOME_SESSION;
	char		      *path;

	if (home == NULL && options.agent_home != NULL &&
	    home_mode_parse(options.agent_home, &mode) == 0 &&
	    mode == HOME_NONE)
		mode = HOME_SESSION;
	if (home != NULL &&
	    (home_mode_parse(home, &mode) != 0 || mode == HOME_NONE)) {
		*cause = xstrdup("home must be \"session\" or \"shared\": an "
				 "imported agent keeps its files on the data "
				 "dir");
		*status = 400;
		return (NULL);
	}
	if ((id != NULL && !session_valid_id(id)) ||
	    (cwd != NULL && *cwd != '/')) {
		*cause = xstrdup(id != NULL && !session_valid_id(id)
			? "invalid session id"
			: "cwd must be an absolute path");
		*status = 400;
		return (NULL);
	}
	im = xcalloc(1, sizeof *im);
	im->fd = -1;
	im->home = mode;
	im->want_id = id != NULL ? xstrdup(id) : NULL;
	im->want_cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	im->pm = pathmap_new();
	im->events = pathmap_new();
	buf_init(&im->meta, ARCHIVE_META_MAX);
	im->tar = tar_new(&archive_tar_cbs, im);
	xasprintf(&im->stage, "%s/.import-XXXXXX", options.data_dir);
	if (mkdtemp(im->stage) == NULL) {
		xasprintf(cause, "%s: %s", im->stage, strerror(errno));
		free(im->stage);
		im->stage = NULL;
		archive_import_free(im);
		*status = 507;
		return (NULL);
	}
	xasprintf(&path, "%s/home", im->stage);
	if (mkdir(path, 0700) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		archive_import_free(im);
		*status = 507;
		return (NULL);
	}
	free(path);
	return (im);
}

/* The next bytes of the archive. 0, or an HTTP status with *cause (the
 * import is over: free it). */
int
archive_import_feed(
    struct archive_import *im, const char *p, size_t len, char **cause)
{
	if (im->error == NULL && tar_feed(im->tar, p, len) < 0)
		archive_fail(
		    im, 400, "not a valid tar archive: %s", tar_error(im->tar));
	if (im->error != NULL) {
		*cause = xstrdup(im->error);
		return (im->status);
	}
	return (0);
}

/*
 * Move the files under src into dst, a shared home: a file that is there
 * already stays (it is another session's, or the home's own config).
 */
static int
archive_merge(struct archive_import *im, int sfd, int dfd, int depth)
{
	struct dirent *de;
	struct stat    sb;
	DIR	      *d;
	int	       sub, dsub, rv = 0;

	if (depth > 64 || (d = fdopendir(sfd)) == NULL) {
		close(sfd);
		close(dfd);
		return (-1);
	}
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			rv = -1;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			/* linkat never replaces, nor follows a link there. */
			if (linkat(dirfd(d), de->d_name, dfd, de->d_name, 0) !=
			    0) {
				if (errno == EEXIST)
					im->skipped++;
				else
					rv = -1;
			}
			continue;
		}
		/* A directory of the home: never through a link an agent
		 * made there. */
		if (mkdirat(dfd, de->d_name, 0700) != 0 && errno != EEXIST) {
			rv = -1;
			continue;
		}
		dsub = openat(dfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		sub = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dsub == -1 || sub == -1) {
			if (dsub != -1)
				close(dsub);
			if (sub != -1)
				close(sub);
			rv = -1;
			continue;
		}
		rv = archive_merge(im, sub, dsub, depth + 1);
	}
	closedir(d);
	close(dfd);
	return (rv);
}

/* Does the store take every line of the imported events.jsonl? */
static int
archive_check_events(struct archive_import *im)
{
	struct store *st;
	uint64_t      last;
	char	     *why;

	st = store_open(STORE_EVENTS, options.data_dir, im->id, &last, &why);
	if (st == NULL) {
		archive_fail(im, 400, "events.jsonl: %s", why);
		free(why);
		return (-1);
	}
	store_close(st);
	if (last != im->nlines)
		return (archive_fail(im, 400,
		    "events.jsonl: %llu of its %llu lines are events in "
		    "order (each must be the next sequence)",
		    (unsigned long long)last, (unsigned long long)im->nlines));
	return (0);
}

/* Merge the staged home into the shared home dst (made if missing). */
static int
archive_merge_home(struct archive_import *im, const char *src, const char *dst)
{
	int sfd, dfd;

	if (store_mkdirs(dst) != 0)
		return (-1);
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd == -1 || dfd == -1) {
		if (sfd != -1)
			close(sfd);
		if (dfd != -1)
			close(dfd);
		return (-1);
	}
	return (archive_merge(im, sfd, dfd, 0));
}

/* Is path a plain path under the session's new home? */
static int
archive_in_home(struct archive_import *im, const char *path)
{
	char  *home, *rel;
	size_t len;
	int    ok;

	home = home_dir(im->home, im->id);
	len = strlen(home);
	ok = strncmp(path, home, len) == 0 && path[len] == '/';
	if (ok) {
		xasprintf(&rel, "home/%s", path + len + 1);
		ok = archive_home_name(rel) != NULL;
		free(rel);
	}
	free(home);
	return (ok);
}

/* The session.json the imported session is loaded from. */
static int
archive_write_meta(struct archive_import *im)
{
	const char *native;
	char	   *mapped, *text;
	size_t	    len;
	int	    fd, rv;

	json_free(json_detach(im->session, "export"));
	json_free(json_detach(im->session, "envKeys"));
	json_free(json_detach(im->session, "credentialNames"));
	json_free(json_detach(im->session, "agentPid"));
	json_free(json_detach(im->session, "agentStart"));
	json_free(json_detach(im->session, "agentBoot"));
	json_set_str(im->session, "id", im->id);
	json_set_str(im->session, "cwd", im->cwd);
	json_set_str(im->session, "home", home_mode_name(im->home));
	if ((native = json_get_str(im->session, "nativeSessionId")) != NULL) {
		mapped = pathmap_apply(im->pm, native);
		/* A native id that is a path (Pi's session file) names a file
		 * the agent will write: it must be in the new home. */
		if (strchr(mapped, '/') != NULL &&
		    !archive_in_home(im, mapped)) {
			free(mapped);
			return (archive_fail(im, 400,
			    "session.json: nativeSessionId names a file "
			    "outside "
			    "the agent's home"));
		}
		json_set_str(im->session, "nativeSessionId", mapped);
		free(mapped);
	}
	text = json_print(im->session, &len);
	if ((fd = archive_create(im->stage, "session/session.json", 1)) == -1) {
		xfree_secret(text);
		return (
		    archive_fail(im, 500, "session.json: %s", strerror(errno)));
	}
	im->fd = fd;
	free(im->name);
	im->name = xstrdup("session.json");
	rv = archive_fd_write(im, text, len);
	xfree_secret(text);
	close(fd);
	im->fd = -1;
	return (rv);
}

/*
 * The archive is complete: put the session in place and load it. The
 * session, or NULL with an HTTP status and *cause; either way nothing of
 * a failed import stays (archive_import_free removes the stage).
 */
struct session *
archive_import_finish(struct archive_import *im, int *status, char **cause)
{
	struct session *s = NULL;
	char	       *from, *sdir = NULL, *hdir = NULL, *why;

	if (im->error == NULL && tar_finish(im->tar) != 0)
		archive_fail(
		    im, 400, "not a whole tar archive: %s", tar_error(im->tar));
	if (im->error == NULL && im->session == NULL)
		archive_fail(im, 400, "the archive holds no session.json");
	if (im->error == NULL && !im->have_events)
		archive_fail(im, 400, "the archive holds no events.jsonl");
	if (im->error == NULL && (long long)im->nfiles != im->want_files)
		archive_fail(im, 400,
		    "the archive is cut short: %zu files of %lld", im->nfiles,
		    im->want_files);
	if (im->error == NULL)
		(void)archive_write_meta(im);
	if (im->error != NULL)
		goto fail;
	xasprintf(&sdir, "%s/sessions/%s", options.data_dir, im->id);
	xasprintf(&from, "%s/session", im->stage);
	if (rename(from, sdir) != 0) {
		archive_fail(im,
		    errno == EEXIST || errno == ENOTEMPTY ? 409 : 500, "%s: %s",
		    sdir, strerror(errno));
		free(from);
		free(sdir);
		sdir = NULL;
		goto fail;
	}
	free(from);
	xasprintf(&from, "%s/home", im->stage);
	hdir = home_dir(im->home, im->id);
	if (im->home == HOME_SESSION) {
		xasprintf(&why, "%s/homes", home_data_dir());
		(void)store_mkdirs(why);
		free(why);
		if (rename(from, hdir) != 0) {
			archive_fail(im, 500, "%s: %s", hdir, strerror(errno));
			free(hdir);
			hdir = NULL;
		}
	} else if (archive_merge_home(im, from, hdir) != 0) {
		archive_fail(im, 500, "%s: %s", hdir, strerror(errno));
		free(hdir);
		hdir = NULL; /* what was merged stays: it may be shared */
	}
	free(from);
	/* The store keeps only the good events it finds: it must find all. */
	if (im->error == NULL && archive_check_events(im) != 0)
		goto fail;
	if (im->error == NULL && hdir != NULL &&
	    native_moved(im->profile, hdir,
		json_get_str(im->session, "nativeSessionId"), im->old_cwd,
		im->cwd) != 0)
		archive_fail(im, 500, "%s: %s", hdir, strerror(errno));
	if (im->error == NULL && (s = session_adopt(im->id, &why)) == NULL) {
		archive_fail(im, 400, "%s", why);
		free(why);
	}
	if (im->error != NULL)
		goto fail;
	log_info("session %s: imported (%s, %zu files, %zu skipped)", im->id,
	    im->profile->id, im->files, im->skipped);
	free(sdir);
	free(hdir);
	return (s);
fail:
	if (sdir != NULL && home_remove(sdir) != 0)
		log_warn("%s: cannot remove: %s", sdir, strerror(errno));
	if (hdir != NULL && im->home == HOME_SESSION && home_remove(hdir) != 0)
		log_warn("%s: cannot remove: %s", hdir, strerror(errno));
	free(sdir);
	free(hdir);
	*status = im->status;
	*cause = xstrdup(im->error);
	return (NULL);
}

/* How many of the agent's files an import wrote, and left out. */
void
archive_import_counts(struct archive_import *im, size_t *files, size_t *skipped)
{
	*files = im->files;
	*skipped = im->skipped;
}

/*
 * Remove the staging directories an import left when agentd stopped in
 * the middle of it, and exports' temporary files (start-up).
 */
void
archive_sweep(void)
{
	struct dirent *de;
	DIR	      *d;
	char	      *path;

	if ((d = opendir(options.data_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".import-", 8) != 0)
			continue;
		xasprintf(&path, "%s/%s", options.data_dir, de->d_name);
		if (home_remove(path) == 0)
			log_info("removed %s: an import cut short", path);
		free(path);
	}
	closedir(d);
	xasprintf(&path, "%s/tmp", options.data_dir);
	(void)home_remove(path);
	free(path);
}
