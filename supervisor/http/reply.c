/*
 * reply.c: the pieces every answer of the HTTP front is made of, for the
 * routes (api.c), the ACP facade (acpserver.c) and the server (server.c):
 * RFC 7807 problems, JSON replies, query arguments, the request body as a
 * JSON object, a WebSocket command's answer, and replies that come later.
 *
 * Nothing here routes or knows a session: a file that only answers calls
 * reply.c, never api.c, so the routes may call the ACP facade without a
 * loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "http.h"

/* Fill resp with an RFC 7807 problem. */
void
reply_problem(struct api_response *resp, int status, const char *type,
    const char *fmt, ...)
{
	static const struct {
		int	    status;
		const char *title;
	} titles[] = {
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 416, "Range Not Satisfiable" },
		{ 421, "Misdirected Request" },
		{ 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 507, "Insufficient Storage" },
	};
	const char *title = "Error";
	cJSON	   *o;
	va_list	    ap;
	char	   *detail, *urn;
	size_t	    i;

	for (i = 0; i < nitems(titles); i++) {
		if (titles[i].status == status)
			title = titles[i].title;
	}
	va_start(ap, fmt);
	xvasprintf(&detail, fmt, ap);
	va_end(ap);
	if (!utf8_valid(detail, strlen(detail))) { /* a decoded path */
		urn = utf8_repair(detail, strlen(detail), NULL);
		free(detail);
		detail = urn;
	}
	xasprintf(&urn, "urn:agentd:error:%s", type);

	o = json_object();
	json_set_str(o, "type", urn);
	json_set_str(o, "title", title);
	json_set_int(o, "status", status);
	json_set_str(o, "detail", detail);
	reply_json(resp, status, o);
	resp->content_type = "application/problem+json";
	free(detail);
	free(urn);
}

/* Turn a session_* failure (an HTTP status and a cause) into a problem. */
void
reply_fail(struct api_response *resp, int status, char *cause)
{
	const char *type;

	switch (status) {
	case 403:
		type = "permission_denied";
		break;
	case 404:
		type = "not_found";
		break;
	case 413:
		type = "payload_too_large";
		break;
	case 409:
		type = "conflict";
		break;
	case 422:
		type = "limit_unavailable";
		break;
	case 429:
		type = "limit_reached";
		break;
	case 503:
		type = "unavailable";
		break;
	case 507:
		type = "insufficient_storage";
		break;
	case 400:
		type = "invalid_request";
		break;
	default:
		type = "internal";
		break;
	}
	reply_problem(
	    resp, status, type, "%s", cause != NULL ? cause : "failed");
	free(cause);
}

/* Reply with a JSON document; takes o. */
void
reply_json(struct api_response *resp, int status, cJSON *o)
{
	free(resp->body);
	resp->kind = API_REPLY;
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = json_print(o, &resp->len);
	json_free(o);
}

void
reply_no_content(struct api_response *resp)
{
	free(resp->body);
	resp->kind = API_REPLY;
	resp->status = 204;
	resp->content_type = NULL;
	resp->body = NULL;
	resp->len = 0;
}

/* The value of a query argument, or NULL. */
const char *
reply_arg(const struct api_request *req, const char *name)
{
	size_t len = strlen(name);
	int    i;

	for (i = 0; i < req->nargs; i++) {
		if (strncmp(req->args[i], name, len) == 0 &&
		    req->args[i][len] == '=')
			return (req->args[i] + len + 1);
	}
	return (NULL);
}

/* Parse an unsigned decimal query argument; -1 if malformed. */
int
reply_arg_u64(const struct api_request *req, const char *name, uint64_t dflt,
    uint64_t *out)
{
	const char	  *s;
	char		  *end;
	unsigned long long v;

	*out = dflt;
	if ((s = reply_arg(req, name)) == NULL || *s == '\0')
		return (0);
	if (*s < '0' || *s > '9')
		return (-1);
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return (-1);
	*out = v;
	return (0);
}

/* Is a query argument "true" or "1"? */
int
reply_arg_bool(const struct api_request *req, const char *name)
{
	const char *s = reply_arg(req, name);

	return (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0));
}

