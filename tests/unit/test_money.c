/*
 * test_money.c — unit tests for lib/money.c: checked arithmetic, the
 * multiply-divide and its rounding modes, fixed-point parsing and
 * formatting, decimal/money conversions, the ISO 4217 table and
 * largest-remainder allocation.
 *
 * The test includes money.c itself, so its static pieces are in reach: the
 * portable 128-bit multiply-divide and overflow checks are compared with
 * the native ones (and with an independent __int128 oracle written here)
 * on many deterministic pseudo-random values, and the currency table is
 * checked entry by entry.  No library object is needed for this file's
 * symbols, so the static library's copy of money.o is never pulled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define TSR_MONEY_BOTH_PATHS 1   /* the portable code beside the native one */
#include "../../lib/money.c"

#if defined(__SIZEOF_INT128__)
#  define HAVE_ORACLE 1
__extension__ typedef __int128 i128;
#endif

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t rng_state = UINT64_C(0x5eed5eed12345678);

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A value of a random bit length with a random sign, so small, medium
 * and extreme magnitudes all get exercised. */
static int64_t next_i64(void)
{
    uint64_t u = next_u64() >> (next_u64() % 64u);
    int64_t v;
    memcpy(&v, &u, sizeof v);   /* int64_t is two's complement by definition */
    return next_u64() & 1u ? v : (v == INT64_MIN ? v : -v);
}

static const int64_t edge_values[] = {
    0, 1, -1, 2, -2, 3, 10, -10, 99, 100, 1000000, -1000000,
    INT64_C(3037000499), INT64_C(3037000500), -INT64_C(3037000500),
    INT64_C(4294967295), INT64_C(4294967296), -INT64_C(4294967296),
    INT32_MAX - 1, INT32_MAX, INT64_C(2147483648), INT32_MIN,   /* the inline floor_rem's edge */
    INT64_MAX, INT64_MAX - 1, INT64_MAX / 2, INT64_MAX / 2 + 1,
    INT64_MIN, INT64_MIN + 1, INT64_MIN / 2, INT64_MIN / 2 - 1,
    INT64_C(1000000000000000000), -INT64_C(1000000000000000000),
};

/* ---------------------------------------------------------------------
 * Checked arithmetic.
 */
static void test_add_refuses_overflow_and_leaves_out_untouched(void **state)
{
    int64_t r = 42;
    (void)state;
    assert_false(tsr__add(INT64_MAX, 1, &r));
    assert_false(tsr__add(INT64_MIN, -1, &r));
    assert_false(tsr__add(INT64_MAX, INT64_MAX, &r));
    assert_int_equal(r, 42);
    assert_true(tsr__add(INT64_MAX, INT64_MIN, &r));
    assert_int_equal(r, -1);
    assert_true(tsr__add(INT64_MAX - 1, 1, &r));
    assert_true(r == INT64_MAX);
}

static void test_sub_refuses_overflow_and_leaves_out_untouched(void **state)
{
    int64_t r = 42;
    (void)state;
    assert_false(tsr__sub(INT64_MIN, 1, &r));
    assert_false(tsr__sub(INT64_MAX, -1, &r));
    assert_false(tsr__sub(0, INT64_MIN, &r));
    assert_int_equal(r, 42);
    assert_true(tsr__sub(-1, INT64_MIN, &r));
    assert_true(r == INT64_MAX);
    assert_true(tsr__sub(0, INT64_MAX, &r));
    assert_true(r == INT64_MIN + 1);
}

static void test_mul_refuses_overflow_including_int64_min_times_minus_one(void **state)
{
    int64_t r = 42;
    (void)state;
    assert_false(tsr__mul(INT64_MIN, -1, &r));
    assert_false(tsr__mul(-1, INT64_MIN, &r));
    assert_false(tsr__mul(INT64_MAX, 2, &r));
    assert_false(tsr__mul(INT64_C(3037000500), INT64_C(3037000500), &r));
    assert_false(tsr__mul(INT64_C(4294967296), INT64_C(2147483648), &r));   /* 2^63 */
    assert_int_equal(r, 42);
    assert_true(tsr__mul(-INT64_C(4294967296), INT64_C(2147483648), &r));   /* -2^63 fits */
    assert_true(r == INT64_MIN);
    assert_true(tsr__mul(INT64_C(3037000499), INT64_C(3037000499), &r));
    assert_true(r == INT64_C(9223372030926249001));
    assert_true(tsr__mul(INT64_MIN, 1, &r));
    assert_true(r == INT64_MIN);
    assert_true(tsr__mul(0, INT64_MIN, &r));
    assert_int_equal(r, 0);
}

/* The fallback used by compilers without __builtin_*_overflow must agree
 * with the library's operations on edge and random values. */
static void test_portable_checked_ops_agree_with_library_ops(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        size_t n = round == 0 ? TSR_ARRAY_LEN(edge_values) : 20000;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < (round == 0 ? n : 1); j++) {
                int64_t a = round == 0 ? edge_values[i] : next_i64();
                int64_t b = round == 0 ? edge_values[j] : next_i64();
                int64_t r1 = 0, r2 = 0;
                bool ok1, ok2;
                ok1 = tsr__add(a, b, &r1);
                ok2 = add_portable(a, b, &r2);
                assert_true(ok1 == ok2 && (!ok1 || r1 == r2));
                ok1 = tsr__sub(a, b, &r1);
                ok2 = sub_portable(a, b, &r2);
                assert_true(ok1 == ok2 && (!ok1 || r1 == r2));
                ok1 = tsr__mul(a, b, &r1);
                ok2 = mul_portable(a, b, &r2);
                assert_true(ok1 == ok2 && (!ok1 || r1 == r2));
#ifdef HAVE_ORACLE
                i128 p = (i128)a * b;
                assert_true(ok1 == (p >= INT64_MIN && p <= INT64_MAX));
#endif
            }
        }
    }
}

static void test_pow10_covers_0_to_18_and_refuses_beyond(void **state)
{
    int64_t p = 1;
    (void)state;
    for (unsigned n = 0; n <= 18; n++) {
        assert_true(tsr__pow10(n) == p);
        if (n < 18)
            p *= 10;
    }
    assert_int_equal(tsr__pow10(19), 0);
    assert_int_equal(tsr__pow10(1000), 0);
}

/* ---------------------------------------------------------------------
 * Multiply-divide and rounding.
 */
static int64_t md(int64_t a, int64_t b, int64_t d, tsr_rounding mode)
{
    int64_t r = 0;
    assert_true(tsr__muldiv(a, b, d, mode, &r));
    return r;
}

