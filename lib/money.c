/*
 * money.c — exact numbers for the whole library: overflow-checked int64
 * arithmetic, a multiply-divide with an exact 128-bit intermediate and the
 * rule set's rounding modes, fixed-point parsing and formatting, decimal <->
 * money conversions, the ISO 4217 minor-unit table and largest-remainder
 * allocation.  No floating point anywhere (see money.h for the value model).
 *
 * Two implementations of the low-level pieces live side by side: compiler
 * built-ins / unsigned __int128 where the compiler has them, and portable C
 * everywhere else.  The portable code is compiled where it is the
 * library's, and where TSR_MONEY_BOTH_PATHS is defined: by
 * tests/unit/test_money.c, which includes this file to check one against
 * the other on any machine.  Defining TSR_NO_INT128 or
 * TSR_NO_BUILTIN_OVERFLOW forces the portable code into the library itself.
 */
#include "money.h"

#if defined(__SIZEOF_INT128__) && !defined(TSR_NO_INT128)
#  define HAVE_INT128 1
__extension__ typedef unsigned __int128 u128;   /* __extension__: quiet under -pedantic */
#endif

#if !defined(TSR_HAVE_BUILTIN_OVERFLOW) || defined(TSR_MONEY_BOTH_PATHS)
#  define PORTABLE_CHECKED 1
#endif
#if !defined(HAVE_INT128) || defined(TSR_MONEY_BOTH_PATHS)
#  define PORTABLE_MULDIV 1
#endif

#define INT64_MIN_MAG ((uint64_t)INT64_MAX + 1u)

/* ---------------------------------------------------------------------
 * Sign and magnitude.  Working on magnitudes lets INT64_MIN through
 * without undefined behaviour, and all three rounding modes are symmetric
 * about zero, so rounding a magnitude and then applying the sign is exact.
 */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
}

/* False when the signed value does not fit int64. */
static bool from_magnitude(uint64_t m, bool negative, int64_t *out)
{
    if (negative) {
        if (m > INT64_MIN_MAG)
            return false;
        /* -(m - 1) - 1 avoids negating 2^63, which has no int64 form. */
        *out = m == 0 ? 0 : -(int64_t)(m - 1u) - 1;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)m;
    }
    return true;
}

/* ---------------------------------------------------------------------
 * Checked int64 arithmetic.
 */
#ifdef PORTABLE_CHECKED
static bool add_portable(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return false;
    *out = a + b;
    return true;
}

static bool sub_portable(int64_t a, int64_t b, int64_t *out)
{
    if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
        return false;
    *out = a - b;
    return true;
}

static bool mul_portable(int64_t a, int64_t b, int64_t *out)
{
    uint64_t ma = magnitude(a), mb = magnitude(b);
    if (ma != 0 && mb > UINT64_MAX / ma)
        return false;
    return from_magnitude(ma * mb, (a < 0) != (b < 0), out);
}
#endif

/* With the overflow built-ins these are inline in money.h. */
#ifndef TSR_HAVE_BUILTIN_OVERFLOW
bool tsr__add(int64_t a, int64_t b, int64_t *out)
{
    return add_portable(a, b, out);
}

bool tsr__sub(int64_t a, int64_t b, int64_t *out)
{
    return sub_portable(a, b, out);
}

bool tsr__mul(int64_t a, int64_t b, int64_t *out)
{
    return mul_portable(a, b, out);
}
#endif

static const int64_t pow10_table[19] = {
    INT64_C(1), INT64_C(10), INT64_C(100), INT64_C(1000), INT64_C(10000), INT64_C(100000),
    INT64_C(1000000), INT64_C(10000000), INT64_C(100000000), INT64_C(1000000000),
    INT64_C(10000000000), INT64_C(100000000000), INT64_C(1000000000000),
    INT64_C(10000000000000), INT64_C(100000000000000), INT64_C(1000000000000000),
    INT64_C(10000000000000000), INT64_C(100000000000000000), INT64_C(1000000000000000000),
};

int64_t tsr__pow10(unsigned n)
{
    /* 0 rather than a wrong power: a caller that divides by it fails its
     * own d != 0 check instead of computing nonsense. */
    return n < TSR_ARRAY_LEN(pow10_table) ? pow10_table[n] : 0;
}

/* ---------------------------------------------------------------------
 * Unsigned a * b / d with a 128-bit intermediate.  Both variants return
 * false when the quotient needs more than 64 bits; d != 0.
 */
typedef bool (*umuldiv_fn)(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r);

