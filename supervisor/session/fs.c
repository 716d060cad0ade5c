/*
 * fs.c: the sandbox's files for the routes under /v1/fs (sandbox-agent 0.4.2's):
 * list, stat, read, write, make a directory, move, delete, and unpack a
 * tar archive, with the answers docs/api.md tabulates.
 *
 * Paths. An absolute path is taken as is; a relative one is under $HOME
 * (agentd's working directory when HOME is unset), as sandbox-agent does.
 * A path with a ".." component is refused (400) whatever its form, so no
 * answer depends on how ".." meets a symlink. Symlinks are followed to
 * read, stat and list; a write goes to the file a symlink names (the link
 * stays); delete and move act on the link itself; an archive's members
 * are never written through a symlink (session/fs.c opens every parent
 * directory with O_NOFOLLOW).
 *
 * Writes are atomic and streamed: the bytes go to a temporary file beside
 * the target as they arrive (through a 64 KiB buffer), which is renamed
 * over it once the body is complete; a client that goes away leaves the
 * old file untouched and no temporary behind. Nothing is fsynced: the
 * rename protects readers and agentd crashes, not a power cut (as cp and
 * most editors do). Only regular files are read or replaced: a device,
 * a FIFO or a socket is refused (409), never opened to read (opening one
 * can act, or fail as /dev/tty does without a terminal) nor renamed over
 * (as root, a PUT of /dev/null would swap the null device for a file).
 *
 * Every call returns 0, or an HTTP status with a malloc'd cause (the
 * session layer never builds a reply; http/sandbox.c does).
 */
#include <sys/mman.h>
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

#define FS_BUF	       (64 * 1024)   /* write buffer of an upload */
#define FS_MAX_ENTRIES 50000	     /* directory listing cap */
#define FS_MAX_PATHS   1024	     /* paths an unpacked archive reports */
#define FS_MAX_DEPTH   256	     /* recursive delete */
#define FS_MAX_LINKS   8	     /* symlinks followed to write */
#define FS_MAX_UNSIZED (1024 * 1024) /* a read of a file with no size */

enum fs_kind {
	FS_FILE, /* one file: PUT /v1/fs/file */
	FS_TAR	 /* an archive: POST /v1/fs/upload-batch */
};

/* A file being written: a temporary beside its target. */
struct fs_out {
	int	pfd;  /* its directory, -1 if none open */
	int	fd;   /* the temporary, -1 if none open */
	char   *tmp;  /* the temporary's name in pfd */
	char   *name; /* the target's name in pfd */
	mode_t	mode;
	int	set_mode;
	int64_t mtime; /* -1: leave it */
};

struct fs_upload {
	enum fs_kind  kind;
	char	     *path; /* the target (FS_FILE) or destination (FS_TAR) */
	struct fs_out out;
	uint64_t      written;
	char	     *buf;
	size_t	      buflen;

	/* FS_TAR */
	int	    dfd; /* the destination directory */
	struct tar *tar;
	int	    skip; /* the current member is not written */
	cJSON	   *paths;
	int	    npaths;
	int	    truncated;
	int	    status; /* a member's failure, with cause */
	char	   *cause;
};

static unsigned int fs_tmp_serial;

/* The process's umask, read once (umask(2) can only be read by setting). */
static mode_t
fs_umask(void)
{
	static int    known;
	static mode_t mask;

	if (!known) {
		mask = umask(022);
		umask(mask);
		known = 1;
	}
	return (mask);
}

/* An errno as a status and a cause naming path. */
static int
fs_errno(int err, const char *what, const char *path, char **cause)
{
	int status;

	switch (err) {
	case ENOENT:
		status = 404;
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		status = 403;
		break;
	case EEXIST:
	case ENOTEMPTY:
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case EXDEV:
	case EBUSY:
	case EINVAL:
		status = 409;
		break;
	case ENOSPC:
	case EDQUOT:
		status = 507;
		break;
	case ENAMETOOLONG:
		status = 400;
		break;
	default:
		status = 500;
		break;
	}
	xasprintf(cause, "%s %s: %s", what, path, strerror(err));
	return (status);
}

/* Append src's components to buf[*n]; -1 on a ".." when refused. */
static int
fs_append(char *buf, size_t *n, const char *src, int refuse_dotdot)
{
	const char *p = src, *seg;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (p == seg || (p - seg == 1 && seg[0] == '.'))
			continue;
		if (refuse_dotdot && p - seg == 2 && seg[0] == '.' &&
		    seg[1] == '.')
			return (-1);
		buf[(*n)++] = '/';
		memcpy(buf + *n, seg, (size_t)(p - seg));
		*n += (size_t)(p - seg);
	}
	return (0);
}

