/*
 * test_diff.c: protocol/diff.c, the one unified diff writer.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

static void
check_diff(char *got, const char *want, const char *file, int line)
{
	if (got == NULL || strcmp(got, want) != 0)
		test_fail(file, line, "diff\n%s\nexpected\n%s",
		    got != NULL ? got : "(null)", want);
	free(got);
}
#define CHECK_DIFF(got, want) check_diff(got, want, __FILE__, __LINE__)

TEST(created)
{
	CHECK_DIFF(diff_texts(NULL, NULL, "a.txt", "hello world\n"),
	    "--- /dev/null\n+++ a.txt\n@@ -0,0 +1,1 @@\n+hello world\n");
	CHECK_DIFF(diff_texts(NULL, NULL, "a.txt", "one\ntwo"),
	    "--- /dev/null\n+++ a.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n"
	    "\\ No newline at end of file\n");
	/* An empty new file: the headers alone, as git shows it. */
	CHECK_DIFF(
	    diff_texts(NULL, NULL, "a.txt", ""), "--- /dev/null\n+++ a.txt\n");
}

TEST(deleted)
{
	CHECK_DIFF(diff_texts("a.txt", "x\ny\n", NULL, NULL),
	    "--- a.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n");
}

TEST(changed_with_context)
{
	const char *old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
	const char *new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";

	CHECK_DIFF(diff_texts("f", old, "f", new),
	    "--- f\n+++ f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n"
	    " 8\n");
	/* At the start and end, the context is what there is. */
	CHECK_DIFF(diff_texts("f", "a\nb\n", "f", "A\nb\n"),
	    "--- f\n+++ f\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n");
	CHECK_DIFF(diff_texts("f", "a\nb", "f", "a\nb\n"),
	    "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n"
	    "\\ No newline at end of file\n+b\n");
	/* Emptied but still there: no /dev/null on either side. */
	CHECK_DIFF(diff_texts("f", "a\n", "f", ""),
	    "--- f\n+++ f\n@@ -1,1 +0,0 @@\n-a\n");
}

TEST(unchanged)
{
	CHECK_DIFF(diff_texts("f", "same\n", "g", "same\n"), "--- f\n+++ g\n");
}

TEST(hunks)
{
	struct buf b;

	diff_begin(&b, "p", "q");
	diff_hunk(&b, 3, 2, 3, 1);
	(void)buf_str(&b, "-x\n y\n");
	CHECK_DIFF(diff_end(&b), "--- p\n+++ q\n@@ -3,2 +3,1 @@\n-x\n y\n");
}

TEST(cap)
{
	struct buf b;
	char	  *big;
	size_t	   n = DIFF_MAX / 2 + 1;

	/* Every line doubles with its mark: past DIFF_MAX, no diff at all. */
	big = malloc(n + 1);
	memset(big, '\n', n);
	big[n] = '\0';
	CHECK(diff_texts(NULL, NULL, "f", big) == NULL);
	free(big);
	diff_begin(&b, "p", "q");
	CHECK_INT(b.max, DIFF_MAX);
	b.full = 1;
	CHECK(diff_end(&b) == NULL);
	CHECK(b.p == NULL);
}

TEST_MAIN(TEST_ENTRY(created), TEST_ENTRY(deleted),
    TEST_ENTRY(changed_with_context), TEST_ENTRY(unchanged), TEST_ENTRY(hunks),
    TEST_ENTRY(cap))