#ifdef PORTABLE_MULDIV
/* Schoolbook multiply on 32-bit halves.  The middle sum is below 2^34, so
 * nothing is lost before it is split into the two words. */
static void umul128_portable(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    const uint64_t mask = UINT64_C(0xffffffff);
    uint64_t a0 = a & mask, a1 = a >> 32, b0 = b & mask, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & mask) + (p10 & mask);
    *lo = (mid << 32) | (p00 & mask);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* (hi:lo) / d for hi < d, so the quotient fits 64 bits.  Restoring long
 * division, one quotient bit per step: slower than a hardware divide, but
 * short enough to check by eye, and only used where the compiler has no
 * 128-bit type.  The running remainder stays below d; after the shift it
 * is below 2d, which may carry out of 64 bits — then it certainly exceeds
 * d, and the wrapped subtraction gives the right (sub-d) result. */
static void udiv128_portable(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r)
{
    uint64_t rem = hi, quo = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | ((lo >> bit) & 1u);
        quo <<= 1;
        if (carry || rem >= d) {
            rem -= d;
            quo |= 1u;
        }
    }
    *q = quo;
    *r = rem;
}

static bool umuldiv_portable(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r)
{
    uint64_t hi, lo;
    umul128_portable(a, b, &hi, &lo);
    if (hi >= d)
        return false;
    udiv128_portable(hi, lo, d, q, r);
    return true;
}
#endif

#ifdef HAVE_INT128
static bool umuldiv_native(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r)
{
    u128 p = (u128)a * b;
    u128 quo;
    /* Most products (money × a small count or a scale-6 percent) fit 64
     * bits: a 64-bit divide is then exact and much cheaper than the
     * 128-bit library division (__udivmodti4) it replaces. */
    if (!(p >> 64)) {
        uint64_t lo = (uint64_t)p;
        *q = lo / d;
        *r = lo % d;
        return true;
    }
    quo = p / d;
    if (quo >> 64)
        return false;
    *q = (uint64_t)quo;
    *r = (uint64_t)(p % d);
    return true;
}
#  define umuldiv umuldiv_native
#else
#  define umuldiv umuldiv_portable
#endif

/* Whether the magnitude q (with remainder r of divisor d, 0 < r < d) moves
 * one step away from zero.  Comparing r with d - r is comparing 2r with d
 * without overflow (d may be 2^63). */
static bool rounds_away(tsr_rounding mode, uint64_t q, uint64_t r, uint64_t d)
{
    uint64_t rest = d - r;
    switch (mode) {
    case TSR_ROUND_HALF_UP:
        return r >= rest;
    case TSR_ROUND_HALF_EVEN:
        return r > rest || (r == rest && (q & 1u));
    case TSR_ROUND_DOWN:
        return false;
    }
    return false;
}

static bool valid_mode(tsr_rounding mode)
{
    return mode == TSR_ROUND_HALF_UP || mode == TSR_ROUND_HALF_EVEN || mode == TSR_ROUND_DOWN;
}

static bool muldiv_with(umuldiv_fn f, int64_t a, int64_t b, int64_t d, tsr_rounding mode,
                        int64_t *out)
{
    uint64_t md = magnitude(d), q, r;
    if (d == 0 || !valid_mode(mode))
        return false;
    if (!f(magnitude(a), magnitude(b), md, &q, &r))
        return false;
    if (r != 0 && rounds_away(mode, q, r, md)) {
        if (q == UINT64_MAX)
            return false;
        q++;
    }
    return from_magnitude(q, ((a < 0) != (b < 0)) != (d < 0), out);
}

bool tsr__muldiv(int64_t a, int64_t b, int64_t d, tsr_rounding mode, int64_t *out)
{
    return muldiv_with(umuldiv, a, b, d, mode, out);
}

static bool muldiv_floor_rem_with(umuldiv_fn f, int64_t a, int64_t b, int64_t d, int64_t *q,
                                  int64_t *rem)
{
    uint64_t uq, ur;
    if (a < 0 || b < 0 || d <= 0)
        return false;
    if (!f((uint64_t)a, (uint64_t)b, (uint64_t)d, &uq, &ur) || uq > (uint64_t)INT64_MAX)
        return false;
    *q = (int64_t)uq;
    *rem = (int64_t)ur;   /* ur < d <= INT64_MAX */
    return true;
}

bool tsr__muldiv_floor_rem_wide(int64_t a, int64_t b, int64_t d, int64_t *q, int64_t *rem)
{
    return muldiv_floor_rem_with(umuldiv, a, b, d, q, rem);
}

/* ---------------------------------------------------------------------
 * Fixed-point text.
 */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';   /* not isdigit(): no locale, no sign extension */
}