static void test_muldiv_is_exact_beyond_64_bit_products(void **state)
{
    (void)state;
    assert_true(md(INT64_MAX, INT64_MAX, INT64_MAX, TSR_ROUND_DOWN) == INT64_MAX);
    assert_true(md(INT64_MIN, INT64_MIN, INT64_MIN, TSR_ROUND_DOWN) == INT64_MIN);
    assert_true(md(INT64_C(1000000000000000000), TSR_DEC_SCALE, TSR_DEC_SCALE, TSR_ROUND_DOWN) ==
                INT64_C(1000000000000000000));
    /* (2^62 * 6) / 4 = 6 * 2^60: the product needs 65 bits. */
    assert_true(md(INT64_C(1) << 62, 6, 4, TSR_ROUND_DOWN) == INT64_C(6) << 60);
}

static void test_muldiv_refuses_quotient_overflow_zero_divisor_and_bad_mode(void **state)
{
    int64_t r = 42;
    (void)state;
    assert_false(tsr__muldiv(INT64_MAX, 2, 1, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(INT64_MIN, -1, 1, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(INT64_MIN, 1, -1, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(INT64_MAX, INT64_MAX, 1, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(1, 1, 0, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(1, 1, 1, (tsr_rounding)7, &r));
    /* Rounding up past INT64_MAX: (2^64 - 1) / 2 = 2^63 - 0.5 rounds to 2^63,
     * which fits only as a negative number. */
    assert_false(tsr__muldiv(INT64_C(4294967295), INT64_C(4294967297), 2, TSR_ROUND_HALF_UP, &r));
    assert_false(tsr__muldiv(INT64_C(4294967295), INT64_C(4294967297), 2, TSR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, 42);
    assert_true(md(INT64_C(4294967295), INT64_C(4294967297), 2, TSR_ROUND_DOWN) == INT64_MAX);
    assert_true(md(-INT64_C(4294967295), INT64_C(4294967297), 2, TSR_ROUND_HALF_UP) == INT64_MIN);
    assert_true(md(INT64_MIN, -1, -1, TSR_ROUND_DOWN) == INT64_MIN);
    assert_true(md(INT64_MAX, 1, 2, TSR_ROUND_HALF_UP) == INT64_C(1) << 62);
    assert_true(md(INT64_MAX, 1, 2, TSR_ROUND_HALF_EVEN) == INT64_C(1) << 62);
    assert_true(md(INT64_MAX, 1, 2, TSR_ROUND_DOWN) == (INT64_C(1) << 62) - 1);
    assert_true(md(INT64_MIN, 1, 2, TSR_ROUND_HALF_UP) == INT64_MIN / 2);
    /* 1.5 * 2^63 either way */
    assert_false(tsr__muldiv(INT64_MIN, 3, 2, TSR_ROUND_DOWN, &r));
    assert_false(tsr__muldiv(INT64_MAX, 3, 2, TSR_ROUND_HALF_UP, &r));
}

static void test_half_up_rounds_away_from_zero_on_exact_half(void **state)
{
    (void)state;
    assert_int_equal(md(5, 1, 2, TSR_ROUND_HALF_UP), 3);
    assert_int_equal(md(-5, 1, 2, TSR_ROUND_HALF_UP), -3);
    assert_int_equal(md(5, 1, -2, TSR_ROUND_HALF_UP), -3);
    assert_int_equal(md(-5, -1, 2, TSR_ROUND_HALF_UP), 3);
    assert_int_equal(md(1, 1, 2, TSR_ROUND_HALF_UP), 1);
    assert_int_equal(md(-1, 1, 2, TSR_ROUND_HALF_UP), -1);
    assert_int_equal(md(5, 1, 4, TSR_ROUND_HALF_UP), 1);     /* 1.25 */
    assert_int_equal(md(7, 1, 4, TSR_ROUND_HALF_UP), 2);     /* 1.75 */
    assert_int_equal(md(-5, 1, 4, TSR_ROUND_HALF_UP), -1);
    assert_int_equal(md(-7, 1, 4, TSR_ROUND_HALF_UP), -2);
    assert_int_equal(md(0, 5, 3, TSR_ROUND_HALF_UP), 0);
}

static void test_half_even_rounds_to_even_on_exact_half(void **state)
{
    (void)state;
    assert_int_equal(md(5, 1, 2, TSR_ROUND_HALF_EVEN), 2);    /* 2.5 */
    assert_int_equal(md(7, 1, 2, TSR_ROUND_HALF_EVEN), 4);    /* 3.5 */
    assert_int_equal(md(1, 1, 2, TSR_ROUND_HALF_EVEN), 0);    /* 0.5 */
    assert_int_equal(md(-5, 1, 2, TSR_ROUND_HALF_EVEN), -2);
    assert_int_equal(md(-7, 1, 2, TSR_ROUND_HALF_EVEN), -4);
    assert_int_equal(md(-1, 1, 2, TSR_ROUND_HALF_EVEN), 0);
    assert_int_equal(md(7, 1, 4, TSR_ROUND_HALF_EVEN), 2);    /* 1.75: not a tie */
    assert_int_equal(md(5, 1, 4, TSR_ROUND_HALF_EVEN), 1);    /* 1.25: not a tie */
    assert_int_equal(md(25000001, 1, 10000000, TSR_ROUND_HALF_EVEN), 3);   /* just above 2.5 */
    assert_int_equal(md(-25000001, 1, 10000000, TSR_ROUND_HALF_EVEN), -3);
}

static void test_down_truncates_toward_zero(void **state)
{
    (void)state;
    assert_int_equal(md(199, 1, 100, TSR_ROUND_DOWN), 1);
    assert_int_equal(md(-199, 1, 100, TSR_ROUND_DOWN), -1);
    assert_int_equal(md(199, 1, -100, TSR_ROUND_DOWN), -1);
    assert_int_equal(md(-199, -1, 100, TSR_ROUND_DOWN), 1);
    assert_int_equal(md(5, 1, 2, TSR_ROUND_DOWN), 2);
    assert_int_equal(md(-5, 1, 2, TSR_ROUND_DOWN), -2);
}

/* SPEC §4: 12.5 % of 8.20 saves 1.025: 1.03 with half_up, 1.02 with half_even. */
static void test_spec_example_twelve_and_a_half_percent_of_8_20(void **state)
{
    int64_t pct = 0, r = 0;
    (void)state;
    assert_int_equal(tsr__parse_fixed("12.5", 4, TSR_DEC_DIGITS, &pct), TSR_OK);
    /* money * percent / 100, with the percent a decimal */
    assert_int_equal(md(820, pct, 100 * TSR_DEC_SCALE, TSR_ROUND_HALF_UP), 103);
    assert_int_equal(md(820, pct, 100 * TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN), 102);
    assert_int_equal(md(820, pct, 100 * TSR_DEC_SCALE, TSR_ROUND_DOWN), 102);
    /* the same as money * decimal (0.125), as expressions compute it */
    assert_true(tsr__muldiv(820, 125000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &r));
    assert_int_equal(r, 103);
    assert_true(tsr__muldiv(820, 125000, TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, 102);
    assert_true(tsr__muldiv(-820, 125000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &r));
    assert_int_equal(r, -103);
    assert_true(tsr__muldiv(-820, 125000, TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, -102);
}

#ifdef HAVE_ORACLE
/* An independent rounding on signed 128-bit values, to judge both paths. */
static bool oracle_muldiv(int64_t a, int64_t b, int64_t d, tsr_rounding mode, int64_t *out)
{
    i128 p = (i128)a * b, q = p / d, r = p % d;   /* C truncates toward zero */
    if (r != 0) {
        i128 twice = 2 * (r < 0 ? -r : r), ad = d < 0 ? -(i128)d : d;
        bool negative = (p < 0) != (d < 0);
        bool away = mode == TSR_ROUND_HALF_UP     ? twice >= ad
                    : mode == TSR_ROUND_HALF_EVEN ? twice > ad || (twice == ad && (q & 1) != 0)
                                                  : false;
        if (away)
            q += negative ? -1 : 1;
    }
    if (q < INT64_MIN || q > INT64_MAX)
        return false;
    *out = (int64_t)q;
    return true;
}
#endif

static void check_muldiv_paths(int64_t a, int64_t b, int64_t d)
{
    if (d == 0)
        return;
    for (int m = 0; m < 3; m++) {
        tsr_rounding mode = (tsr_rounding)m;
        int64_t rp = 0, rl = 0;
        bool okp = muldiv_with(umuldiv_portable, a, b, d, mode, &rp);
        bool okl = tsr__muldiv(a, b, d, mode, &rl);
        if (okp != okl || (okp && rp != rl))
            fail_msg("muldiv(%lld, %lld, %lld, mode %d): portable %d/%lld, library %d/%lld",
                     (long long)a, (long long)b, (long long)d, m, okp, (long long)rp, okl,
                     (long long)rl);
#ifdef HAVE_ORACLE
        int64_t ro = 0;
        bool oko = oracle_muldiv(a, b, d, mode, &ro);
        if (oko != okp || (oko && ro != rp))
            fail_msg("muldiv(%lld, %lld, %lld, mode %d): oracle %d/%lld, portable %d/%lld",
                     (long long)a, (long long)b, (long long)d, m, oko, (long long)ro, okp,
                     (long long)rp);
#endif
    }
    {   /* any a, b, d: the inline path and the wide one refuse the same */
        int64_t qp = 0, rp = 0, ql = 0, rl = 0;
        bool okp = muldiv_floor_rem_with(umuldiv_portable, a, b, d, &qp, &rp);
        bool okl = tsr__muldiv_floor_rem(a, b, d, &ql, &rl);
        assert_true(okp == okl && (!okp || (qp == ql && rp == rl)));
    }
}

static void test_muldiv_portable_path_matches_native_path_and_oracle(void **state)
{
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(edge_values); i++)
        for (size_t j = 0; j < TSR_ARRAY_LEN(edge_values); j++)
            for (size_t k = 0; k < TSR_ARRAY_LEN(edge_values); k++)
                check_muldiv_paths(edge_values[i], edge_values[j], edge_values[k]);
    for (int i = 0; i < 300000; i++) {
        int64_t a = next_i64(), b = next_i64(), d = next_i64();
        check_muldiv_paths(a, b, d);
        /* Quotients that fit, with ties: d divides 2ab. */
        check_muldiv_paths(a >> 32, b >> 33, 2);
        check_muldiv_paths(a, b % 1000, (d % 1000) * 2 + 1);
        /* Both sides of 2^31, where floor_rem leaves its inline path. */
        check_muldiv_paths(INT32_MAX - (a & 3), INT32_MAX + (b & 3) - 1, d >> (d & 63));
    }
}

static void test_portable_128_bit_multiply_and_divide_are_exact(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        uint64_t a = next_u64() >> (next_u64() % 64u), b = next_u64() >> (next_u64() % 64u);
        uint64_t hi, lo, q, r, d;
        umul128_portable(a, b, &hi, &lo);
#ifdef HAVE_INT128
        u128 p = (u128)a * b;
        assert_true(hi == (uint64_t)(p >> 64) && lo == (uint64_t)p);
#endif
        d = next_u64() >> (next_u64() % 64u);
        if (d == 0 || hi >= d)
            continue;
        udiv128_portable(hi, lo, d, &q, &r);
        assert_true(r < d);
#ifdef HAVE_INT128
        assert_true(q == (uint64_t)(p / d) && r == (uint64_t)(p % d));
#endif
    }
    /* The carry case of the long division: d above 2^63. */
    {
        uint64_t q, r, d = UINT64_MAX - 1;
        udiv128_portable(d - 1, UINT64_MAX, d, &q, &r);
#ifdef HAVE_INT128
        u128 p = ((u128)(d - 1) << 64) | UINT64_MAX;
        assert_true(q == (uint64_t)(p / d) && r == (uint64_t)(p % d));
#endif
        assert_true(r < d);
    }
}

/* ---------------------------------------------------------------------
 * Parsing and formatting.
 */
static int parse(const char *s, unsigned scale, int64_t *out)
{
    return tsr__parse_fixed(s, strlen(s), scale, out);
}

static void test_parse_money_accepts_excess_zero_digits(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(parse("1.500", 2, &v), TSR_OK);
    assert_int_equal(v, 150);
    assert_int_equal(parse("1800.00", 2, &v), TSR_OK);
    assert_int_equal(v, 180000);
    assert_int_equal(parse("1800", 2, &v), TSR_OK);
    assert_int_equal(v, 180000);
    assert_int_equal(parse("0.1", 2, &v), TSR_OK);
    assert_int_equal(v, 10);
    assert_int_equal(parse("7.000000000000000000000000", 0, &v), TSR_OK);
    assert_int_equal(v, 7);
}

static void test_parse_money_refuses_nonzero_digits_beyond_minor_units(void **state)
{
    int64_t v = 42;
    (void)state;
    assert_int_equal(parse("1.505", 2, &v), TSR_EVALUE);
    assert_int_equal(parse("1.5000001", 2, &v), TSR_EVALUE);
    assert_int_equal(parse("7.5", 0, &v), TSR_EVALUE);
    assert_int_equal(parse("0.0000001", TSR_DEC_DIGITS, &v), TSR_EVALUE);
    assert_int_equal(v, 42);
}

static void test_parse_negative_values(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(parse("-0.50", 2, &v), TSR_OK);
    assert_int_equal(v, -50);
    assert_int_equal(parse("-0", 2, &v), TSR_OK);
    assert_int_equal(v, 0);
    assert_int_equal(parse("-12", 3, &v), TSR_OK);
    assert_int_equal(v, -12000);
    assert_int_equal(parse("-12.5", TSR_DEC_DIGITS, &v), TSR_OK);
    assert_int_equal(v, -12500000);
}

static void test_parse_refuses_what_is_not_a_plain_decimal(void **state)
{
    static const char *const bad[] = {
        "abc", "1e5", "1E5", ".5", "+1", "", "-", "1.", "-.5", " 1", "1 ", "1,5", "--1",
        "0x10", "1.2.3", "1..2", "- 1", "\xd9\xa1", "inf", "NaN", "1_000", "٣",
    };
    int64_t v = 42;
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
        if (parse(bad[i], 2, &v) != TSR_EPARSE)
            fail_msg("\"%s\" was not refused as a parse error", bad[i]);
    assert_int_equal(v, 42);
    assert_int_equal(tsr__parse_fixed(NULL, 0, 2, &v), TSR_EPARSE);
}

static void test_parse_reads_exactly_n_bytes(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(tsr__parse_fixed("12.34xyz", 5, 2, &v), TSR_OK);
    assert_int_equal(v, 1234);
    assert_int_equal(tsr__parse_fixed("12\0" "5", 4, 2, &v), TSR_EPARSE);   /* embedded NUL */
    assert_int_equal(tsr__parse_fixed("125", 0, 2, &v), TSR_EPARSE);
}

/* The common form (unsigned, no decimals beyond the scale, at most 18
 * digits scaled) is read in one pass; appending a zero beyond the scale,
 * or a sign, sends the same number the general way: both must agree, at
 * every scale, up to the edge of 18 digits and past it. */
static void test_parse_common_form_agrees_with_the_general_way(void **state)
{
    static const char *const texts[] = {
        "0", "7", "24.99", "12.5", "0.05", "007.10", "1800", "999999999999999999",
        "99999999999999999.9", "9999999999999999.99", "9999999999999999999", "1.123456",
        "123456789012.345678", "1234567890123.456789", "0.000000000000000001",
        /* two decimals, as prices are written (by fixed positions at scale 2) */
        "0.00", "1.99", ".99", "1a.99", "1.2.34", "12.9a", "12.a9", "1 .99", "+1.99",
        "99999999999999999.99", "00000000000000000.01", "92233720368547758.07",
    };
    unsigned scale;
    size_t i;
    (void)state;
    for (scale = 0; scale <= 18; scale++)
        for (i = 0; i < TSR_ARRAY_LEN(texts); i++) {
            char general[64], negative[64];
            int64_t a = -1, b = -2, c = -3;
            int ra = parse(texts[i], scale, &a), rb, rc;
            snprintf(general, sizeof general, "%s%s0", texts[i],
                     strchr(texts[i], '.') ? "" : ".");
            snprintf(negative, sizeof negative, "-%s", texts[i]);
            rb = parse(general, scale, &b);
            rc = parse(negative, scale, &c);
            if (ra != rb || (ra == TSR_OK && a != b))
                fail_msg("\"%s\" at scale %u: %d %lld, the general way %d %lld", texts[i],
                         scale, ra, (long long)a, rb, (long long)b);
            /* a negative number goes the general way too */
            if (ra == TSR_OK && (rc != TSR_OK || c != -a))
                fail_msg("\"-%s\" at scale %u: %d %lld", texts[i], scale, rc, (long long)c);
        }
}

static void test_parse_huge_values_up_to_the_int64_limits(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(parse("92233720368547758.07", 2, &v), TSR_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse("92233720368547758.08", 2, &v), TSR_EVALUE);
    assert_int_equal(parse("-92233720368547758.08", 2, &v), TSR_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(parse("-92233720368547758.09", 2, &v), TSR_EVALUE);
    assert_int_equal(parse("9223372036854775807", 0, &v), TSR_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse("9223372036854775808", 0, &v), TSR_EVALUE);
    assert_int_equal(parse("9223372036854.775807", TSR_DEC_DIGITS, &v), TSR_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse("9223372036854.775808", TSR_DEC_DIGITS, &v), TSR_EVALUE);
    assert_int_equal(parse("100000000000000000000000000000", 2, &v), TSR_EVALUE);
    assert_int_equal(parse("99999999999999999999x", 2, &v), TSR_EPARSE);
    assert_int_equal(parse("0000000000000000000000000001.00", 2, &v), TSR_OK);
    assert_int_equal(v, 100);
    assert_int_equal(parse("1", 19, &v), TSR_EVALUE);   /* no int64 has 19 decimals */
}

static void test_format_fixed_pads_and_signs(void **state)
{
    static const struct {
        int64_t v;
        unsigned scale;
        const char *text;
    } cases[] = {
        {180000, 2, "1800.00"}, {-50, 2, "-0.50"}, {7, 0, "7"}, {-7, 0, "-7"},
        {5, 3, "0.005"}, {0, 2, "0.00"}, {0, 0, "0"}, {-1, 6, "-0.000001"},
        {INT64_MIN, 2, "-92233720368547758.08"}, {INT64_MAX, 2, "92233720368547758.07"},
        {INT64_MAX, 18, "9.223372036854775807"}, {INT64_MIN, 18, "-9.223372036854775808"},
        {1, 18, "0.000000000000000001"}, {INT64_MIN, 0, "-9223372036854775808"},
    };
    char buf[32];
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        size_t len = tsr__format_fixed(buf, cases[i].v, cases[i].scale);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(len, strlen(cases[i].text));
    }
}

static void test_format_decimal_trims_trailing_zeros(void **state)
{
    static const struct {
        int64_t v;
        const char *text;
    } cases[] = {
        {12500000, "12.5"}, {3000000, "3"}, {-500000, "-0.5"}, {0, "0"}, {1, "0.000001"},
        {-10, "-0.00001"}, {10000000, "10"}, {INT64_MIN, "-9223372036854.775808"},
        {INT64_MAX, "9223372036854.775807"}, {-1000000, "-1"},
    };
    char buf[32];
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        size_t len = tsr__format_decimal(buf, cases[i].v);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(len, strlen(cases[i].text));
    }
}

static void test_format_then_parse_round_trips(void **state)
{
    char buf[32];
    (void)state;
    for (int i = 0; i < 100000; i++) {
        int64_t v = next_i64(), back = 0;
        unsigned scale = (unsigned)(next_u64() % 19u);
        size_t len = tsr__format_fixed(buf, v, scale);
        assert_int_equal(tsr__parse_fixed(buf, len, scale, &back), TSR_OK);
        assert_true(back == v);
        len = tsr__format_decimal(buf, v);
        assert_int_equal(tsr__parse_fixed(buf, len, TSR_DEC_DIGITS, &back), TSR_OK);
        assert_true(back == v);
    }
}

/* ---------------------------------------------------------------------
 * Decimals and money.
 */
static void test_decimal_to_money_is_exact_or_refused(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(tsr__decimal_to_money(12500000, 2, &v), TSR_OK);   /* 12.5 */
    assert_int_equal(v, 1250);
    assert_int_equal(tsr__decimal_to_money(-12500000, 2, &v), TSR_OK);
    assert_int_equal(v, -1250);
    assert_int_equal(tsr__decimal_to_money(12345678, 2, &v), TSR_EVALUE);   /* 12.345678 */
    assert_int_equal(tsr__decimal_to_money(12345000, 3, &v), TSR_OK);      /* BHD */
    assert_int_equal(v, 12345);
    assert_int_equal(tsr__decimal_to_money(7000000, 0, &v), TSR_OK);       /* JPY */
    assert_int_equal(v, 7);
    assert_int_equal(tsr__decimal_to_money(7500000, 0, &v), TSR_EVALUE);
    assert_int_equal(tsr__decimal_to_money(1, 6, &v), TSR_OK);
    assert_int_equal(v, 1);
    assert_int_equal(tsr__decimal_to_money(1, 8, &v), TSR_OK);   /* beyond decimals: scaled up */
    assert_int_equal(v, 100);
    assert_int_equal(tsr__decimal_to_money(INT64_MAX, 8, &v), TSR_EVALUE);
    assert_int_equal(tsr__decimal_to_money(1, 40, &v), TSR_EVALUE);
}

static void test_money_to_decimal_is_exact_and_checks_overflow(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(tsr__money_to_decimal(1250, 2, &v), TSR_OK);
    assert_int_equal(v, 12500000);
    assert_int_equal(tsr__money_to_decimal(-7, 0, &v), TSR_OK);
    assert_int_equal(v, -7000000);
    assert_int_equal(tsr__money_to_decimal(INT64_MAX, 2, &v), TSR_EVALUE);
    assert_int_equal(tsr__money_to_decimal(INT64_MIN, 0, &v), TSR_EVALUE);
    assert_int_equal(tsr__money_to_decimal(100, 8, &v), TSR_OK);
    assert_int_equal(v, 1);
    assert_int_equal(tsr__money_to_decimal(101, 8, &v), TSR_EVALUE);
}

/* The products and quotients of money and decimals are tsr__muldiv with the
 * decimal scale, as expr_eval.c computes them. */
static void test_money_times_decimal_rounds_to_the_minor_unit(void **state)
{
    int64_t v = 0;
    (void)state;
    /* 19.99 * 0.5 = 9.995 */
    assert_true(tsr__muldiv(1999, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, 1000);
    assert_true(tsr__muldiv(1999, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN, &v));
    assert_int_equal(v, 1000);
    assert_true(tsr__muldiv(1999, 500000, TSR_DEC_SCALE, TSR_ROUND_DOWN, &v));
    assert_int_equal(v, 999);
    /* 19.97 * 0.5 = 9.985: half_even keeps 9.98 */
    assert_true(tsr__muldiv(1997, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN, &v));
    assert_int_equal(v, 998);
    assert_true(tsr__muldiv(-1997, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, -999);
    assert_false(tsr__muldiv(INT64_MAX, 2000000, TSR_DEC_SCALE, TSR_ROUND_DOWN, &v));
    assert_true(tsr__muldiv(INT64_MAX, TSR_DEC_SCALE, TSR_DEC_SCALE, TSR_ROUND_DOWN, &v));
    assert_true(v == INT64_MAX);
}

static void test_money_divided_by_money_is_a_rounded_decimal(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_true(tsr__muldiv(100, TSR_DEC_SCALE, 300, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, 333333);
    assert_true(tsr__muldiv(200, TSR_DEC_SCALE, 300, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, 666667);
    assert_true(tsr__muldiv(200, TSR_DEC_SCALE, 300, TSR_ROUND_DOWN, &v));
    assert_int_equal(v, 666666);
    assert_true(tsr__muldiv(-200, TSR_DEC_SCALE, 300, TSR_ROUND_HALF_EVEN, &v));
    assert_int_equal(v, -666667);
    assert_false(tsr__muldiv(1, TSR_DEC_SCALE, 0, TSR_ROUND_HALF_UP, &v));
    assert_false(tsr__muldiv(INT64_MAX, TSR_DEC_SCALE, 1, TSR_ROUND_HALF_UP, &v));
}

static void test_decimal_multiply_and_divide(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_true(tsr__muldiv(1500000, 1500000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &v));   /* 1.5 * 1.5 */
    assert_int_equal(v, 2250000);
    assert_true(tsr__muldiv(1, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_EVEN, &v));        /* 0.0000005 */
    assert_int_equal(v, 0);
    assert_true(tsr__muldiv(1, 500000, TSR_DEC_SCALE, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, 1);
    assert_true(tsr__muldiv(1000000, TSR_DEC_SCALE, 3000000, TSR_ROUND_HALF_UP, &v));   /* 1/3 */
    assert_int_equal(v, 333333);
    assert_true(tsr__muldiv(-2000000, TSR_DEC_SCALE, 3000000, TSR_ROUND_HALF_UP, &v));
    assert_int_equal(v, -666667);
    assert_true(tsr__muldiv(INT64_MAX, TSR_DEC_SCALE, TSR_DEC_SCALE, TSR_ROUND_DOWN, &v));
    assert_true(v == INT64_MAX);
    assert_false(tsr__muldiv(INT64_MAX, TSR_DEC_SCALE, 500000, TSR_ROUND_DOWN, &v));
    assert_false(tsr__muldiv(1, TSR_DEC_SCALE, 0, TSR_ROUND_DOWN, &v));
    assert_false(tsr__muldiv(INT64_MAX, INT64_MAX, TSR_DEC_SCALE, TSR_ROUND_DOWN, &v));
}

/* ---------------------------------------------------------------------
 * Currencies.
 */
static void test_currency_table_gives_iso_minor_units(void **state)
{
    static const struct {
        const char *code;
        int minor;
    } cases[] = {
        {"JPY", 0}, {"KRW", 0}, {"ISK", 0}, {"CLP", 0}, {"VND", 0}, {"XOF", 0},
        {"BHD", 3}, {"KWD", 3}, {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"LYD", 3}, {"IQD", 3},
        {"CLF", 4}, {"UYW", 4}, {"EUR", 2}, {"USD", 2}, {"RUB", 2}, {"GBP", 2}, {"CHF", 2},
        {"XCG", 2}, {"ZWG", 2}, {"SLE", 2}, {"AED", 2}, {"ZMW", 2},
    };
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++)
        if (tsr__currency_minor_units(cases[i].code) != cases[i].minor)
            fail_msg("%s: got %d, want %d", cases[i].code,
                     tsr__currency_minor_units(cases[i].code), cases[i].minor);
}

static void test_currency_table_refuses_unknown_lowercase_and_withdrawn_codes(void **state)
{
    static const char *const unknown[] = {
        "XXX", "XAU", "XDR", "XTS", "eur", "Eur", "EURO", "EU", "", "E1R", "HRK", "ZWL",
        "AAA", "ZZZ",
    };
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(unknown); i++)
        if (tsr__currency_minor_units(unknown[i]) != -1)
            fail_msg("\"%s\" should not be in the table", unknown[i]);
    assert_int_equal(tsr__currency_minor_units(NULL), -1);
}

static void test_currency_table_is_sorted_and_every_entry_is_found(void **state)
{
    (void)state;
    for (size_t i = 0; i < TSR_ARRAY_LEN(currencies); i++) {
        if (i > 0)
            assert_true(strcmp(currencies[i - 1].code, currencies[i].code) < 0);
        assert_int_equal(strlen(currencies[i].code), 3);
        assert_true(currencies[i].minor <= TSR_MAX_MINOR_UNITS);
        assert_int_equal(tsr__currency_minor_units(currencies[i].code), currencies[i].minor);
    }
    assert_true(TSR_ARRAY_LEN(currencies) >= 150);
}

/* ---------------------------------------------------------------------
 * Allocation.
 */
static void test_allocate_park_scenario_over_two_tickets(void **state)
{
    /* SPEC: 500.00 off over 2500.00 and 1800.00 -> 290.70 / 209.30 */
    const int64_t w[] = {250000, 180000};
    int64_t out[2];
    (void)state;
    assert_true(tsr__allocate(50000, w, 2, out));
    assert_int_equal(out[0], 29070);
    assert_int_equal(out[1], 20930);
}

static void test_allocate_family_pack_saving_over_four_units(void **state)
{
    /* 1600.00 saved over units of 2500, 2500, 1800, 1800 */
    const int64_t w[] = {250000, 250000, 180000, 180000};
    int64_t out[4] = {0};   /* gcc cannot see that a true return filled it */
    (void)state;
    assert_true(tsr__allocate(160000, w, 4, out));
    assert_int_equal(out[0], 46512);
    assert_int_equal(out[1], 46512);
    assert_int_equal(out[2], 33488);
    assert_int_equal(out[3], 33488);
}

static void test_allocate_ties_go_to_the_lower_index(void **state)
{
    const int64_t w3[] = {1, 1, 1};
    const int64_t w4[] = {2, 1, 1, 2};
    int64_t out[4] = {0};   /* gcc cannot see that a true return filled it */
    (void)state;
    assert_true(tsr__allocate(100, w3, 3, out));
    assert_int_equal(out[0], 34);
    assert_int_equal(out[1], 33);
    assert_int_equal(out[2], 33);
    assert_true(tsr__allocate(2, w3, 3, out));
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 0);
    /* 7 over 2,1,1,2 (W = 6): floors 2,1,1,2 = 6, remainders 2,1,1,2: the
     * single unit goes to index 0 (tied with 3, lower index wins). */
    assert_true(tsr__allocate(7, w4, 4, out));
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 1);
    assert_int_equal(out[3], 2);
}

static void test_allocate_zero_total_weight_splits_equally(void **state)
{
    const int64_t w[] = {0, 0, 0};
    int64_t out[3] = {0};   /* gcc cannot see that a true return filled it */
    (void)state;
    assert_true(tsr__allocate(10, w, 3, out));
    assert_int_equal(out[0], 4);
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 3);
    assert_true(tsr__allocate(0, w, 3, out));
    assert_int_equal(out[0] + out[1] + out[2], 0);
}

static void test_allocate_gives_nothing_to_zero_weight_lines(void **state)
{
    const int64_t w[] = {1, 0, 1, 0};
    int64_t out[4] = {0};   /* gcc cannot see that a true return filled it */
    (void)state;
    assert_true(tsr__allocate(11, w, 4, out));
    assert_int_equal(out[0], 6);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 5);
    assert_int_equal(out[3], 0);
}

static void test_allocate_refuses_negative_inputs_and_empty_targets(void **state)
{
    const int64_t w[] = {1, -1, 3};
    const int64_t ok[] = {1, 2};
    int64_t out[3];
    (void)state;
    assert_false(tsr__allocate(10, w, 3, out));
    assert_false(tsr__allocate(-1, ok, 2, out));
    assert_false(tsr__allocate(5, NULL, 0, NULL));
    assert_true(tsr__allocate(0, NULL, 0, NULL));
}

static void test_allocate_extreme_values_without_overflow(void **state)
{
    const int64_t big[] = {INT64_MAX / 2, INT64_MAX / 2};
    const int64_t too_big[] = {INT64_MAX, 1};
    const int64_t mixed[] = {1, INT64_MAX - 1};
    int64_t out[2];
    (void)state;
    assert_true(tsr__allocate(INT64_MAX, big, 2, out));
    assert_true(out[0] == INT64_MAX / 2 + 1 && out[1] == INT64_MAX / 2);
    assert_false(tsr__allocate(5, too_big, 2, out));   /* W overflows */
    assert_true(tsr__allocate(INT64_MAX, mixed, 2, out));
    assert_true(out[0] == 1 && out[1] == INT64_MAX - 1);
}

#ifdef HAVE_ORACLE
/* A straightforward reference: floors, then units to remainders ranked by
 * (remainder desc, index asc), found by repeated scanning. */
static void reference_allocate(int64_t amount, const int64_t *w, size_t n, int64_t *out)
{
    i128 total = 0;
    int64_t rem[64];
    bool taken[64] = {false};
    int64_t given = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    if (total == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = amount / (int64_t)n + ((int64_t)i < amount % (int64_t)n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        i128 p = (i128)amount * w[i];
        out[i] = (int64_t)(p / total);
        rem[i] = (int64_t)(p % total);
        given += out[i];
    }
    for (int64_t left = amount - given; left > 0; left--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && (best == n || rem[i] > rem[best]))
                best = i;
        taken[best] = true;
        out[best]++;
    }
}

static void test_allocate_matches_a_reference_on_random_inputs(void **state)
{
    int64_t w[64], out[64], want[64];
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + (size_t)(next_u64() % 64u);
        int kind = (int)(next_u64() % 4u);
        int64_t amount = kind == 0 ? (int64_t)(next_u64() % 100u)
                         : kind == 1 ? (int64_t)(next_u64() % 1000000u)
                                     : (int64_t)(next_u64() >> (1 + next_u64() % 63u));
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t cap = kind == 3 ? (INT64_MAX / 64) : 10000;
            w[i] = next_u64() % 5u == 0 ? 0 : (int64_t)(next_u64() % (uint64_t)cap);
            if (kind == 0)
                w[i] %= 4;   /* many equal weights: many ties */
            sum += w[i];
        }
        (void)sum;
        assert_true(tsr__allocate(amount, w, n, out));
        reference_allocate(amount, w, n, want);
        int64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            if (out[i] != want[i])
                fail_msg("iteration %d, line %zu: got %lld, want %lld", iter, i,
                         (long long)out[i], (long long)want[i]);
            total += out[i];
        }
        assert_true(total == amount);
    }
}
#else
static void test_allocate_matches_a_reference_on_random_inputs(void **state)
{
    (void)state;
    skip();   /* the reference needs a 128-bit type */
}
#endif

/* The short-order path (allocate_small, up to TSR_ALLOCATE_SMALL_MAX lines)
 * and the general one (remainder cut by binary search) must give the same
 * shares on the same input: ties, zero weights, huge amounts and weights. */
static void test_allocate_short_order_path_matches_general_path(void **state)
{
    int64_t w[TSR_ALLOCATE_SMALL_MAX], fast[TSR_ALLOCATE_SMALL_MAX],
        slow[TSR_ALLOCATE_SMALL_MAX];
    (void)state;
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = 2 + (size_t)(next_u64() % (TSR_ALLOCATE_SMALL_MAX - 1u));
        int kind = (int)(next_u64() % 5u);
        int64_t amount = kind == 0 ? (int64_t)(next_u64() % 100u)
                         : kind == 1 ? (int64_t)(next_u64() % 1000000u)
                         : kind == 4 ? INT32_MAX - (int64_t)(next_u64() % 3u)
                                     : (int64_t)(next_u64() >> (1 + next_u64() % 63u));
        int64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            /* kind 4: amount and total at the edge of the 64-bit product */
            int64_t cap = kind == 3   ? (INT64_MAX / TSR_ALLOCATE_SMALL_MAX)
                          : kind == 4 ? (INT32_MAX / (int64_t)n)
                                      : 10000;
            w[i] = next_u64() % 5u == 0 ? 0 : (int64_t)(next_u64() % (uint64_t)cap);
            if (kind == 0)
                w[i] %= 4;   /* many equal weights: many ties */
            total += w[i];
        }
        if (total == 0)
            continue;   /* split_evenly, before either path */
        assert_true(allocate_small(amount, w, n, total, fast));
        assert_true(allocate_general(amount, w, n, total, slow));
        for (size_t i = 0; i < n; i++)
            if (fast[i] != slow[i])
                fail_msg("iteration %d, line %zu of %zu: short path %lld, general %lld", iter,
                         i, n, (long long)fast[i], (long long)slow[i]);
    }
    /* The boundary itself: TSR_ALLOCATE_SMALL_MAX lines take the short path,
     * one more the general one, with the same leftover rule. */
    for (size_t i = 0; i < TSR_ALLOCATE_SMALL_MAX; i++)
        w[i] = 3;
    assert_true(tsr__allocate(TSR_ALLOCATE_SMALL_MAX * 3 + 5, w, TSR_ALLOCATE_SMALL_MAX, fast));
    for (size_t i = 0; i < TSR_ALLOCATE_SMALL_MAX; i++)
        assert_int_equal(fast[i], i < 5 ? 4 : 3);
}