/* The request body as a JSON object, or NULL with a 400 problem in resp. */
cJSON *
reply_body(
    const struct api_request *req, struct api_response *resp, int optional)
{
	const char *err;
	cJSON	   *o;
	size_t	    at;

	if (req->body_len == 0 && optional)
		return (json_object());
	if (req->body_len == 0) {
		reply_problem(resp, 400, "invalid_request",
		    "a JSON object body is required");
		return (NULL);
	}
	if ((o = json_parse(req->body, req->body_len, &err)) == NULL) {
		at = 0;
		if (json_scan_bad_escape(req->body, req->body_len, &at) ==
		    JSON_SCAN_ESC_SURROGATE)
			reply_problem(resp, 400, "invalid_request",
			    "a string of the body holds half of a UTF-16 "
			    "surrogate pair alone (%.6s at byte %zu)",
			    req->body + at, at);
		else
			reply_problem(resp, 400, "invalid_request",
			    "malformed JSON body: %s", err);
		return (NULL);
	}
	if (json_scan_nul(req->body, req->body_len)) {
		json_free(o);
		reply_problem(resp, 400, "invalid_request",
		    "a string of the body holds a NUL (\\u0000)");
		return (NULL);
	}
	if (!json_is_obj(o)) {
		json_free(o);
		reply_problem(resp, 400, "invalid_request",
		    "the body must be a JSON object");
		return (NULL);
	}
	return (o);
}

/*
 * The answer to a WebSocket command, made of the reply its HTTP route
 * gives: {"reply_to", "status": the HTTP status, "error": the problem's
 * detail when the status is not 2xx}. Returns a malloc'd frame.
 */
char *
reply_frame(const char *reply_to, const struct api_response *resp)
{
	const char *err;
	cJSON	   *o, *p = NULL;
	char	   *text;

	o = json_object();
	json_set_str(o, "reply_to", reply_to);
	json_set_int(o, "status", resp->status);
	if (resp->status < 200 || resp->status > 299) {
		if (resp->body != NULL)
			p = json_parse(resp->body, resp->len, &err);
		json_set_str(o, "error",
		    json_get_str(p, "detail") != NULL
			? json_get_str(p, "detail")
			: "failed");
		json_free(p);
	}
	text = json_print(o, NULL);
	json_free(o);
	return (text);
}

/*
 * Replies that come later (an install, an agent's answer). The worker
 * holds the reply_wait and finishes it once; the server attaches the
 * waiting connection, or detaches it if the client goes away first. The
 * wait is freed when both sides are done with it.
 */
struct reply_wait {
	reply_wait_cb	    cb;
	void		   *conn;
	int		    finished;
	int		    detached;
	struct api_response resp;
};

/* Turn resp into a deferred reply; the caller keeps the wait to finish. */
struct reply_wait *
reply_wait_new(struct api_response *resp)
{
	struct reply_wait *w;

	w = xcalloc(1, sizeof *w);
	resp->kind = API_WAIT;
	resp->wait = w;
	return (w);
}

void
reply_wait_attach(struct reply_wait *w, reply_wait_cb cb, void *conn)
{
	w->cb = cb;
	w->conn = conn;
	if (w->finished) {
		w->detached = 1;
		cb(conn, &w->resp);
		free(w);
	}
}

/* A reply nobody will send: free its body, close its file. */
static void
reply_drop(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	if (resp->kind == API_FILE && resp->file_fd != -1) {
		close(resp->file_fd);
		resp->file_fd = -1;
	}
}

void
reply_wait_detach(struct reply_wait *w)
{
	if (w->finished) {
		reply_drop(&w->resp);
		free(w);
		return;
	}
	w->detached = 1;
	w->cb = NULL;
}

/* The worker's reply; the body moves into the waiting connection. */
void
reply_wait_finish(struct reply_wait *w, struct api_response *resp)
{
	if (w->detached) {
		reply_drop(resp);
		free(w);
		return;
	}
	w->finished = 1;
	w->resp = *resp;
	if (w->cb != NULL) {
		w->detached = 1;
		w->cb(w->conn, &w->resp);
		free(w);
	}
}

/*
 * Does the client take gzip (RFC 9110 12.5.3)? "gzip" or "x-gzip", or
 * "*", with a q above 0; no header means no.
 */
int
reply_accepts_gzip(const struct api_request *req)
{
	const char *p = req->accept_encoding, *q;
	size_t	    len;
	int	    star = 0, gzip = -1, ok;

	if (p == NULL)
		return (0);
	while (*p != '\0') {
		p += strspn(p, " \t,");
		len = strcspn(p, " \t;,");
		q = p + len;
		q += strspn(q, " \t");
		ok = 1;
		if (*q == ';') {
			q += 1 + strspn(q + 1, " \t");
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
				ok = strtod(q + 2, NULL) > 0;
		}
		if ((len == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (len == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			gzip = ok;
		else if (len == 1 && *p == '*')
			star = ok;
		p += len;
		p += strcspn(p, ",");
	}
	return (gzip == -1 ? star : gzip);
}
