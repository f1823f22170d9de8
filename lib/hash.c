/*
 * hash.c — keyed hashing for hash sets whose keys come from outside (an
 * order's line ids, YAML keys, rule ids): SipHash-1-3 (Aumasson and
 * Bernstein's SipHash with one compression and three finalisation rounds)
 * under a key drawn per set, so that crafted keys cannot be aimed at one
 * bucket.
 */
#include "internal.h"

#include <time.h>

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                           \
    do {                                                                                   \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);                      \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                                           \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                                           \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);                      \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

uint64_t tsr__hash(const tsr_hash_key *key, const char *s, size_t n)
{
    const unsigned char *in = (const unsigned char *)s, *end = in + (n - n % 8);
    uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ key->k0;
    uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ key->k1;
    uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ key->k0;
    uint64_t v3 = UINT64_C(0x7465646279746573) ^ key->k1;
    uint64_t b = (uint64_t)n << 56, m;

    for (; in != end; in += 8) {
        m = load_le64(in);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    switch (n & 7) {
    case 7: b |= (uint64_t)in[6] << 48; /* fall through */
    case 6: b |= (uint64_t)in[5] << 40; /* fall through */
    case 5: b |= (uint64_t)in[4] << 32; /* fall through */
    case 4: b |= (uint64_t)in[3] << 24; /* fall through */
    case 3: b |= (uint64_t)in[2] << 16; /* fall through */
    case 2: b |= (uint64_t)in[1] << 8;  /* fall through */
    case 1: b |= (uint64_t)in[0];       /* fall through */
    default: break;
    }
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* splitmix64: spreads the few varying bits of the seed material over the
 * whole key. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void tsr__hash_key_init(tsr_hash_key *key, const void *owner, uint64_t counter)
{
    static const char here = 0;   /* where the library is mapped */
    struct timespec ts = { 0, 0 };
    uint64_t x;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    x = (uint64_t)(uintptr_t)owner ^ ((uint64_t)(uintptr_t)&ts << 17) ^
        ((uint64_t)(uintptr_t)&here << 31) ^ ((uint64_t)ts.tv_sec << 32) ^
        (uint64_t)ts.tv_nsec ^ counter * UINT64_C(0xd1342543de82ef95);
    key->k0 = splitmix64(&x);
    key->k1 = splitmix64(&x);
}
