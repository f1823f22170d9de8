/*
 * money.h — exact numbers: overflow-checked int64 arithmetic, decimals and
 * money.  No floating point anywhere.
 *
 *   int      int64_t
 *   decimal  int64_t scaled by 10^6 (TSR_DEC_SCALE): 12.5 is 12500000
 *   money    int64_t in the currency's minor units: 12.50 EUR is 1250
 *
 * Every function that can overflow returns false (or TSR_EVALUE) instead of
 * wrapping.  Rounding modes are those of a rule set's `rounding:`.
 */
#ifndef TSR_MONEY_H
#define TSR_MONEY_H

#include "internal.h"

#define TSR_DEC_DIGITS 6
#define TSR_DEC_SCALE INT64_C(1000000)
#define TSR_MAX_MINOR_UNITS 6

typedef enum tsr_rounding {
    TSR_ROUND_HALF_UP = 0,    /* away from zero on .5 (commercial rounding) */
    TSR_ROUND_HALF_EVEN,      /* banker's rounding */
    TSR_ROUND_DOWN            /* toward zero */
} tsr_rounding;

/* Checked int64 arithmetic: false on overflow (*out untouched).  Where the
 * compiler has the overflow built-ins (gcc >= 5, clang) they are inline:
 * every step of an evaluation adds money, and a call per sum cost more than
 * the sum.  Elsewhere (or with TSR_NO_BUILTIN_OVERFLOW) money.c has portable
 * versions out of line. */
#if !defined(TSR_NO_BUILTIN_OVERFLOW)
#  if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 5
#    define TSR_HAVE_BUILTIN_OVERFLOW 1
#  elif defined(__has_builtin)
#    if __has_builtin(__builtin_add_overflow) && __has_builtin(__builtin_sub_overflow) && \
        __has_builtin(__builtin_mul_overflow)
#      define TSR_HAVE_BUILTIN_OVERFLOW 1
#    endif
#  endif
#endif

#ifdef TSR_HAVE_BUILTIN_OVERFLOW
static inline bool tsr__add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool tsr__sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool tsr__mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}
#else
bool tsr__add(int64_t a, int64_t b, int64_t *out);
bool tsr__sub(int64_t a, int64_t b, int64_t *out);
bool tsr__mul(int64_t a, int64_t b, int64_t *out);
#endif

/* 10^n for n in 0..18; 0 for larger n (no int64 holds it). */
int64_t tsr__pow10(unsigned n);

/* a * b / d rounded with `mode`, exact (128-bit intermediate, portable);
 * false when d == 0, the mode is unknown or the result does not fit int64. */
bool tsr__muldiv(int64_t a, int64_t b, int64_t d, tsr_rounding mode, int64_t *out);

/* floor(a * b / d) for a, b >= 0, d > 0, plus the remainder (for largest-
 * remainder allocation): false on overflow or when a, b or d is out of
 * that range.  Inline for a, b below 2^31 (money of a line times a count
 * or a percent: the product fits 62 bits, one division), out of line
 * (tsr__muldiv_floor_rem_wide, 128-bit product) for the rest. */
bool tsr__muldiv_floor_rem_wide(int64_t a, int64_t b, int64_t d, int64_t *q, int64_t *rem);

static inline bool tsr__muldiv_floor_rem(int64_t a, int64_t b, int64_t d, int64_t *q,
                                         int64_t *rem)
{
    if ((uint64_t)a <= INT32_MAX && (uint64_t)b <= INT32_MAX && d > 0) {
        uint64_t p = (uint64_t)a * (uint64_t)b;
        *q = (int64_t)(p / (uint64_t)d);
        *rem = (int64_t)(p % (uint64_t)d);
        return true;
    }
    return tsr__muldiv_floor_rem_wide(a, b, d, q, rem);
}

/* Parse a decimal number: optional '-', digits, optional '.' and digits.
 * No exponent, no '+', no leading or trailing '.', no spaces; leading zeros
 * are accepted.  `scale_digits` (0..18) is the number of fractional digits
 * kept (6 for decimals, the currency's minor units for money); fractional
 * digits beyond it must be zeros ("1.500" as money with 2 digits is 1.50,
 * "1.505" is an error).  Exactly s[0..n) is read; *out is set only on TSR_OK.
 * Returns TSR_OK, TSR_EPARSE (not a number; checked first) or TSR_EVALUE
 * (a non-zero digit beyond the scale, out of int64 range, scale > 18). */
int tsr__parse_fixed(const char *s, size_t n, unsigned scale_digits, int64_t *out);