/*
 * Resolve a client's path to an absolute one without "." components,
 * doubled or trailing slashes. 400 for an empty path, one with a ".."
 * component, or one over PATH_MAX.
 */
int
fs_resolve(const char *path, char **out, char **cause)
{
	const char *base = "";
	char	   *buf, cwd[PATH_MAX];
	size_t	    len, n = 0;

	if (path == NULL || *path == '\0') {
		*cause = xstrdup("a path is required");
		return (400);
	}
	if (*path != '/') {
		base = getenv("HOME");
		if (base == NULL || *base != '/')
			base = getcwd(cwd, sizeof cwd);
		if (base == NULL) {
			*cause =
			    xstrdup("no home directory for a relative path");
			return (500);
		}
	}
	len = strlen(base) + strlen(path) + 2;
	if (len > PATH_MAX) {
		xasprintf(cause, "path too long (over %d bytes)", PATH_MAX);
		return (400);
	}
	buf = xmalloc(len);
	(void)fs_append(buf, &n, base, 0);
	if (fs_append(buf, &n, path, 1) != 0) {
		free(buf);
		xasprintf(cause, "'%s': a path may not contain '..'", path);
		return (400);
	}
	if (n == 0)
		buf[n++] = '/';
	buf[n] = '\0';
	*out = buf;
	return (0);
}

/* The last component of an absolute path ("" for "/"). */
static const char *
fs_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return (s != NULL ? s + 1 : path);
}

/* A malloc'd copy of path's directory ("/" for "/x"). */
static char *
fs_dir(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL || s == path)
		return (xstrdup("/"));
	return (xstrndup(path, (size_t)(s - path)));
}

static void
fs_set_time(cJSON *o, const struct stat *st)
{
	char buf[40];

	event_format_time(
	    (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000,
	    buf, sizeof buf);
	json_set_str(o, "modified", buf);
}

/*
 * 0 if mode is a regular file's, else 409 with a cause saying what abs is
 * instead (dir: the cause's end for a directory).
 */
static int
fs_regular(const char *abs, mode_t mode, const char *dir, char **cause)
{
	const char *what;

	switch (mode & S_IFMT) {
	case S_IFREG:
		return (0);
	case S_IFDIR:
		xasprintf(cause, "%s is a directory%s", abs, dir);
		return (409);
	case S_IFCHR:
		what = "a character device";
		break;
	case S_IFBLK:
		what = "a block device";
		break;
	case S_IFIFO:
		what = "a FIFO";
		break;
	case S_IFSOCK:
		what = "a socket";
		break;
	default:
		what = "something else";
		break;
	}
	xasprintf(cause, "%s is %s, not a regular file", abs, what);
	return (409);
}

/*
 * 409 if name in pfd is a device, a FIFO or a socket: a written file
 * replaces a file, a symlink (an archive's member) or nothing, never such
 * a node. Checked just before the rename, as the body may have taken a
 * while; what remains is a race with whoever makes one in between.
 */
static int
fs_keep_node(int pfd, const char *name, const char *shown, char **cause)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
		return (0);
	return (fs_regular(shown, st.st_mode, "", cause));
}

/* FsStat / FsEntry members of one path (st followed symlinks). */
static void
fs_describe(cJSON *o, const struct stat *st, int symlink)
{
	json_set_str(
	    o, "entryType", S_ISDIR(st->st_mode) ? "directory" : "file");
	json_set_int(o, "size", (long long)st->st_size);
	fs_set_time(o, st);
	if (symlink)
		json_set_bool(o, "symlink", 1);
}

/* GET /v1/fs/stat: FsStat of a path, symlinks followed. */
int
fs_stat(const char *path, cJSON **out, char **cause)
{
	struct stat st, lst;
	char	   *abs;
	int	    status, islink;

	if ((status = fs_resolve(path, &abs, cause)) != 0)
		return (status);
	islink = lstat(abs, &lst) == 0 && S_ISLNK(lst.st_mode);
	if (stat(abs, &st) != 0) {
		if (errno == ENOENT && islink) {
			xasprintf(cause,
			    "%s: a symlink whose target is missing", abs);
			status = 404;
		} else
			status = fs_errno(errno, "cannot stat", abs, cause);
		free(abs);
		return (status);
	}
	*out = json_object();
	json_set_str(*out, "path", abs);
	fs_describe(*out, &st, islink);
	free(abs);
	return (0);
}