/* v * 10 + digit, refusing to pass `limit`. */
static bool push_digit(uint64_t *v, unsigned digit, uint64_t limit)
{
    if (*v > (limit - digit) / 10u)
        return false;
    *v = *v * 10u + digit;
    return true;
}

int tsr__parse_fixed(const char *s, size_t n, unsigned scale_digits, int64_t *out)
{
    size_t i = 0, int_begin, int_end, frac_begin = 0, frac_end = 0;
    bool negative = false;

    if (s == NULL)
        return TSR_EPARSE;
    /* Money as prices are written, "24.99": digits, '.', as many decimals
     * as the scale (at most 18 digits in all), by fixed positions; the
     * same value as the loop below gives it. */
    if (scale_digits == 2 && n >= 4 && n <= 19 && s[n - 3] == '.') {
        unsigned d1 = (unsigned)(unsigned char)s[n - 2] - '0';
        unsigned d2 = (unsigned)(unsigned char)s[n - 1] - '0';
        uint64_t v = 0;
        size_t k;

        for (k = 0; k < n - 3; k++) {
            unsigned d = (unsigned)(unsigned char)s[k] - '0';
            if (d >= 10)
                break;
            v = v * 10u + d;
        }
        if (k == n - 3 && d1 < 10 && d2 < 10) {
            *out = (int64_t)(v * 100u + (uint64_t)(d1 * 10u + d2));
            return TSR_OK;
        }
    }
    /* The common form in one pass: unsigned digits with at most one '.'
     * inside them, no more decimals than the scale, at most 18 digits once
     * scaled -- what the general way below computes without its checks of
     * range.  Anything else is left to it. */
    if (n != 0 && n <= 19 && scale_digits < TSR_ARRAY_LEN(pow10_table)) {
        uint64_t v = 0;
        size_t dot = SIZE_MAX;

        for (; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)s[i] - '0';
            if (d < 10)
                v = v * 10u + d;
            else if (s[i] == '.' && dot == SIZE_MAX)
                dot = i;
            else
                break;
        }
        if (i == n && dot != 0 && dot != n - 1) {
            size_t frac = dot == SIZE_MAX ? 0 : n - dot - 1, digits = n - (dot != SIZE_MAX);
            if (frac <= scale_digits && digits - frac + scale_digits <= 18) {
                *out = (int64_t)(v * (uint64_t)pow10_table[scale_digits - frac]);
                return TSR_OK;
            }
        }
        i = 0;
    }
    /* Syntax first, so that "99999999999999999999x" is a parse error rather
     * than a range error. */
    if (i < n && s[i] == '-') {
        negative = true;
        i++;
    }
    int_begin = i;
    while (i < n && is_digit(s[i]))
        i++;
    int_end = i;
    if (int_end == int_begin)
        return TSR_EPARSE;
    if (i < n && s[i] == '.') {
        frac_begin = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_begin)   /* "1." */
            return TSR_EPARSE;
    }
    if (i != n)
        return TSR_EPARSE;
    if (scale_digits >= TSR_ARRAY_LEN(pow10_table))
        return TSR_EVALUE;

    uint64_t limit = negative ? INT64_MIN_MAG : (uint64_t)INT64_MAX, v = 0;
    size_t frac_len = frac_end - frac_begin;
    size_t kept = frac_len < scale_digits ? frac_len : scale_digits;

    for (i = kept; i < frac_len; i++)   /* "1.500" is 1.50; "1.505" loses a digit */
        if (s[frac_begin + i] != '0')
            return TSR_EVALUE;
    if ((int_end - int_begin) + scale_digits <= 18) {
        /* At most 18 digits in all: below 10^18, no need to check each
         * step (prices and quantities as orders give them). */
        for (i = int_begin; i < int_end; i++)
            v = v * 10u + (unsigned)(s[i] - '0');
        for (i = 0; i < kept; i++)
            v = v * 10u + (unsigned)(s[frac_begin + i] - '0');
        v *= (uint64_t)pow10_table[scale_digits - kept];
        *out = negative ? -(int64_t)v : (int64_t)v;
        return TSR_OK;
    }
    for (i = int_begin; i < int_end; i++)
        if (!push_digit(&v, (unsigned)(s[i] - '0'), limit))
            return TSR_EVALUE;
    for (i = 0; i < kept; i++)
        if (!push_digit(&v, (unsigned)(s[frac_begin + i] - '0'), limit))
            return TSR_EVALUE;
    for (i = kept; i < scale_digits; i++)
        if (!push_digit(&v, 0, limit))
            return TSR_EVALUE;
    return from_magnitude(v, negative, out) ? TSR_OK : TSR_EVALUE;
}