/* tsr__allocate_small32 (earning's per rule, inline: no test for equal
 * weights, no check of its inputs) must give the general path's shares
 * over its whole domain: 1..16 lines, amount and total up to INT32_MAX,
 * zero weights, ties, every weight the same (where tsr__allocate_sum
 * splits evenly). */
static void test_allocate_inline_short_path_matches_general_path(void **state)
{
    int64_t w[TSR_ALLOCATE_SMALL_MAX], fast[TSR_ALLOCATE_SMALL_MAX],
        slow[TSR_ALLOCATE_SMALL_MAX];
    (void)state;
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = 1 + (size_t)(next_u64() % TSR_ALLOCATE_SMALL_MAX);
        int kind = (int)(next_u64() % 5u);
        int64_t amount = kind == 0   ? (int64_t)(next_u64() % 100u)
                         : kind == 1 ? (int64_t)(next_u64() % 1000000u)
                         : kind == 4 ? INT32_MAX - (int64_t)(next_u64() % 3u)
                                     : (int64_t)(next_u64() % ((uint64_t)INT32_MAX + 1u));
        int64_t cap = kind == 4 ? INT32_MAX / (int64_t)n : 10000, total = 0;
        bool equal = next_u64() % 4u == 0;
        for (size_t i = 0; i < n; i++) {
            w[i] = equal && i > 0 ? w[0]
                   : next_u64() % 5u == 0 ? 0
                                          : (int64_t)(next_u64() % (uint64_t)cap);
            if (kind == 0 && !equal)
                w[i] %= 4;   /* many equal weights: many ties */
            total += w[i];
        }
        if (total == 0)
            continue;   /* outside its domain: the caller has no points then */
        tsr__allocate_small32(amount, w, n, total, fast);
        if (equal)
            assert_true(tsr__allocate_sum(amount, w, n, total, true, slow));
        else if (n == 1)
            assert_true(tsr__allocate(amount, w, n, slow));
        else
            assert_true(allocate_general(amount, w, n, total, slow));
        for (size_t i = 0; i < n; i++)
            if (fast[i] != slow[i])
                fail_msg("iteration %d, line %zu of %zu: inline %lld, general %lld", iter, i,
                         n, (long long)fast[i], (long long)slow[i]);
    }
    /* the edge: both at INT32_MAX, one weight a unit below the total */
    w[0] = INT32_MAX - 1;
    w[1] = 1;
    tsr__allocate_small32(INT32_MAX, w, 2, INT32_MAX, fast);
    assert_int_equal(fast[0], INT32_MAX - 1);
    assert_int_equal(fast[1], 1);
}