static int
fs_entry_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* GET /v1/fs/entries: a directory's entries (FsEntry[]), sorted by name. */
int
fs_entries(const char *path, cJSON **out, char **cause)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	char	     **names = NULL, *abs, *full;
	size_t	       n = 0, cap = 0, i;
	cJSON	      *o;
	int	       status, dfd, islink;

	if ((status = fs_resolve(
		 path != NULL && *path != '\0' ? path : ".", &abs, cause)) != 0)
		return (status);
	if ((dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		status = fs_errno(errno, "cannot list", abs, cause);
		if (dfd != -1)
			close(dfd);
		free(abs);
		return (status);
	}
	while ((de = readdir(d)) != NULL && n < FS_MAX_ENTRIES) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (n > 1)
		qsort(names, n, sizeof *names, fs_entry_cmp);
	*out = json_array();
	for (i = 0; i < n; i++) {
		islink =
		    fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode);
		/* A dangling symlink is listed as the link it is. */
		if (fstatat(dfd, names[i], &st, 0) != 0 &&
		    fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			free(names[i]);
			continue; /* removed while we looked */
		}
		o = json_object();
		json_set_str(o, "name", names[i]);
		xasprintf(&full, "%s%s%s", abs,
		    strcmp(abs, "/") == 0 ? "" : "/", names[i]);
		json_set_str(o, "path", full);
		free(full);
		fs_describe(o, &st, islink);
		json_append(*out, o);
		free(names[i]);
	}
	free(names);
	closedir(d);
	free(abs);
	return (0);
}

/*
 * A regular file whose size says 0 may still hold bytes: procfs makes
 * its files as they are read (/proc/self/status). Copy what it holds
 * into a memory file, which has a size for Content-Length and Range, and
 * put that in *fd. Past FS_MAX_UNSIZED it is 409: a part answered as the
 * whole would mislead. A file that is empty keeps its own fd.
 */
static int
fs_snapshot(int *fd, uint64_t *size, const char *abs, char **cause)
{
	char	buf[16 * 1024];
	ssize_t n;
	size_t	total = 0;
	int	mfd = -1, status = 0;

	for (;;) {
		if ((n = read(*fd, buf, sizeof buf)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1)
				status =
				    fs_errno(errno, "cannot read", abs, cause);
			break;
		}
		if ((total += (size_t)n) > FS_MAX_UNSIZED) {
			xasprintf(cause,
			    "%s gives no size and holds more than %d bytes",
			    abs, FS_MAX_UNSIZED);
			status = 409;
			break;
		}
		if (mfd == -1 &&
		    (mfd = memfd_create("agentd-fs", MFD_CLOEXEC)) == -1) {
			status = fs_errno(errno, "cannot copy", abs, cause);
			break;
		}
		if (compat_writeall(mfd, buf, (size_t)n) != 0) {
			status = fs_errno(errno, "cannot copy", abs, cause);
			break;
		}
	}
	if (status != 0) {
		if (mfd != -1)
			close(mfd);
		return (status);
	}
	if (mfd != -1) {
		close(*fd);
		*fd = mfd;
	}
	*size = total;
	return (0);
}

/*
 * GET /v1/fs/file: open a regular file to read, symlinks followed. The
 * caller reads it in bounded chunks and closes *fd.
 *
 * The type is checked before the open, as opening a device can act (a
 * tape rewinds, a watchdog starts) or fail (/dev/tty without a terminal,
 * a socket: ENXIO), and again on the fd, in case the name was replaced
 * in between; O_NONBLOCK and O_NOCTTY so that what was swapped in is not
 * waited on (a FIFO without a writer) nor made our terminal.
 */
int
fs_open(const char *path, int *fd, uint64_t *size, char **cause)
{
	static const char *dir = " (list it with /v1/fs/entries)";
	struct stat	   st;
	char		  *abs;
	int		   status;

	*fd = -1;
	if ((status = fs_resolve(path, &abs, cause)) != 0)
		return (status);
	if (stat(abs, &st) != 0) {
		status = fs_errno(errno, "cannot read", abs, cause);
		goto out;
	}
	if ((status = fs_regular(abs, st.st_mode, dir, cause)) != 0)
		goto out;
	*fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd == -1 || fstat(*fd, &st) != 0) {
		status = fs_errno(errno, "cannot read", abs, cause);
		goto out;
	}
	if ((status = fs_regular(abs, st.st_mode, dir, cause)) != 0)
		goto out;
	*size = (uint64_t)st.st_size;
	if (st.st_size == 0)
		status = fs_snapshot(fd, size, abs, cause);
