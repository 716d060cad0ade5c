/*
 * test_sha256.c: protocol/sha256.c, SHA-256 against the NIST examples
 * (FIPS 180-2 appendix B, and the padding edges) and HMAC-SHA256 against
 * RFC 4231 test cases 1-7.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

static void
hash_hex(const void *data, size_t len, char out[SHA256_LEN * 2 + 1])
{
	unsigned char h[SHA256_LEN];

	sha256(data, len, h);
	sha256_hex(h, sizeof h, out);
}

static void
hmac_hex(const void *key, size_t klen, const void *data, size_t len,
    char out[SHA256_LEN * 2 + 1])
{
	unsigned char h[SHA256_LEN];

	sha256_hmac(key, klen, data, len, h);
	sha256_hex(h, sizeof h, out);
}

TEST(nist_short)
{
	char	   hex[SHA256_LEN * 2 + 1];
	const char two[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	hash_hex("abc", 3, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_hex("", 0, hex);
	CHECK_STR(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_hex(two, strlen(two), hex);
	CHECK_STR(hex,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* A million 'a', fed in pieces that straddle the blocks. */
TEST(nist_million)
{
	struct sha256 c;
	unsigned char h[SHA256_LEN];
	char	      hex[SHA256_LEN * 2 + 1], a[997];
	size_t	      left = 1000000, n;

	memset(a, 'a', sizeof a);
	sha256_init(&c);
	while (left > 0) {
		n = left < sizeof a ? left : sizeof a;
		sha256_update(&c, a, n);
		left -= n;
	}
	sha256_final(&c, h);
	sha256_hex(h, sizeof h, hex);
	CHECK_STR(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding's edges: one block or two for the length. */
TEST(padding_edges)
{
	static const struct {
		size_t	    n;
		const char *hex;
	} v[] = {
		{ 55,
		    "576a1bf8d4478657e6dc4af9398544765c2a92cde28478b019235cfed3"
		    "15fc09" },
		{ 56,
		    "9b20501dfd1d99161c257950f3444f3e49230c351c5c8e0943ef369f85"
		    "f5205d" },
		{ 63,
		    "30b345906b493f06f69444b6521113511c242f30e29840462950035043"
		    "682f1e" },
		{ 64,
		    "d8bc63b4fc1156e5e7d95a418b9bf54cd3174bedbc2db40f74895349b2"
		    "29b3c0" },
		{ 65,
		    "1ee23b0fbcaecc1aff4a9e8f1645f35ab2c8e13609cd73b68df8b5e3f6"
		    "3ce073" },
		{ 119,
		    "7a6589821178918ca8d9edaba5abfc1e9b2669564f4469b66885379c15"
		    "30b2c8" },
		{ 120,
		    "655250427d56b1b0eeb8497d21428704273458a01772d6881b65c0abac"
		    "0f8a98" },
	};
	unsigned char data[128], h[SHA256_LEN];
	struct sha256 c;
	char	      hex[SHA256_LEN * 2 + 1];
	size_t	      i, j;

	for (i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	for (i = 0; i < nitems(v); i++) {
		hash_hex(data, v[i].n, hex);
		CHECK_STR(hex, v[i].hex);
		/* The same, a byte at a time. */
		sha256_init(&c);
		for (j = 0; j < v[i].n; j++)
			sha256_update(&c, data + j, 1);
		sha256_final(&c, h);
		sha256_hex(h, sizeof h, hex);
		CHECK_STR(hex, v[i].hex);
	}
}

TEST(rfc4231)
{
	unsigned char k3[20], d3[50], k4[25], d4[50], k6[131];
	char	      hex[SHA256_LEN * 2 + 1];
	const char   *d7 =
	    "This is a test using a larger than block-size key and a larger "
	    "than block-size data. The key needs to be hashed before being "
	    "used by the HMAC algorithm.";
	const char *d6 =
	    "Test Using Larger Than Block-Size Key - Hash Key First";
	size_t i;

	memset(k3, 0x0b, 20);
	hmac_hex(k3, 20, "Hi There", 8, hex);
	CHECK_STR(hex,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	CHECK_STR(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k3, 0xaa, sizeof k3);
	memset(d3, 0xdd, sizeof d3);
	hmac_hex(k3, sizeof k3, d3, sizeof d3, hex);
	CHECK_STR(hex,
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (i = 0; i < sizeof k4; i++)
		k4[i] = (unsigned char)(i + 1);
	memset(d4, 0xcd, sizeof d4);
	hmac_hex(k4, sizeof k4, d4, sizeof d4, hex);
	CHECK_STR(hex,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	/* Test case 5 is truncated to 128 bits. */
	memset(k3, 0x0c, sizeof k3);
	hmac_hex(k3, sizeof k3, "Test With Truncation", 20, hex);
	hex[32] = '\0';
	CHECK_STR(hex, "a3b6167473100ee06e0c796c2955552b");
	memset(k6, 0xaa, sizeof k6);
	hmac_hex(k6, sizeof k6, d6, strlen(d6), hex);
	CHECK_STR(hex,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	hmac_hex(k6, sizeof k6, d7, strlen(d7), hex);
	CHECK_STR(hex,
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* An empty key is a block of zeros (what an unsigned default would be). */
TEST(empty_key)
{
	unsigned char zero[SHA256_BLOCK];
	char	      a[SHA256_LEN * 2 + 1], b[SHA256_LEN * 2 + 1];

	memset(zero, 0, sizeof zero);
	hmac_hex("", 0, "body", 4, a);
	hmac_hex(zero, sizeof zero, "body", 4, b);
	CHECK_STR(a, b);
}

TEST_MAIN(TEST_ENTRY(nist_short), TEST_ENTRY(nist_million),
    TEST_ENTRY(padding_edges), TEST_ENTRY(rfc4231), TEST_ENTRY(empty_key))
