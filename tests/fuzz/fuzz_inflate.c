/*
 * fuzz_inflate.c: protocol/inflate.c on arbitrary bytes.
 *
 * Input: a gzip stream, whole or broken. inflate_gzip must return NULL or
 * exactly the size the trailer announced, never more than its cap, and
 * never read or write out of bounds (ASan). A stream gzip(1) wrote, with
 * a byte changed, is the usual seed (tests/fuzz/corpus/inflate).
 */
#include <stdlib.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out;
	size_t	       len = 0, isize;

	out = inflate_gzip(data, size, 1 << 20, &len);
	if (out != NULL) {
		FUZZ_CHECK(size >= 18, "decoded %zu bytes of input", size);
		isize = data[size - 4] | (size_t)data[size - 3] << 8 |
		    (size_t)data[size - 2] << 16 | (size_t)data[size - 1] << 24;
		FUZZ_CHECK(
		    len == isize, "%zu bytes, trailer says %zu", len, isize);
		FUZZ_CHECK(len <= 1 << 20, "%zu bytes over the cap", len);
	}
	free(out);
	return (0);
}