out:
	if (status != 0 && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	free(abs);
	return (status);
}

/* mkdir -p of an absolute path: 0, or a status with cause. */
static int
fs_mkdirs(const char *abs, char **cause)
{
	struct stat st;
	char	   *p, *s, c;
	int	    status = 0;

	if (strcmp(abs, "/") == 0)
		return (0);
	p = xstrdup(abs);
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			status = fs_errno(errno, "cannot create", p, cause);
			break;
		}
		if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
			xasprintf(cause, "%s exists and is not a directory", p);
			status = 409;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return (status);
}

/* POST /v1/fs/mkdir: mkdir -p; an existing directory is fine. */
int
fs_mkdir(const char *path, cJSON **out, char **cause)
{
	char *abs;
	int   status;

	if ((status = fs_resolve(path, &abs, cause)) != 0)
		return (status);
	if ((status = fs_mkdirs(abs, cause)) == 0) {
		*out = json_object();
		json_set_str(*out, "path", abs);
	}
	free(abs);
	return (status);
}

/* Remove everything in directory fd (closed here), depth-first. */
static int
fs_rm_tree(int fd, const char *abs, int depth, char **cause)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	char	      *sub;
	int	       cfd, status = 0;

	if (depth > FS_MAX_DEPTH) {
		close(fd);
		xasprintf(cause, "%s: nested deeper than %d levels", abs,
		    FS_MAX_DEPTH);
		return (409);
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (fs_errno(errno, "cannot list", abs, cause));
	}
	while (status == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0)
			continue;
		xasprintf(&sub, "%s/%s", abs, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			cfd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd == -1)
				status =
				    fs_errno(errno, "cannot open", sub, cause);
			else
				status = fs_rm_tree(cfd, sub, depth + 1, cause);
			if (status == 0 &&
			    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
				status = fs_errno(
				    errno, "cannot remove", sub, cause);
		} else if (unlinkat(dirfd(d), de->d_name, 0) != 0 &&
		    errno != ENOENT)
			status = fs_errno(errno, "cannot remove", sub, cause);
		free(sub);
	}
	closedir(d);
	return (status);
}

/* Remove abs: a file or link, or a directory (with its tree if asked). */
static int
fs_remove(const char *abs, int recursive, char **cause)
{
	struct stat st;
	int	    fd, status;

	if (lstat(abs, &st) != 0)
		return (fs_errno(errno, "cannot delete", abs, cause));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(abs) != 0)
			return (fs_errno(errno, "cannot delete", abs, cause));
		return (0);
	}
	if (strcmp(abs, "/") == 0) {
		*cause = xstrdup("refusing to delete /");
		return (409);
	}
	if (recursive) {
		fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			return (fs_errno(errno, "cannot open", abs, cause));
		if ((status = fs_rm_tree(fd, abs, 0, cause)) != 0)
			return (status);
	}
	if (rmdir(abs) != 0) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			xasprintf(cause,
			    "%s is a directory that is not empty (pass "
			    "recursive=true)",
			    abs);
			return (409);
		}
		return (fs_errno(errno, "cannot delete", abs, cause));
	}
	return (0);
}

/* DELETE /v1/fs/entry: a file, a symlink (not its target), a directory. */
int
fs_delete(const char *path, int recursive, cJSON **out, char **cause)
{
	char *abs;
	int   status;

	if ((status = fs_resolve(path, &abs, cause)) != 0)
		return (status);
	if ((status = fs_remove(abs, recursive, cause)) == 0) {
		*out = json_object();
		json_set_str(*out, "path", abs);
	}
	free(abs);
	return (status);
}

/*
 * POST /v1/fs/move: rename, creating the destination's parents. An
 * existing destination is replaced only with overwrite (a directory with
 * its tree), else 409. Across filesystems: 409 (nothing is copied).
 */
