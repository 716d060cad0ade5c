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

#endif /* FUZZ_H */