/* tsr__allocate_sum (the caller summed the weights) must give what the
 * general path gives: with equal weights its split (amount / n each, the
 * leftover to the first lines) against the remainder ranking itself, short
 * orders and long, and otherwise tsr__allocate's shares. */
static void test_allocate_sum_equal_weights_match_the_ranking(void **state)
{
    enum { N = 40 };
    int64_t w[N], fast[N], slow[N];
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + (size_t)(next_u64() % N);
        int64_t each = next_u64() % 4u == 0 ? (int64_t)(next_u64() % 3u)
                                            : (int64_t)(next_u64() % 100000u);
        int64_t amount = next_u64() % 2u ? (int64_t)(next_u64() % 1000u)
                                         : (int64_t)(next_u64() >> (1 + next_u64() % 63u));
        int64_t total;
        for (size_t i = 0; i < n; i++)
            w[i] = each;
        if (__builtin_mul_overflow(each, (int64_t)n, &total))
            continue;
        assert_true(tsr__allocate_sum(amount, w, n, total, true, fast));
        if (n == 1 || total == 0)
            assert_true(tsr__allocate(amount, w, n, slow));
        else if (n <= TSR_ALLOCATE_SMALL_MAX)
            assert_true(allocate_small(amount, w, n, total, slow));
        else
            assert_true(allocate_general(amount, w, n, total, slow));
        for (size_t i = 0; i < n; i++)
            if (fast[i] != slow[i])
                fail_msg("iteration %d, line %zu of %zu: equal split %lld, ranking %lld", iter,
                         i, n, (long long)fast[i], (long long)slow[i]);
    }
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + (size_t)(next_u64() % N);
        int64_t amount = (int64_t)(next_u64() % 100000u), total = 0;
        for (size_t i = 0; i < n; i++) {
            w[i] = next_u64() % 4u == 0 ? 0 : (int64_t)(next_u64() % 1000000u);
            total += w[i];
        }
        assert_true(tsr__allocate_sum(amount, w, n, total, false, fast));
        assert_true(tsr__allocate(amount, w, n, slow));
        for (size_t i = 0; i < n; i++)
            if (fast[i] != slow[i])
                fail_msg("iteration %d, line %zu of %zu: summed %lld, tsr__allocate %lld", iter,
                         i, n, (long long)fast[i], (long long)slow[i]);
    }
    /* as tsr__allocate: a negative amount is refused, nothing to give to
     * takes only nothing */
    assert_false(tsr__allocate_sum(-1, w, 2, 0, true, fast));
    assert_true(tsr__allocate_sum(0, NULL, 0, 0, true, NULL));
    assert_false(tsr__allocate_sum(1, NULL, 0, 0, true, NULL));
}