int
fs_move(
    const char *from, const char *to, int overwrite, cJSON **out, char **cause)
{
	struct stat st;
	char	   *src = NULL, *dst = NULL, *dir;
	size_t	    n;
	int	    status;

	if ((status = fs_resolve(from, &src, cause)) != 0 ||
	    (status = fs_resolve(to, &dst, cause)) != 0)
		goto out;
	if (lstat(src, &st) != 0) {
		status = fs_errno(errno, "cannot move", src, cause);
		goto out;
	}
	if (strcmp(src, dst) == 0)
		goto done;
	n = strlen(src);
	if (strncmp(dst, src, n) == 0 && dst[n] == '/') {
		xasprintf(cause, "cannot move %s into itself", src);
		status = 409;
		goto out;
	}
	n = strlen(dst);
	if (strncmp(src, dst, n) == 0 && src[n] == '/') {
		xasprintf(
		    cause, "cannot replace %s by something inside it", dst);
		status = 409;
		goto out;
	}
	if (lstat(dst, &st) == 0) {
		if (!overwrite) {
			xasprintf(
			    cause, "%s exists (pass overwrite: true)", dst);
			status = 409;
			goto out;
		}
		if ((status = fs_remove(dst, 1, cause)) != 0)
			goto out;
	}
	dir = fs_dir(dst);
	status = fs_mkdirs(dir, cause);
	free(dir);
	if (status != 0)
		goto out;
	if (rename(src, dst) != 0) {
		status = errno == EXDEV
		    ? (xasprintf(cause,
			   "cannot move %s to %s: another filesystem", src,
			   dst),
			  409)
		    : fs_errno(errno, "cannot move", src, cause);
		goto out;
	}
done:
	*out = json_object();
	json_set_str(*out, "from", src);
	json_set_str(*out, "to", dst);
out:
	free(src);
	free(dst);
	return (status);
}

/*
 * Open a temporary beside name in directory pfd; o takes pfd only if it
 * succeeds.
 */
static int
fs_out_open(struct fs_out *o, int pfd, const char *name, const char *shown,
    char **cause)
{
	char tmp[NAME_MAX + 1];
	int  fd;

	(void)snprintf(tmp, sizeof tmp, ".agentd-%ld-%u.tmp", (long)getpid(),
	    ++fs_tmp_serial);
	fd = openat(pfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return (fs_errno(errno, "cannot write", shown, cause));
	o->pfd = pfd;
	o->fd = fd;
	o->tmp = xstrdup(tmp);
	o->name = xstrdup(name);
	o->mtime = -1;
	o->set_mode = 0;
	return (0);
}

/* Give up a temporary: close and remove it. */
static void
fs_out_discard(struct fs_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->tmp != NULL)
		(void)unlinkat(o->pfd, o->tmp, 0);
	o->fd = -1;
	free(o->tmp);
	free(o->name);
	o->tmp = o->name = NULL;
}

/* Finish a temporary: mode, time, then rename over its target. */
static int
fs_out_commit(struct fs_out *o, const char *shown, char **cause)
{
	struct timespec ts[2];
	int		status = 0;

	if (o->set_mode && fchmod(o->fd, o->mode) != 0)
		status = fs_errno(errno, "cannot chmod", shown, cause);
	if (status == 0 && o->mtime >= 0) {
		ts[0].tv_sec = ts[1].tv_sec = (time_t)o->mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		(void)futimens(o->fd, ts);
	}
	if (status == 0 && close(o->fd) != 0)
		status = fs_errno(errno, "cannot write", shown, cause);
	else if (status != 0)
		close(o->fd);
	o->fd = -1;
	if (status == 0)
		status = fs_keep_node(o->pfd, o->name, shown, cause);
	if (status == 0 && renameat(o->pfd, o->tmp, o->pfd, o->name) != 0)
		status = fs_errno(errno, "cannot write", shown, cause);
	if (status != 0) {
		fs_out_discard(o);
		return (status);
	}
	free(o->tmp);
	free(o->name);
	o->tmp = o->name = NULL;
	return (0);
}

/* Write the buffered bytes to the temporary. */
static int
fs_flush(struct fs_upload *u, char **cause)
{
	size_t	off = 0;
	ssize_t n;

	while (off < u->buflen) {
		n = write(u->out.fd, u->buf + off, u->buflen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			u->buflen = 0;
			return (fs_errno(n == 0 ? EIO : errno, "cannot write",
			    u->path, cause));
		}
		off += (size_t)n;
	}
	u->buflen = 0;
	return (0);
}

static int
fs_buffer(struct fs_upload *u, const char *p, size_t len, char **cause)
{
	size_t n;
	int    status;

	if (u->buf == NULL)
		u->buf = xmalloc(FS_BUF);
	while (len > 0) {
		n = FS_BUF - u->buflen < len ? FS_BUF - u->buflen : len;
		memcpy(u->buf + u->buflen, p, n);
		u->buflen += n;
		p += n;
		len -= n;
		u->written += n;
		if (u->buflen == FS_BUF && (status = fs_flush(u, cause)) != 0)
			return (status);
	}
	return (0);
}

/*
 * Where a write of abs lands: abs, or the file its symlinks name (up to
 * FS_MAX_LINKS of them). Returns a malloc'd path.
 */
