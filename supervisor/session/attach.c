/*
 * attach.c: a message's attachments, checked and made whole before the
 * message is queued.
 *
 * A client attaches files and images to a message, by path in the
 * sandbox or inline:
 *
 *	{"path": "shot.png", "mime"?: "image/png", "name"?: "…"}
 *	{"data": "<base64>", "mime": "image/png", "name"?: "…"}
 *
 * A path is the session's cwd's when relative and must name a regular
 * file. Inline data is for images only (a file has a path to give). What
 * comes out, one object each, is what adapters map to their agent's own
 * content and the user's message item records:
 *
 *	{"kind": "image"|"file", "path"?: absolute, "data"?: base64,
 *	 "mime", "name"}
 *
 * An image always has its data (a path's is read here, so no adapter
 * touches the disk for it); a file has only its path, which agents read
 * themselves. Everything is bounded: ATTACH_MAX attachments, an image of
 * at most ATTACH_IMAGE_MAX bytes, ATTACH_TOTAL_MAX bytes of images in all
 * (a read of that size is the one disk read a message costs the loop).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "session.h"

#define ATTACH_MAX	 16
#define ATTACH_IMAGE_MAX (5UL * 1024 * 1024) /* Anthropic's cap per image */
#define ATTACH_TOTAL_MAX (20UL * 1024 * 1024)

