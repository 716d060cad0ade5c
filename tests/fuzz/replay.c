/*
 * replay.c: run a fuzz target once over saved inputs, without libFuzzer.
 *
 *	build/host/fuzz/jsonl-replay [FILE|DIR]...
 *
 * Without arguments it replays tests/fuzz/regress/<target>/ and
 * tests/fuzz/corpus/<target>/ (FUZZ_TARGET is set by fuzz.mk; run from the
 * repository root, as make does). Each input is one "ok" line; a failing
 * input aborts (ASan/UBSan or FUZZ_CHECK), so the suite runner counts the
 * crash. Ends with the "N passed, 0 failed" line tests/run.sh expects.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#define FUZZ_TARGET "unknown"
#endif

int LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int replay_path(const char *, int);
static int replay_file(const char *);
static int replay_cmp(const void *, const void *);

static int npassed;

static int
replay_file(const char *path)
{
	FILE	*f;
	uint8_t *buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok - %s: cannot open\n", path);
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok - %s %s (%zu bytes)\n", FUZZ_TARGET, path, len);
	npassed++;
	return (0);
}

static int
replay_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
replay_path(const char *path, int quiet_missing)
{
	struct stat    sb;
	struct dirent *de;
	DIR	      *d;
	char	     **names = NULL, *full;
	size_t	       n = 0, i;
	int	       rv = 0;

	if (stat(path, &sb) == -1) {
		if (quiet_missing)
			return (0);
		printf("not ok - %s: no such file\n", path);
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode))
		return (replay_file(path));
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL)
			abort();
		if (asprintf(&full, "%s/%s", path, de->d_name) == -1)
			abort();
		names[n++] = full;
	}
	closedir(d);
	qsort(names, n, sizeof *names, replay_cmp);
	for (i = 0; i < n; i++) {
		if (replay_path(names[i], 0) != 0)
			rv = -1;
		free(names[i]);
	}
	free(names);
	return (rv);
}

int
main(int argc, char **argv)
{
	int failed = 0, i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			failed += replay_path(argv[i], 0) != 0;
	} else {
		failed +=
		    replay_path("tests/fuzz/regress/" FUZZ_TARGET, 1) != 0;
		failed += replay_path("tests/fuzz/corpus/" FUZZ_TARGET, 1) != 0;
	}
	printf("%d passed, %d failed\n", npassed, failed);
	return (failed != 0);
}