static char *
fs_write_target(const char *abs)
{
	struct stat st;
	char	   *cur, *dir, *next, link[PATH_MAX];
	ssize_t	    n;
	int	    hops;

	cur = xstrdup(abs);
	for (hops = 0; hops < FS_MAX_LINKS; hops++) {
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			break;
		if ((n = readlink(cur, link, sizeof link - 1)) <= 0)
			break;
		link[n] = '\0';
		if (link[0] == '/')
			next = xstrdup(link);
		else {
			dir = fs_dir(cur);
			xasprintf(&next, "%s/%s", dir, link);
			free(dir);
		}
		free(cur);
		cur = next;
	}
	return (cur);
}

/*
 * PUT /v1/fs/file: start writing path. parents: create missing parent
 * directories (sandbox-agent always does; so does the default).
 */
int
fs_write_begin(
    const char *path, int parents, struct fs_upload **up, char **cause)
{
	struct fs_upload *u;
	struct stat	  st;
	char		 *abs, *target, *dir;
	int		  status, pfd;

	if ((status = fs_resolve(path, &abs, cause)) != 0)
		return (status);
	target = fs_write_target(abs);
	/*
	 * Still a symlink: a loop, or a chain longer than FS_MAX_LINKS.
	 * Answered now, before the body is read.
	 */
	if (lstat(target, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			status = fs_errno(ELOOP, "cannot write", abs, cause);
		else
			status = fs_regular(target, st.st_mode, "", cause);
	}
	free(abs);
	if (status != 0) {
		free(target);
		return (status);
	}
	dir = fs_dir(target);
	if (parents && (status = fs_mkdirs(dir, cause)) != 0) {
		free(dir);
		free(target);
		return (status);
	}
	pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd == -1) {
		status = errno == ENOENT
		    ? (xasprintf(cause,
			   "%s: the parent directory does not exist", target),
			  404)
		    : fs_errno(errno, "cannot write in", dir, cause);
		free(dir);
		free(target);
		return (status);
	}
	free(dir);
	u = xcalloc(1, sizeof *u);
	u->kind = FS_FILE;
	u->path = target;
	u->dfd = -1;
	u->out.pfd = u->out.fd = -1;
	if ((status = fs_out_open(
		 &u->out, pfd, fs_base(target), target, cause)) != 0) {
		close(pfd);
		free(u->path);
		free(u);
		return (status);
	}
	/* Keep a replaced file's permissions; a new one gets 0666 ~umask. */
	u->out.set_mode = 1;
	if (fstatat(pfd, u->out.name, &st, 0) == 0)
		u->out.mode = st.st_mode & 07777;
	else
		u->out.mode = 0666 & ~fs_umask();
	*up = u;
	return (0);
}

/*
 * Clean an archive member's name into a relative path under the
 * destination: "./" and doubled slashes dropped, a trailing slash
 * dropped. NULL with a 400 cause if it is absolute or climbs with "..";
 * "" for the destination itself.
 */
static char *
fs_member_path(const char *name, char **cause)
{
	const char *p = name, *seg;
	char	   *out;
	size_t	    n = 0;

	if (*name == '/') {
		xasprintf(
		    cause, "archive member '%s' is an absolute path", name);
		return (NULL);
	}
	out = xmalloc(strlen(name) + 1);
	while (*p != '\0') {
		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (p == seg || (p - seg == 1 && seg[0] == '.'))
			continue;
		if (p - seg == 2 && seg[0] == '.' && seg[1] == '.') {
			xasprintf(cause,
			    "archive member '%s' climbs out with '..'", name);
			free(out);
			return (NULL);
		}
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, seg, (size_t)(p - seg));
		n += (size_t)(p - seg);
	}
	out[n] = '\0';
	return (out);
}

/*
 * Open the directory that holds rel (relative to dfd), creating missing
 * ones when create is set, never following a symlink. Returns the fd and
 * sets *base to rel's last component; -1 with a status and cause.
 */
static int
fs_member_dir(int dfd, const char *dest, char *rel, int create,
    const char **base, int *status, char **cause)
{
	char *s, *seg = rel;
	int   fd, nfd;

	if ((fd = dup(dfd)) == -1) {
		*status = fs_errno(errno, "cannot open", dest, cause);
		return (-1);
	}
	while ((s = strchr(seg, '/')) != NULL) {
		*s = '\0';
		nfd = openat(
		    fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && create &&
		    mkdirat(fd, seg, 0777) == 0)
			nfd = openat(fd, seg,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1) {
			*status = errno == ELOOP || errno == ENOTDIR
			    ? (xasprintf(cause,
				   "%s/%s: not a directory (a symlink or a "
				   "file is in the way)",
				   dest, rel),
				  409)
			    : fs_errno(errno, "cannot open", rel, cause);
			*s = '/';
			close(fd);
			return (-1);
		}
		*s = '/';
		close(fd);
		fd = nfd;
		seg = s + 1;
	}
	*base = seg;
	return (fd);
}

