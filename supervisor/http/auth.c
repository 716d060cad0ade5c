/*
 * auth.c: the bearer token check.
 *
 * The comparison takes time that depends only on the length of the
 * presented token, never on where it first differs from ours, so the
 * token cannot be found a byte at a time by timing. The token itself is
 * never logged and never put in an agent's environment.
 */
#include <string.h>
#include <strings.h>

#include "http.h"

/* Compare a presented token with the configured one; 1 if equal. */
int
auth_check_token(const char *given)
{
	const unsigned char *want, *got;
	size_t		     wlen, glen, i;
	unsigned int	     diff;

	if (options.token == NULL)
		return (1);
	if (given == NULL)
		return (0);
	want = (const unsigned char *)options.token;
	got = (const unsigned char *)given;
	wlen = strlen(options.token);
	glen = strlen(given);

	/* Walk the presented token whole; a length mismatch still fails. */
	diff = (unsigned int)(wlen ^ glen);
	for (i = 0; i < glen; i++)
		diff |= (unsigned int)(got[i] ^ want[wlen == 0 ? 0 : i % wlen]);
	return (diff == 0 && wlen != 0);
}

/* Check an Authorization header value of the form "Bearer <token>". */
int
auth_check_bearer(const char *header)
{
	if (options.token == NULL)
		return (1);
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return (0);
	header += 7;
	while (*header == ' ')
		header++;
	return (auth_check_token(header));
}
