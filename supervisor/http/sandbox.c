/*
 * sandbox.c: the routes under /v1/fs and /v1/processes, the files,
 * processes and terminals sandbox-agent 0.4.2 serves beside its agents,
 * with its shapes (its TypeScript SDK calls them unchanged). The work is
 * session/fs.c's and session/procs.c's; this file reads requests and
 * writes replies.
 *
 * Files move as streams: PUT /v1/fs/file and POST /v1/fs/upload-batch
 * answer with a sink (API_SINK) that server.c feeds the body to as it
 * arrives; GET /v1/fs/file answers with a descriptor (API_FILE) that
 * server.c reads in bounded chunks, Range included. No file is ever held
 * in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

/* A required query argument, or NULL with a 400 problem. */
static const char *
sandbox_arg(
    const struct api_request *req, const char *name, struct api_response *resp)
{
	const char *v;

	if ((v = reply_arg(req, name)) == NULL || *v == '\0')
		reply_problem(resp, 400, "invalid_request",
		    "the query argument '%s' is required", name);
	return (v != NULL && *v != '\0' ? v : NULL);
}

/* A fs_* or procs_* call's outcome: its JSON, or its problem. */
static void
sandbox_done(struct api_response *resp, int status, cJSON *o, char *cause)
{
	if (status != 0)
		reply_fail(resp, status, cause);
	else
		reply_json(resp, 200, o);
}

/* GET /v1/fs/entries?path= (default: the home directory). */
void
sandbox_fs_entries(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o = NULL;
	char  *cause = NULL;
	int    status;

	status = fs_entries(reply_arg(req, "path"), &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* GET /v1/fs/stat?path= */
void
sandbox_fs_stat(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	cJSON	   *o = NULL;
	char	   *cause = NULL;
	int	    status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	status = fs_stat(path, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* POST /v1/fs/mkdir?path= */
void
sandbox_fs_mkdir(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	cJSON	   *o = NULL;
	char	   *cause = NULL;
	int	    status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	status = fs_mkdir(path, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* DELETE /v1/fs/entry?path=&recursive= */
void
sandbox_fs_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	cJSON	   *o = NULL;
	char	   *cause = NULL;
	int	    status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	status = fs_delete(path, reply_arg_bool(req, "recursive"), &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* POST /v1/fs/move {from, to, overwrite?} */
void
sandbox_fs_move(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *from, *to;
	cJSON	   *body, *o = NULL;
	char	   *cause = NULL;
	int	    overwrite = 0, status;

	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	from = json_get_str(body, "from");
	to = json_get_str(body, "to");
	if (from == NULL || to == NULL)
		reply_problem(resp, 400, "invalid_request",
		    "'from' and 'to' (strings) are required");
	else if (json_get(body, "overwrite") != NULL &&
	    !json_is_null(json_get(body, "overwrite")) &&
	    json_get_bool(body, "overwrite", &overwrite) != 0)
		reply_problem(resp, 400, "invalid_request",
		    "'overwrite' must be a boolean");
	else {
		status = fs_move(from, to, overwrite, &o, &cause);
		sandbox_done(resp, status, o, cause);
	}
	json_free(body);
}

/*
 * A Range header for a file of size bytes: 0 with [*off, *off + *len)
 * (the whole file when there is no Range, or one this does not take:
 * several ranges, another unit, bad syntax, as RFC 9110 14.2 allows);
 * -1 when the range cannot be satisfied (416).
 */
static int
sandbox_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a, b;
	char		  *end;

	*off = 0;
	*len = size;
	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return (0);
	h += 6;
	if (*h == '-') { /* the last N bytes */
		if (h[1] < '0' || h[1] > '9')
			return (0);
		b = strtoull(h + 1, &end, 10);
		if (*end != '\0')
			return (0);
		if (b == 0)
			return (-1);
		*len = b < size ? b : size;
		*off = size - *len;
		return (size == 0 ? -1 : 0);
	}
	if (*h < '0' || *h > '9')
		return (0);
	a = strtoull(h, &end, 10);
	if (*end != '-')
		return (0);
	h = end + 1;
	if (*h == '\0')
		b = size > 0 ? size - 1 : 0;
	else {
		if (*h < '0' || *h > '9')
			return (0);
		b = strtoull(h, &end, 10);
		if (*end != '\0' || b < a)
			return (0);
	}
	if (a >= size)
		return (-1);
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return (0);
}

/* GET /v1/fs/file?path=: the raw bytes, or a Range of them. */
void
sandbox_fs_read(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	uint64_t    size, off, len;
	char	   *cause = NULL;
	int	    fd, status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	if ((status = fs_open(path, &fd, &size, &cause)) != 0) {
		reply_fail(resp, status, cause);
		return;
	}
	if (sandbox_range(req->range, size, &off, &len) != 0) {
		close(fd);
		reply_problem(resp, 416, "range_not_satisfiable",
		    "the range %s is outside the file (%llu bytes)", req->range,
		    (unsigned long long)size);
		(void)snprintf(resp->content_range, sizeof resp->content_range,
		    "bytes */%llu", (unsigned long long)size);
		return;
	}
	resp->kind = API_FILE;
	resp->status = 200;
	resp->content_type = "application/octet-stream";
	resp->file_fd = fd;
	resp->file_off = off;
	resp->file_len = len;
	if (req->range != NULL && (off != 0 || len != size)) {
		resp->status = 206;
		(void)snprintf(resp->content_range, sizeof resp->content_range,
		    "bytes %llu-%llu/%llu", (unsigned long long)off,
		    (unsigned long long)(off + len - 1),
		    (unsigned long long)size);
	}
}

/* An upload's sink: fs.c's struct fs_upload. */
static int
sandbox_upload_write(
    void *arg, const char *p, size_t len, struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	if ((status = fs_upload_write(arg, p, len, &cause)) == 0)
		return (0);
	reply_fail(resp, status, cause);
	return (-1);
}

static void
sandbox_upload_finish(void *arg, struct api_response *resp)
{
	cJSON *o = NULL;
	char  *cause = NULL;
	int    status;

	status = fs_upload_end(arg, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

static void
sandbox_upload_abort(void *arg)
{
	fs_upload_abort(arg);
}

static const struct api_sink_ops sandbox_upload_ops = { sandbox_upload_write,
	sandbox_upload_finish, sandbox_upload_abort };

static void
sandbox_sink(struct api_response *resp, struct fs_upload *u)
{
	resp->kind = API_SINK;
	resp->status = 0;
	resp->sink_ops = &sandbox_upload_ops;
	resp->sink = u;
}

/*
 * PUT /v1/fs/file?path=&parents=: the body (application/octet-stream)
 * becomes the file, atomically. Missing parent directories are made
 * unless parents=false.
 */
void
sandbox_fs_write(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct fs_upload *u;
	const char	 *path, *parents;
	char		 *cause = NULL;
	int		  status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	parents = reply_arg(req, "parents");
	status = fs_write_begin(path,
	    parents == NULL ||
		(strcmp(parents, "false") != 0 && strcmp(parents, "0") != 0),
	    &u, &cause);
	if (status != 0)
		reply_fail(resp, status, cause);
	else
		sandbox_sink(resp, u);
}

/* POST /v1/fs/upload-batch?path=: a tar archive, unpacked as it comes. */
void
sandbox_fs_upload(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct fs_upload *u;
	char		 *cause = NULL;
	int		  status;

	if ((status = fs_batch_begin(reply_arg(req, "path"), &u, &cause)) != 0)
		reply_fail(resp, status, cause);
	else
		sandbox_sink(resp, u);
}