size_t tsr__format_fixed(char *buf, int64_t v, unsigned scale_digits)
{
    /* Digits least significant first, padded so there is at least one digit
     * before the point: 5 at scale 2 is "0.05". */
    char digits[24];
    size_t nd = 0, len = 0;
    uint64_t m = magnitude(v);

    if (scale_digits > 18)   /* the largest scale an int64 can carry */
        scale_digits = 18;
    do {
        digits[nd++] = (char)('0' + m % 10u);
        m /= 10u;
    } while (m != 0);
    while (nd < scale_digits + 1u)
        digits[nd++] = '0';
    if (v < 0)
        buf[len++] = '-';
    while (nd-- > 0) {
        buf[len++] = digits[nd];
        if (nd == scale_digits && scale_digits > 0)
            buf[len++] = '.';
    }
    buf[len] = '\0';
    return len;
}

size_t tsr__format_decimal(char *buf, int64_t v)
{
    size_t len = tsr__format_fixed(buf, v, TSR_DEC_DIGITS);
    while (buf[len - 1] == '0')   /* scale 6 always writes a '.', which stops this */
        len--;
    if (buf[len - 1] == '.')
        len--;
    buf[len] = '\0';
    return len;
}

/* ---------------------------------------------------------------------
 * Decimals and money.
 */
int tsr__decimal_to_money(int64_t dec, unsigned minor, int64_t *out)
{
    if (minor <= TSR_DEC_DIGITS) {
        int64_t unit = tsr__pow10(TSR_DEC_DIGITS - minor);
        if (dec % unit != 0)
            return TSR_EVALUE;
        *out = dec / unit;
        return TSR_OK;
    }
    int64_t scale = tsr__pow10(minor - TSR_DEC_DIGITS);
    return scale != 0 && tsr__mul(dec, scale, out) ? TSR_OK : TSR_EVALUE;
}

