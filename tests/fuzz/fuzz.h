/*
 * fuzz.h: shared by the libFuzzer targets of tests/fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput. It is linked either with
 * libFuzzer (build/fuzz/<target>, clang, ASan+UBSan) or with replay.c
 * (build/<host>/fuzz/<target>-replay, the host compiler), which runs the
 * saved inputs of tests/fuzz/regress/<target>/ and corpus/<target>/ once.
 *
 * FUZZ_CHECK is an assertion that survives NDEBUG: a property violated on
 * some input is a finding, reported like a crash.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
			    __LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

#ifdef PROTOCOL_H
#include <string.h>

/*
 * An object with a key twice, at any depth, keeps both members and
 * lookups find the first; cJSON_Compare matches by key, so such a value
 * never compares equal to anything, even its own copy. Targets compare
 * values only when this is 0.
 */
static inline int
fuzz_has_duplicate_keys(const cJSON *v)
{
	const cJSON *a, *b;

	if (json_is_obj(v)) {
		JSON_FOREACH(a, v) {
			for (b = json_next(a); b != NULL; b = json_next(b)) {
				if (strcmp(json_key(a), json_key(b)) == 0)
					return (1);
			}
		}
	}
	JSON_FOREACH(a, v) {
		if (fuzz_has_duplicate_keys(a))
			return (1);
	}
	return (0);
}
#endif

#endif /* FUZZ_H */