/* Remember a written member's path (the first FS_MAX_PATHS of them). */
static void
fs_member_done(struct fs_upload *u, const char *rel)
{
	char *full;

	if (u->npaths == FS_MAX_PATHS) {
		u->truncated = 1;
		return;
	}
	xasprintf(&full, "%s%s%s", u->path, rel[0] != '\0' ? "/" : "", rel);
	json_append(u->paths, json_string(full));
	free(full);
	u->npaths++;
}

static int
fs_member_fail(struct fs_upload *u, int status, char *cause)
{
	u->status = status;
	u->cause = cause;
	return (1);
}

/* Make (or keep) a directory member. */
static int
fs_member_mkdir(
    int pfd, const char *base, unsigned int mode, char **cause, const char *rel)
{
	struct stat st;

	if (mkdirat(pfd, base, 0777) != 0 && errno != EEXIST)
		return (fs_errno(errno, "cannot create", rel, cause));
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a directory", rel);
		return (409);
	}
	if (mode != 0)
		(void)fchmodat(pfd, base, (mode & 0777) | 0700, 0);
	return (0);
}

/* tar_cbs.entry: start a member. */
static int
fs_tar_entry_cb(void *arg, const struct tar_entry *e)
{
	struct fs_upload *u = arg;
	const char	 *base;
	char		 *rel, *lrel, *cause = NULL;
	int		  pfd, lfd, status = 0;
	const char	 *lbase;

	u->skip = 1;
	if ((rel = fs_member_path(e->name, &cause)) == NULL)
		return (fs_member_fail(u, 400, cause));
	if (rel[0] == '\0' || e->type == TAR_OTHER) {
		free(rel); /* "./" itself, or a device or fifo: not made */
		return (0);
	}
	pfd = fs_member_dir(u->dfd, u->path, rel, 1, &base, &status, &cause);
	if (pfd == -1) {
		free(rel);
		return (fs_member_fail(u, status, cause));
	}
	switch (e->type) {
	case TAR_DIR:
		status = fs_member_mkdir(pfd, base, e->mode, &cause, rel);
		close(pfd);
		break;
	case TAR_FILE:
		if ((status = fs_out_open(&u->out, pfd, base, rel, &cause)) !=
		    0) {
			close(pfd);
			break;
		}
		u->out.set_mode = 1;
		u->out.mode = e->mode != 0 ? e->mode & 0777 : 0644;
		u->out.mtime = e->mtime;
		u->skip = 0;
		u->written = 0;
		fs_member_done(u, rel);
		free(rel);
		return (0);
	case TAR_SYMLINK:
		status = fs_keep_node(pfd, base, rel, &cause);
		if (status == 0 && unlinkat(pfd, base, 0) != 0 &&
		    errno != ENOENT && errno != EISDIR)
			status = fs_errno(errno, "cannot replace", rel, &cause);
		else if (status == 0 && symlinkat(e->link, pfd, base) != 0)
			status = fs_errno(errno, "cannot link", rel, &cause);
		close(pfd);
		break;
	case TAR_HARDLINK:
		if ((lrel = fs_member_path(e->link, &cause)) == NULL) {
			close(pfd);
			status = 400;
			break;
		}
		lfd = fs_member_dir(
		    u->dfd, u->path, lrel, 0, &lbase, &status, &cause);
		if (lfd != -1) {
			status = fs_keep_node(pfd, base, rel, &cause);
			if (status == 0 && unlinkat(pfd, base, 0) != 0 &&
			    errno != ENOENT)
				status = fs_errno(
				    errno, "cannot replace", rel, &cause);
			else if (status == 0 &&
			    linkat(lfd, lbase, pfd, base, 0) != 0)
				status =
				    fs_errno(errno, "cannot link", rel, &cause);
			close(lfd);
		}
		free(lrel);
		close(pfd);
		break;
	default:
		close(pfd);
		break;
	}
	if (status != 0) {
		free(rel);
		return (fs_member_fail(u, status, cause));
	}
	fs_member_done(u, rel);
	free(rel);
	return (0);
}