/* Image types by file name extension, for a path given without mime. */
static const char *const attach_types[][2] = { { ".png", "image/png" },
	{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
	{ ".gif", "image/gif" }, { ".webp", "image/webp" } };

/* The image type of a file name, or NULL. */
static const char *
attach_guess(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t	    i;

	for (i = 0; dot != NULL && i < nitems(attach_types); i++) {
		if (strcasecmp(dot, attach_types[i][0]) == 0)
			return (attach_types[i][1]);
	}
	return (NULL);
}

/* Read a regular file of at most max bytes; NULL with *cause. */
static unsigned char *
attach_read(const char *path, size_t max, size_t *len, char **cause)
{
	struct stat    sb;
	unsigned char *buf;
	size_t	       off = 0;
	ssize_t	       n;
	int	       fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "attachment '%s': %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		xasprintf(cause, "attachment '%s' is not a regular file", path);
		close(fd);
		errno = EINVAL;
		return (NULL);
	}
	if ((size_t)sb.st_size > max) {
		xasprintf(cause, "attachment '%s' is %lld bytes, over %zu",
		    path, (long long)sb.st_size, max);
		close(fd);
		errno = EFBIG;
		return (NULL);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size &&
	    (n = read(fd, buf + off, (size_t)sb.st_size - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "attachment '%s': %s", path,
			    strerror(errno));
			free(buf);
			close(fd);
			return (NULL);
		}
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return (buf);
}

/* A member of an attachment that must be a non-empty string if there. */
static int
attach_str(const cJSON *a, const char *name, const char **out, char **cause)
{
	const cJSON *v = json_get(a, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_str(v) || *json_str(v) == '\0') {
		xasprintf(cause,
		    "an attachment's '%s' must be a non-empty "
		    "string",
		    name);
		return (-1);
	}
	*out = json_str(v);
	return (0);
}

/*
 * One attachment made whole into out; 0, or an HTTP status with *cause:
 * 400 for a malformed one or a path that is no readable file, 413 for an
 * image over the caps (*total counts the bytes of images so far).
 */
static int
attach_one(
    const cJSON *a, const char *cwd, size_t *total, cJSON *out, char **cause)
{
	const char    *path, *data, *mime, *name;
	unsigned char *bytes = NULL;
	char	      *full = NULL, *b64;
	size_t	       len = 0, dlen;
	cJSON	      *o;

	if (!json_is_obj(a)) {
		*cause = xstrdup("each attachment must be an object");
		return (400);
	}
	if (attach_str(a, "path", &path, cause) != 0 ||
	    attach_str(a, "data", &data, cause) != 0 ||
	    attach_str(a, "mime", &mime, cause) != 0 ||
	    attach_str(a, "name", &name, cause) != 0)
		return (400);
	if (name == NULL && attach_str(a, "filename", &name, cause) != 0)
		return (400);
	if ((path == NULL) == (data == NULL)) {
		*cause = xstrdup("an attachment has a 'path' or inline "
				 "'data', one of the two");
		return (400);
	}
	if (data != NULL) {
		if (mime == NULL || strncmp(mime, "image/", 6) != 0) {
			*cause = xstrdup("inline 'data' is for images: give "
					 "its 'mime' (image/…), or a 'path' "
					 "for another file");
			return (400);
		}
		dlen = strlen(data);
		if (dlen / 4 * 3 > ATTACH_IMAGE_MAX + 3) {
			xasprintf(cause, "an inline image is over %zu bytes",
			    ATTACH_IMAGE_MAX);
			return (413);
		}
		bytes = xmalloc(dlen / 4 * 3 + 3);
		if (base64_decode(data, dlen, bytes, &len) != 0) {
			free(bytes);
			*cause =
			    xstrdup("an attachment's 'data' is not base64");
			return (400);
		}
		free(bytes);
		bytes = NULL;
		/* The length check above lets padding's few bytes by. */
		if (len > ATTACH_IMAGE_MAX) {
			xasprintf(cause, "an inline image is over %zu bytes",
			    ATTACH_IMAGE_MAX);
			return (413);
		}
	} else {
		if (*path == '/')
			full = xstrdup(path);
		else
			xasprintf(&full, "%s/%s", cwd, path);
		if (mime == NULL)
			mime = attach_guess(full);
		if (mime != NULL && strncmp(mime, "image/", 6) == 0) {
			bytes =
			    attach_read(full, ATTACH_IMAGE_MAX, &len, cause);
			if (bytes == NULL) {
				free(full);
				return (errno == EFBIG ? 413 : 400);
			}
		} else if (access(full, R_OK) != 0) {
			xasprintf(cause, "attachment '%s': %s", full,
			    strerror(errno));
			free(full);
			return (400);
		}
	}
	if (mime != NULL && strncmp(mime, "image/", 6) == 0) {
		if ((*total += len) > ATTACH_TOTAL_MAX) {
			xasprintf(cause,
			    "the images of a message are over %zu "
			    "bytes in all",
			    ATTACH_TOTAL_MAX);
			free(bytes);
			free(full);
			return (413);
		}
	}
	o = json_object();
	json_set_str(o, "kind",
	    mime != NULL && strncmp(mime, "image/", 6) == 0 ? "image" : "file");
	if (full != NULL)
		json_set_str(o, "path", full);
	if (data != NULL)
		json_set_str(o, "data", data);
	else if (bytes != NULL) {
		b64 = base64_encode(bytes, len, NULL);
		json_set_str(o, "data", b64);
		free(b64);
	}
	json_set_str(
	    o, "mime", mime != NULL ? mime : "application/octet-stream");
	if (name == NULL && full != NULL)
		name = strrchr(full, '/') + 1;
	json_set_str(o, "name", name != NULL ? name : "image");
	json_append(out, o);
	free(bytes);
	free(full);
	return (0);
}

/*
 * A message's "attachments" (list, or NULL for none) made whole: *out
 * is the array above (NULL when there are none). 0, or an HTTP status
 * with *cause (400, 413) and nothing in *out.
 */
int
attach_check(const cJSON *list, const char *cwd, cJSON **out, char **cause)
{
	const cJSON *a;
	size_t	     total = 0;
	int	     status;

	*out = NULL;
	if (list == NULL || json_is_null(list))
		return (0);
	if (!json_is_arr(list)) {
		*cause = xstrdup("'attachments' must be an array");
		return (400);
	}
	if (json_size(list) > ATTACH_MAX) {
		xasprintf(
		    cause, "at most %d attachments a message", ATTACH_MAX);
		return (413);
	}
	*out = json_array();
	JSON_FOREACH(a, list) {
		if ((status = attach_one(a, cwd, &total, *out, cause)) != 0) {
			json_free(*out);
			*out = NULL;
			return (status);
		}
	}
	return (0);
}

/*
 * The user's message item parts for made-whole attachments: an image by
 * its path (its bytes are on disk already) or, inline, by its data; a
 * file as a file_ref read.
 */
cJSON *
attach_parts(const cJSON *atts, cJSON *content)
{
	const cJSON *a;
	const char  *kind, *path;

	JSON_FOREACH(a, atts) {
		kind = json_get_str(a, "kind");
		path = json_get_str(a, "path");
		if (kind != NULL && strcmp(kind, "image") == 0)
			json_append(content,
			    event_part_image(path,
				path == NULL ? json_get_str(a, "data") : NULL,
				json_get_str(a, "mime")));
		else if (path != NULL)
			json_append(
			    content, event_part_file_ref(path, "read", NULL));
	}
	return (content);
}