static void test_allocate_over_ten_thousand_lines_stays_linear(void **state)
{
    enum { N = 10000 };
    static int64_t w[N], out[N];
    (void)state;
    /* 29999 over 10000 equal weights: 2 each and 9999 leftover units, the
     * worst case for picking leftovers one at a time. */
    for (size_t i = 0; i < N; i++)
        w[i] = 7;
    assert_true(tsr__allocate(29999, w, N, out));
    for (size_t i = 0; i < N; i++)
        assert_int_equal(out[i], i < N - 1 ? 3 : 2);
    /* Distinct remainders everywhere. */
    for (size_t i = 0; i < N; i++)
        w[i] = (int64_t)(i * 7919 % 10007) + 1;
    assert_true(tsr__allocate(INT64_C(123456789), w, N, out));
    int64_t total = 0;
    for (size_t i = 0; i < N; i++)
        total += out[i];
    assert_true(total == INT64_C(123456789));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_refuses_overflow_and_leaves_out_untouched),
        cmocka_unit_test(test_sub_refuses_overflow_and_leaves_out_untouched),
        cmocka_unit_test(test_mul_refuses_overflow_including_int64_min_times_minus_one),
        cmocka_unit_test(test_portable_checked_ops_agree_with_library_ops),
        cmocka_unit_test(test_pow10_covers_0_to_18_and_refuses_beyond),
        cmocka_unit_test(test_muldiv_is_exact_beyond_64_bit_products),
        cmocka_unit_test(test_muldiv_refuses_quotient_overflow_zero_divisor_and_bad_mode),
        cmocka_unit_test(test_half_up_rounds_away_from_zero_on_exact_half),
        cmocka_unit_test(test_half_even_rounds_to_even_on_exact_half),
        cmocka_unit_test(test_down_truncates_toward_zero),
        cmocka_unit_test(test_spec_example_twelve_and_a_half_percent_of_8_20),
        cmocka_unit_test(test_muldiv_portable_path_matches_native_path_and_oracle),
        cmocka_unit_test(test_portable_128_bit_multiply_and_divide_are_exact),
        cmocka_unit_test(test_parse_money_accepts_excess_zero_digits),
        cmocka_unit_test(test_parse_money_refuses_nonzero_digits_beyond_minor_units),
        cmocka_unit_test(test_parse_negative_values),
        cmocka_unit_test(test_parse_refuses_what_is_not_a_plain_decimal),
        cmocka_unit_test(test_parse_reads_exactly_n_bytes),
        cmocka_unit_test(test_parse_huge_values_up_to_the_int64_limits),
        cmocka_unit_test(test_format_fixed_pads_and_signs),
        cmocka_unit_test(test_format_decimal_trims_trailing_zeros),
        cmocka_unit_test(test_format_then_parse_round_trips),
        cmocka_unit_test(test_decimal_to_money_is_exact_or_refused),
        cmocka_unit_test(test_money_to_decimal_is_exact_and_checks_overflow),
        cmocka_unit_test(test_money_times_decimal_rounds_to_the_minor_unit),
        cmocka_unit_test(test_money_divided_by_money_is_a_rounded_decimal),
        cmocka_unit_test(test_decimal_multiply_and_divide),
        cmocka_unit_test(test_currency_table_gives_iso_minor_units),
        cmocka_unit_test(test_currency_table_refuses_unknown_lowercase_and_withdrawn_codes),
        cmocka_unit_test(test_currency_table_is_sorted_and_every_entry_is_found),
        cmocka_unit_test(test_allocate_park_scenario_over_two_tickets),
        cmocka_unit_test(test_allocate_family_pack_saving_over_four_units),
        cmocka_unit_test(test_allocate_ties_go_to_the_lower_index),
        cmocka_unit_test(test_allocate_zero_total_weight_splits_equally),
        cmocka_unit_test(test_allocate_gives_nothing_to_zero_weight_lines),
        cmocka_unit_test(test_allocate_refuses_negative_inputs_and_empty_targets),
        cmocka_unit_test(test_allocate_extreme_values_without_overflow),
        cmocka_unit_test(test_allocate_matches_a_reference_on_random_inputs),
        cmocka_unit_test(test_allocate_short_order_path_matches_general_path),
        cmocka_unit_test(test_allocate_inline_short_path_matches_general_path),
        cmocka_unit_test(test_allocate_sum_equal_weights_match_the_ranking),
        cmocka_unit_test(test_allocate_over_ten_thousand_lines_stays_linear),
        cmocka_unit_test(test_parse_common_form_agrees_with_the_general_way),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