/* tar_cbs.data: a piece of the current member. */
static int
fs_tar_data_cb(void *arg, const char *p, size_t len)
{
	struct fs_upload *u = arg;
	char		 *cause = NULL;
	int		  status;

	if (u->skip)
		return (0);
	if ((status = fs_buffer(u, p, len, &cause)) != 0)
		return (fs_member_fail(u, status, cause));
	return (0);
}

/* tar_cbs.end: the current member is whole: rename it into place. */
static int
fs_tar_end_cb(void *arg)
{
	struct fs_upload *u = arg;
	char		 *cause = NULL, *shown;
	int		  status;

	if (u->skip)
		return (0);
	u->skip = 1;
	if ((status = fs_flush(u, &cause)) != 0) {
		fs_out_discard(&u->out);
		close(u->out.pfd);
		u->out.pfd = -1;
		return (fs_member_fail(u, status, cause));
	}
	shown = xstrdup(u->out.name);
	status = fs_out_commit(&u->out, shown, &cause);
	free(shown);
	close(u->out.pfd);
	u->out.pfd = -1;
	if (status != 0)
		return (fs_member_fail(u, status, cause));
	return (0);
}

static const struct tar_cbs fs_tar_cbs = { fs_tar_entry_cb, fs_tar_data_cb,
	fs_tar_end_cb };

/*
 * POST /v1/fs/upload-batch: start unpacking a tar archive into dest
 * (created if missing; "." when NULL).
 */
int
fs_batch_begin(const char *dest, struct fs_upload **up, char **cause)
{
	struct fs_upload *u;
	char		 *abs;
	int		  status, dfd;

	if ((status = fs_resolve(
		 dest != NULL && *dest != '\0' ? dest : ".", &abs, cause)) != 0)
		return (status);
	if ((status = fs_mkdirs(abs, cause)) != 0) {
		free(abs);
		return (status);
	}
	if ((dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		status = fs_errno(errno, "cannot open", abs, cause);
		free(abs);
		return (status);
	}
	u = xcalloc(1, sizeof *u);
	u->kind = FS_TAR;
	u->path = abs;
	u->dfd = dfd;
	u->out.pfd = u->out.fd = -1;
	u->skip = 1;
	u->paths = json_array();
	u->tar = tar_new(&fs_tar_cbs, u);
	*up = u;
	return (0);
}

/* The next piece of the body: 0, or a status with cause (then abort). */
int
fs_upload_write(struct fs_upload *u, const char *p, size_t len, char **cause)
{
	int r;

	if (u->kind == FS_FILE)
		return (fs_buffer(u, p, len, cause));
	r = tar_feed(u->tar, p, len);
	if (r == 1) {
		*cause = u->cause;
		u->cause = NULL;
		return (u->status);
	}
	if (r != 0) {
		xasprintf(cause, "not a tar archive, or a damaged one: %s",
		    tar_error(u->tar));
		return (400);
	}
	return (0);
}

static void
fs_upload_free(struct fs_upload *u)
{
	if (u->out.fd != -1 || u->out.tmp != NULL)
		fs_out_discard(&u->out);
	if (u->out.pfd != -1)
		close(u->out.pfd);
	if (u->dfd != -1)
		close(u->dfd);
	tar_free(u->tar);
	json_free(u->paths);
	free(u->cause);
	free(u->buf);
	free(u->path);
	free(u);
}

/* The client went away, or the body was refused: leave no temporary. */
void
fs_upload_abort(struct fs_upload *u)
{
	if (u != NULL)
		fs_upload_free(u);
}

/*
 * The body is complete: put the file in place (FsWriteResponse) or check
 * the archive ended (FsUploadBatchResponse). Frees u either way.
 */
int
fs_upload_end(struct fs_upload *u, cJSON **out, char **cause)
{
	int status = 0;

	if (u->kind == FS_FILE) {
		if ((status = fs_flush(u, cause)) == 0)
			status = fs_out_commit(&u->out, u->path, cause);
		if (status == 0) {
			*out = json_object();
			json_set_str(*out, "path", u->path);
			json_set_int(
			    *out, "bytesWritten", (long long)u->written);
		}
	} else if (tar_finish(u->tar) != 0) {
		xasprintf(
		    cause, "the archive is incomplete: %s", tar_error(u->tar));
		status = 400;
	} else {
		*out = json_object();
		json_set(*out, "paths", u->paths);
		u->paths = NULL;
		json_set_bool(*out, "truncated", u->truncated);
	}
	fs_upload_free(u);
	return (status);
}
