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
 * - Content-Type: a "simple" cross-site request (a form, fetch no-cors)
 *   can carry only text/plain, application/x-www-form-urlencoded or
 *   multipart/form-data, with no preflight. A request body must be
 *   application/json, which only a preflighted request can send.
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
 * May a body of this Content-Type be sent? Only JSON: the media type
 * (before any ';' parameter), case-insensitively.
 */
const char *
guard_body_type(const char *content_type)
{
	size_t len;

	if (content_type == NULL || *content_type == '\0')
		return ("a request body needs Content-Type: application/json");
	len = strcspn(content_type, "; \t");
	if (len == 16 && strncasecmp(content_type, "application/json", 16) == 0)
		return (NULL);
	return ("a request body must be Content-Type: application/json");
}
