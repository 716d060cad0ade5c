/*
 * event-scan.c: find an event line's type and where its "raw" member
 * starts, without building a JSON tree.
 *
 * Subscribers read old events back from disk as text; they need the type
 * (a messages/stream answer ends at some types) and the length of the
 * line without "raw" (sent only on request). A full parse per event per
 * subscriber would cost more than the rest of the delivery, so this walks
 * the top-level object once. The scanner is pure and bounded by len.
 */
#include <string.h>

#include "protocol.h"

/* Skip a string starting at s[i] == '"'; returns the index after it. */
static size_t
event_scan_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return (i + 1);
	}
	return (len + 1);
}

/* Skip any value starting at s[i]; returns the index after it. */
static size_t
event_scan_value(const char *s, size_t len, size_t i)
{
	size_t	depth = 0;

	if (i < len && s[i] == '"')
		return (event_scan_string(s, len, i));
	for (; i < len; i++) {
		switch (s[i]) {
		case '"':
			i = event_scan_string(s, len, i) - 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return (i);
			if (--depth == 0)
				return (i + 1);
			break;
		case ',':
			if (depth == 0)
				return (i);
			break;
		default:
			break;
		}
	}
	return (i);
}

static size_t
event_scan_space(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return (i);
}

/*
 * Scan a serialised event. *noraw is the length of the prefix that ends
 * before the "raw" member (the comma included), so that the prefix plus
 * "}" is the event without raw; without raw it is len - 1 (all but the
 * closing brace). Returns -1 if the line is not an object with a known
 * "type".
 */
int
event_scan(const char *s, size_t len, enum event_type *type, size_t *noraw)
{
	size_t	i, key, klen, end, sep;
	int	t = -1;
	char	name[32];

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n' ||
	    s[len - 1] == '\r'))
		len--;
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return (-1);
	*noraw = len - 1;
	sep = 0;
	i = 1;
	for (;;) {
		i = event_scan_space(s, len, i);
		if (i >= len || s[i] != '"')
			break;
		key = i;
		i = event_scan_string(s, len, i);
		klen = i - key;
		i = event_scan_space(s, len, i);
		if (i >= len || s[i] != ':')
			return (-1);
		i = event_scan_space(s, len, i + 1);
		if (klen == 5 && memcmp(s + key, "\"raw\"", 5) == 0)
			*noraw = sep;
		if (klen == 6 && memcmp(s + key, "\"type\"", 6) == 0 &&
		    i < len && s[i] == '"') {
			end = event_scan_string(s, len, i);
			if (end - i - 2 < sizeof name && end <= len) {
				memcpy(name, s + i + 1, end - i - 2);
				name[end - i - 2] = '\0';
				t = event_type_from_name(name);
			}
		}
		i = event_scan_value(s, len, i);
		if (i >= len || s[i] != ',')
			break;
		sep = i;
		i++;
	}
	if (t < 0)
		return (-1);
	*type = (enum event_type)t;
	return (0);
}