/* Format a fixed-point value with exactly `scale_digits` fractional digits
 * (0..18; larger is treated as 18) ("1800.00", "-0.50", "7"); returns the
 * length written, NUL not counted.  buf needs 32 bytes. */
size_t tsr__format_fixed(char *buf, int64_t v, unsigned scale_digits);

/* Format a decimal (scale 6) with trailing zeros trimmed ("12.5", "3"). */
size_t tsr__format_decimal(char *buf, int64_t v);

/* Convert between decimals and money of a currency with `minor` digits.
 * dec -> money is exact or fails (TSR_EVALUE) when digits would be lost
 * (or, for minor > 6, on overflow). */
int tsr__decimal_to_money(int64_t dec, unsigned minor, int64_t *out);
/* money -> decimal: exact; fails (TSR_EVALUE) on overflow, or for minor > 6
 * when the money has digits a decimal cannot keep. */
int tsr__money_to_decimal(int64_t money, unsigned minor, int64_t *out);

/* Currency table (ISO 4217).  Returns the minor units of an active ISO code
 * (e.g. "EUR" 2, "JPY" 0, "BHD" 3), or -1 when the code is not in the table. */
int tsr__currency_minor_units(const char *code);

/* Largest-remainder allocation of `amount` (>= 0) over n weights (>= 0):
 * out[i] = floor(amount * w[i] / W), then the units left over go one each
 * to the largest remainders, ties to the lower index.  With W == 0 the
 * amount is split as if all weights were equal.  Returns false when
 * amount or a weight is negative, W overflows int64, or n == 0 with
 * amount > 0; out[] is unspecified then.  Does not allocate (out[] holds
 * the remainders meanwhile) and runs in O(n * 64): the cut-off remainder
 * is found by binary search over its value, not by n picks. */
bool tsr__allocate(int64_t amount, const int64_t *w, size_t n, int64_t *out);

/* tsr__allocate for a caller that has summed the weights already (every
 * w[i] >= 0, total their sum, computed with overflow checks): the same
 * shares, without checking and summing them again.  equal: the caller saw
 * every weight equal, so each line takes amount / n and the first
 * amount % n lines one more (their remainders tie), without a division
 * per line.  n > 0, amount >= 0. */
bool tsr__allocate_sum(int64_t amount, const int64_t *w, size_t n, int64_t total, bool equal,
                       int64_t *out);

/* Orders of up to this many lines are allocated with their remainders on
 * the stack, each leftover unit picked in a pass of its own. */
#define TSR_ALLOCATE_SMALL_MAX 16

/* The leftover units of a short allocation (left < n): the first to line
 * b1, whose remainder the floors' pass found largest (the earlier line on
 * ties), each other to the largest remainder not yet served, the earlier
 * line on ties (strictly greater replaces).  Served remainders become -1;
 * more than `left` remainders are positive, so a line with a zero
 * remainder is never served. */
static inline void tsr__allocate_leftovers(int64_t *out, int64_t *rem, size_t n, uint64_t left,
                                           size_t b1)
{
    if (left == 0)
        return;
    out[b1]++;
    rem[b1] = -1;
    for (left--; left > 0; left--) {
        size_t i, best = 0;
        int64_t top = -1;
        for (i = 0; i < n; i++) {
            if (rem[i] > top) {
                top = rem[i];
                best = i;
            }
        }
        out[best]++;
        rem[best] = -1;   /* served */
    }
}

/* tsr__allocate_sum's shares for a short order of small numbers, inline
 * (earning's per rule): 1 <= n <= TSR_ALLOCATE_SMALL_MAX, 0 <= amount <=
 * INT32_MAX, 0 < total <= INT32_MAX the sum of the w[i] >= 0.  Then
 * amount * w[i] < 2^62, so one 64-bit product and division give each floor
 * and remainder; equal weights need no test of their own (their
 * remainders tie: the first lines get the leftover units, as
 * tsr__allocate_sum's even split gives them). */
static inline void tsr__allocate_small32(int64_t amount, const int64_t *w, size_t n,
                                         int64_t total, int64_t *out)
{
    int64_t rem[TSR_ALLOCATE_SMALL_MAX], given = 0, t1 = -1;
    size_t i, b1 = 0;

    for (i = 0; i < n; i++) {
        uint64_t p = (uint64_t)amount * (uint64_t)w[i];
        out[i] = (int64_t)(p / (uint64_t)total);
        rem[i] = (int64_t)(p % (uint64_t)total);
        given += out[i];
        if (rem[i] > t1) {  /* the first leftover unit's line */
            t1 = rem[i];
            b1 = i;
        }
    }
    tsr__allocate_leftovers(out, rem, n, (uint64_t)(amount - given), b1);
}

#endif /* TSR_MONEY_H */
