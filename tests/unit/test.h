/*
 * test.h: a single-header unit test harness (after redis testhelp.h).
 *
 * A test file writes TEST(name) { ... } functions, then one
 * TEST_MAIN(TEST_ENTRY(a), TEST_ENTRY(b), ...) table, which becomes main.
 * CHECK, CHECK_STR, CHECK_INT and CHECK_MEM record a failure with its
 * file:line and values and carry on. Output is one line per test, "ok -
 * name" or "not ok - name: file:line: message" (the first failure; every
 * failure also goes to stderr), and as the last line exactly
 * "N passed, M failed" counting tests. The exit status is 1 if M > 0.
 */
#ifndef TEST_H
#define TEST_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
};

static int  test_failures;   /* in the current test */
static char test_first[512]; /* its first failure */

#define TEST(name) static void name(void)
#define TEST_ENTRY(name)    \
	{                   \
#name, name \
	}
#define TEST_MAIN(...)                                                      \
	static const struct test test_table[] = { __VA_ARGS__ };            \
	int			 main(void)                                 \
	{                                                                   \
		return (test_run(                                           \
		    test_table, sizeof test_table / sizeof test_table[0])); \
	}

static void test_fail(const char *, int, const char *, ...)
    __attribute__((__format__(__printf__, 3, 4), unused));

/* Record one failed check. */
static void
test_fail(const char *file, int line, const char *fmt, ...)
{
	char	msg[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "# %s:%d: %s\n", file, line, msg);
	if (test_failures++ == 0)
		(void)snprintf(test_first, sizeof test_first, "%s:%d: %s", file,
		    line, msg);
}

/* How many of descriptors 0-1023 are open (a leak, or a log at rest). */
static int __attribute__((unused)) test_open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return (n);
}

/* Run every test in the table; return the exit status. */
static int __attribute__((unused)) test_run(const struct test *t, size_t n)
{
	size_t i, passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		test_failures = 0;
		test_first[0] = '\0';
		t[i].fn();
		if (test_failures == 0) {
			printf("ok - %s\n", t[i].name);
			passed++;
		} else if (test_failures == 1) {
			printf("not ok - %s: %s\n", t[i].name, test_first);
			failed++;
		} else {
			printf("not ok - %s: %s (and %d more)\n", t[i].name,
			    test_first, test_failures - 1);
			failed++;
		}
		fflush(stdout);
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return (failed > 0 ? 1 : 0);
}

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(a, b)                                                       \
	do {                                                                  \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b); \
		if (test_a_ != test_b_)                                       \
			test_fail(__FILE__, __LINE__,                         \
			    "%s == %lld, expected %lld", #a, test_a_,         \
			    test_b_);                                         \
	} while (0)

#define CHECK_STR(a, b)                                                  \
	do {                                                             \
		const char *test_a_ = (a), *test_b_ = (b);               \
		if (test_a_ == NULL || test_b_ == NULL                   \
			? test_a_ != test_b_                             \
			: strcmp(test_a_, test_b_) != 0)                 \
			test_fail(__FILE__, __LINE__,                    \
			    "%s == \"%.160s\", expected \"%.160s\"", #a, \
			    test_a_ != NULL ? test_a_ : "(null)",        \
			    test_b_ != NULL ? test_b_ : "(null)");       \
	} while (0)

/* n bytes at p equal the C string s (and n == strlen(s)). */
#define CHECK_MEM(p, n, s)                                                   \
	do {                                                                 \
		const char *test_p_ = (const char *)(p), *test_s_ = (s);     \
		size_t	    test_n_ = (n);                                   \
		if (test_p_ == NULL || test_n_ != strlen(test_s_) ||         \
		    memcmp(test_p_, test_s_, test_n_) != 0)                  \
			test_fail(__FILE__, __LINE__,                        \
			    "%s == \"%.*s\" (%zu), expected \"%.160s\"", #p, \
			    test_p_ != NULL                                  \
				? (int)(test_n_ > 160 ? 160 : test_n_)       \
				: 6,                                         \
			    test_p_ != NULL ? test_p_ : "(null)", test_n_,   \
			    test_s_);                                        \
	} while (0)

#endif /* TEST_H */