int tsr__money_to_decimal(int64_t money, unsigned minor, int64_t *out)
{
    if (minor <= TSR_DEC_DIGITS)
        return tsr__mul(money, tsr__pow10(TSR_DEC_DIGITS - minor), out) ? TSR_OK : TSR_EVALUE;
    /* More minor digits than a decimal keeps: exact only without them. */
    int64_t unit = tsr__pow10(minor - TSR_DEC_DIGITS);
    if (unit == 0 || money % unit != 0)
        return TSR_EVALUE;
    *out = money / unit;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * ISO 4217 minor units: the active codes of List One as published
 * 2026-01-01, sorted by code for binary search.  Codes whose minor unit is
 * "N.A." (XAU, XDR, XXX, ...) are left out, as are withdrawn codes (HRK,
 * BGN, ANG, CUC, SLL, ZWL): a rule set using one of them gives
 * `minor_units:` itself.
 */
static const struct currency {
    char code[4];
    unsigned char minor;
} currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2},
    {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
    {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2},
    {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2},
    {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3},
    {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2},
    {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2},
    {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
    {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2},
    {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2},
    {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0},
    {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0},
    {"WST", 2}, {"XAD", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0},
    {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

int tsr__currency_minor_units(const char *code)
{
    size_t lo = 0, hi = TSR_ARRAY_LEN(currencies);

    /* Exactly three capital letters: ISO codes are upper case, and a longer
     * string must not match on its first three characters. */
    if (code == NULL)
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return -1;
    if (code[3] != '\0')
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(code, currencies[mid].code, 3);
        if (c == 0)
            return currencies[mid].minor;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* ---------------------------------------------------------------------
 * Largest-remainder allocation.
 */

/* W == 0: every line weighs the same, so the shares differ by at most one
 * unit and the extra units go to the first lines (the tie rule). */
static void split_evenly(int64_t amount, size_t n, int64_t *out)
{
    uint64_t share = (uint64_t)amount / n, extra = (uint64_t)amount % n;
    for (size_t i = 0; i < n; i++)
        out[i] = (int64_t)(share + (i < extra ? 1u : 0u));
}

static size_t count_at_least(const int64_t *rem, size_t n, int64_t t)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += rem[i] >= t;
    return c;
}

/* The remainder of the last line to get a leftover unit: the largest t
 * with at least `left` remainders >= t.  Binary search over the value
 * range costs ~64 passes over rem[] whatever n and `left` are, where
 * picking the maximum `left` times would be O(n^2) on a 10,000-line order
 * (a short order does just that: allocate_small).
 * Since sum(rem) = left * W and every rem < W, more than `left`
 * remainders are positive, so t = 1 always qualifies. */
static int64_t remainder_cut(const int64_t *rem, size_t n, size_t left, int64_t total)
{
    int64_t lo = 1, hi = total - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2 + 1;
        if (count_at_least(rem, n, mid) >= left)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* The same allocation for an order of a few lines (every order a till
 * sends): floors and remainders in one pass, the remainders on the stack,
 * then each leftover unit to the largest remainder not yet served, the
 * earlier line on ties (strictly greater replaces) — the rule itself, in
 * O(n * left) with left < n <= TSR_ALLOCATE_SMALL_MAX.  As in the general
 * path, more than `left` remainders are positive, so no line with a zero
 * remainder is ever served.  total > 0, every w[i] >= 0. */
static bool allocate_small(int64_t amount, const int64_t *w, size_t n, int64_t total,
                           int64_t *out)
{
    int64_t rem[TSR_ALLOCATE_SMALL_MAX], given = 0, q, r, t1 = -1;
    size_t i, b1 = 0;

    if (amount <= INT32_MAX && total <= INT32_MAX) {
        /* Points over a till's order: one 64-bit product and division. */
        tsr__allocate_small32(amount, w, n, total, out);
        return true;
    }
    for (i = 0; i < n; i++) {
        if (!muldiv_floor_rem_with(umuldiv, amount, w[i], total, &q, &r))
            return false;
        out[i] = q;
        rem[i] = r;
        given += q;   /* the floors add up to at most `amount` */
        if (r > t1) {   /* the first leftover unit's line */
            t1 = r;
            b1 = i;
        }
    }
    tsr__allocate_leftovers(out, rem, n, (uint64_t)(amount - given), b1);
    return true;
}

/* The general path: any n, no memory but out[]. */
static bool allocate_general(int64_t amount, const int64_t *w, size_t n, int64_t total,
                             int64_t *out)
{
    int64_t given = 0, q, r, cut;
    size_t left, ties_taken;

    /* First pass: out[] holds each line's remainder (the fractional part
     * times W), which is all the ranking needs; the floors are recomputed
     * at the end rather than kept in memory we may not allocate. */
    for (size_t i = 0; i < n; i++) {
        if (!tsr__muldiv_floor_rem(amount, w[i], total, &q, &r))
            return false;
        given += q;   /* the floors add up to at most `amount` */
        out[i] = r;
    }
    left = (size_t)(amount - given);   /* < n: see remainder_cut */
    cut = left > 0 ? remainder_cut(out, n, left, total) : total;   /* total: nobody */
    /* Lines above the cut all get a unit; lines exactly at it share what
     * is left, earliest first. */
    ties_taken = left - (left > 0 ? count_at_least(out, n, cut + 1) : 0);
    for (size_t i = 0; i < n; i++) {
        bool extra = out[i] > cut;
        if (!extra && out[i] == cut && ties_taken > 0) {
            extra = true;
            ties_taken--;
        }
        if (!tsr__muldiv_floor_rem(amount, w[i], total, &q, &r))
            return false;   /* cannot happen: the first pass computed it */
        out[i] = q + (extra ? 1 : 0);
    }
    return true;
}

bool tsr__allocate(int64_t amount, const int64_t *w, size_t n, int64_t *out)
{
    int64_t total = 0;

    if (amount < 0)
        return false;
    if (n == 0)
        return amount == 0;   /* nothing to give to */
    if (n == 1) {
        /* One line takes everything, whatever its weight (amount·w/w, or
         * split_evenly over one line): skip the divisions. */
        if (w[0] < 0)
            return false;
        out[0] = amount;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (w[i] < 0 || !tsr__add(total, w[i], &total))
            return false;
    return tsr__allocate_sum(amount, w, n, total, false, out);
}

bool tsr__allocate_sum(int64_t amount, const int64_t *w, size_t n, int64_t total, bool equal,
                       int64_t *out)
{
    if (amount < 0 || n == 0)
        return amount == 0 && n == 0;
    if (n == 1) {
        out[0] = amount;
        return true;
    }
    /* equal weights (all zero included): amount * w / (n * w) = amount / n
     * for every line, the same remainder for each, so the leftover units go
     * to the first lines */
    if (total == 0 || equal) {
        split_evenly(amount, n, out);
        return true;
    }
    return n <= TSR_ALLOCATE_SMALL_MAX ? allocate_small(amount, w, n, total, out)
                                       : allocate_general(amount, w, n, total, out);
}
