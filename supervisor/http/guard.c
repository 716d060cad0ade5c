/*
 * guard.c: what a browser on another origin may not do, decided from the
 * request's headers alone (no lws here, so it can be fuzzed).
 *
 * agentd runs commands on the host for whoever may create a session, so a
 * web page in the user's browser must not reach it, token or not:
 * - Host: DNS rebinding points an attacker's name at 127.0.0.1, and the
 *   browser then sends that name as Host. A request is served only when
 *   its Host is an IP literal (no name can be rebound to it), localhost,
 *   the address agentd listens on, or a name given with --allow-host.
 * - Origin: a browser sends it with every cross-origin request and every
 *   WebSocket handshake. A request with an Origin is served only when the
 *   Origin is the page's own (the inspector at /ui/: scheme and Host
 *   match) or listed with --cors-origin.
 * - Sec-Fetch-Site: a request with no Origin may still come from another
 *   site's page (an <img>, <script> or <iframe> source, a no-cors GET):
 *   browsers mark it "cross-site" or "same-site" (another port of the
 *   same host), and agentd refuses it unless it is the user opening a
 *   page (a top-level navigation). Such a GET cannot read the answer,
 *   but some GETs act (an export pauses the session's agent).
 * - Content-Type: a "simple" cross-site request (a form, fetch no-cors)
 *   can carry only text/plain, application/x-www-form-urlencoded or
 *   multipart/form-data, with no preflight. A request body must be
 *   application/json (or, for the routes that take files, octet-stream
 *   or x-tar), which only a preflighted request can send.
 * Each check returns NULL when the request may pass, or why it may not.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* Copy the host part of a Host header ("name:port", "[::1]:port"). */
static int
guard_host_name(const char *host, char *out, size_t outlen)
{
	const char *end;
	size_t	    len;

	if (*host == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return (-1);
		host++;
		len = (size_t)(end - host);
		end++;
	} else {
		end = strchr(host, ':');
		len = end != NULL ? (size_t)(end - host) : strlen(host);
		if (end == NULL)
			end = host + len;
	}
	if (*end == ':') {
		/* A port: digits only. */
		if (end[1] == '\0' ||
		    strspn(end + 1, "0123456789") != strlen(end + 1))
			return (-1);
	} else if (*end != '\0')
		return (-1);
	if (len == 0 || len >= outlen)
		return (-1);
	memcpy(out, host, len);
	out[len] = '\0';
	return (0);
}

static int
guard_is_ip(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return (inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1);
}

/* Is this Host one agentd answers to? */
const char *
guard_host(const char *host)
{
	char name[256];
	int  i;

	if (host == NULL || *host == '\0')
		return ("a Host header is required");
	if (guard_host_name(host, name, sizeof name) != 0)
		return ("the Host header is malformed");
	if (guard_is_ip(name) || strcasecmp(name, "localhost") == 0 ||
	    strcasecmp(name, options.host) == 0)
		return (NULL);
	for (i = 0; i < options.nallow_hosts; i++) {
		if (strcmp(options.allow_hosts[i], "*") == 0 ||
		    strcasecmp(options.allow_hosts[i], name) == 0)
			return (NULL);
	}
	return ("Host not allowed (a name must be given with --allow-host; "
		"this refuses DNS rebinding)");
}

/* Is origin "scheme://host" the page's own, served through this Host? */
static int
guard_same_origin(const char *origin, const char *host)
{
	const char *rest;

	if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return (0);
	return (host != NULL && strcasecmp(rest, host) == 0);
}

/* Is origin listed with --cors-origin (or "*")? */
int
guard_cors_listed(const char *origin)
{
	int i;

	if (origin == NULL || *origin == '\0')
		return (0);
	for (i = 0; i < options.ncors; i++) {
		if (strcmp(options.cors_origins[i], origin) == 0 ||
		    strcmp(options.cors_origins[i], "*") == 0)
			return (1);
	}
	return (0);
}

/* May a request with this Origin (or none) be served? */
const char *
guard_origin(const char *origin, const char *host)
{
	if (origin == NULL || *origin == '\0')
		return (NULL); /* not a browser's cross-site request */
	if (guard_same_origin(origin, host) || guard_cors_listed(origin))
		return (NULL);
	return ("Origin not allowed (list it with --cors-origin)");
}

/*
 * May a request without Origin, marked by the browser with these
 * Sec-Fetch-* headers (NULL where absent), be served? Only browsers send
 * them, and pages cannot set them: a client that sends none passes.
 */
const char *
guard_fetch(const char *site, const char *mode, const char *dest)
{
	if (site == NULL ||
	    (strcasecmp(site, "cross-site") != 0 &&
		strcasecmp(site, "same-site") != 0))
		return (NULL);
	/* Chromium before 80 sent no Sec-Fetch-Dest. */
	if (mode != NULL && strcasecmp(mode, "navigate") == 0 &&
	    (dest == NULL || strcasecmp(dest, "document") == 0))
		return (NULL);
	return ("a page on another site may not load agentd's routes "
		"(Sec-Fetch-Site; list its origin with --cors-origin and "
		"fetch with CORS)");
}

/*
 * May a body of this Content-Type go to a route that takes this kind of
 * body? The media type (before any ';' parameter) is compared
 * case-insensitively. JSON routes take application/json only; raw file
 * bodies application/octet-stream; archives application/x-tar or
 * octet-stream. None of them is text/plain, form-urlencoded or
 * multipart/form-data, the types a cross-site form or no-cors fetch may
 * send without a preflight.
 */
const char *
guard_body_type(const char *content_type, enum api_body kind)
{
	static const struct {
		const char *type;
		int	    kinds; /* 1 << enum api_body */
	} types[] = {
		{ "application/json", 1 << API_BODY_JSON },
		{ "application/octet-stream",
		    1 << API_BODY_RAW | 1 << API_BODY_TAR },
		{ "application/x-tar", 1 << API_BODY_TAR },
	};
	size_t len, i;

	if (content_type != NULL && *content_type != '\0') {
		len = strcspn(content_type, "; \t");
		for (i = 0; i < nitems(types); i++) {
			if ((types[i].kinds & (1 << kind)) &&
			    len == strlen(types[i].type) &&
			    strncasecmp(content_type, types[i].type, len) == 0)
				return (NULL);
		}
	}
	switch (kind) {
	case API_BODY_RAW:
		return ("a file body must be Content-Type: "
			"application/octet-stream");
	case API_BODY_TAR:
		return ("an archive must be Content-Type: application/x-tar "
			"(or application/octet-stream)");
	default:
		if (content_type == NULL || *content_type == '\0')
			return ("a request body needs Content-Type: "
				"application/json");
		return ("a request body must be Content-Type: "
			"application/json");
	}
}
