/* Known answers for fastinit's RNG core, from Sebastiano Vigna's reference algorithms
 * (splitmix64.c and xoroshiro128plus.c, 2016 parameters a=55, b=14, c=36), copied verbatim
 * below. Build and run:  cc -O2 -o /tmp/ka known_answers.c && /tmp/ka > known_answers.csv
 *
 * Rows: kind,seed,index,value (all uint64 in decimal)
 *   splitmix64  : the index-th output of splitmix64 started at state `seed`
 *   xoroshiro   : the index-th output of xoroshiro128+ started at s = (seed, seed ^ 0x5555...)
 *   stream      : the index-th output of fastinit's stream number `index >> 8`, position
 *                 `index & 255`, for `seed`: splitmix64 started at seed ^ mix64(stream) gives
 *                 s0 then s1 (fastinit/kernels/rng.py)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t x; /* splitmix64.c */
static uint64_t splitmix_next(void) {
	uint64_t z = (x += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

static uint64_t s[2]; /* xoroshiro128plus.c (2016) */
static inline uint64_t rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t xoroshiro_next(void) {
	const uint64_t s0 = s[0];
	uint64_t s1 = s[1];
	const uint64_t result = s0 + s1;
	s1 ^= s0;
	s[0] = rotl(s0, 55) ^ s1 ^ (s1 << 14); /* a, b */
	s[1] = rotl(s1, 36);                   /* c */
	return result;
}

static uint64_t mix64(uint64_t z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

int main(void) {
	printf("kind,seed,index,value\n");
	const uint64_t seeds[] = {0, 1, 1234567, 0xdeadbeefcafef00dULL, 0xffffffffffffffffULL};
	const uint64_t streams[] = {0, 1, 15, 16, 4095, 123456789};
	for (int k = 0; k < 5; k++) {
		x = seeds[k];
		for (int i = 0; i < 8; i++) printf("splitmix64,%" PRIu64 ",%d,%" PRIu64 "\n", seeds[k], i, splitmix_next());
		s[0] = seeds[k];
		s[1] = seeds[k] ^ 0x5555555555555555ULL;
		if (s[0] == 0 && s[1] == 0) s[1] = 1;
		for (int i = 0; i < 8; i++) printf("xoroshiro,%" PRIu64 ",%d,%" PRIu64 "\n", seeds[k], i, xoroshiro_next());
		for (int j = 0; j < 6; j++) {
			x = seeds[k] ^ mix64(streams[j]);
			s[0] = splitmix_next();
			s[1] = splitmix_next();
			for (int i = 0; i < 4; i++)
				printf("stream,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", seeds[k], (streams[j] << 8) | (uint64_t)i, xoroshiro_next());
		}
	}
	return 0;
}
