/*
 * hostile_bench — what two hostile inputs of issue 15 cost, for the figures
 * in docs/decisions.md.  Timings are printed, never asserted.
 *
 *   hostile_bench depth      parse time of flow sequences nested N deep,
 *                            N = 64 .. 32,000 (the parser's limit lifted
 *                            past TSR_MAX_DEPTH_LIMIT to show the curve)
 *   hostile_bench line-ids   tsr_order_parse of a 10,000-line order whose
 *                            ids share one bucket under plain FNV-1a, next
 *                            to one with ordinary ids
 */
#include "order.h"
#include "yaml_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int depth(void)
{
    static const unsigned ds[] = { 64, 1024, 2000, 4000, 8000, 16000, 32000 };
    size_t k;

    for (k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        unsigned d = ds[k], i;
        char *t = malloc(2 * (size_t)d + 16);
        size_t n = 0;
        tsr_alloc a;
        tsr_arena ar;
        tsr_ylimits lim = { 1u << 30, 0, 64u << 10, 1u << 30, 0 };
        tsr_ynode *root;
        tsr_error err;
        double t0;
        int rc;

        if (!t)
            return 1;
        n += (size_t)sprintf(t, "a: ");
        for (i = 0; i + 1 < d; i++)
            t[n++] = '[';
        for (i = 0; i + 1 < d; i++)
            t[n++] = ']';
        t[n++] = '\n';
        lim.max_depth = d + 1;
        tsr__alloc_init(&a, NULL);
        tsr__arena_init(&ar, &a, 1u << 16);
        t0 = now();
        rc = tsr__yaml_parse(&root, t, n, "deep.yaml", &lim, &ar, &err);
        printf("depth %6u: %s in %8.3f ms\n", d, rc == TSR_OK ? "parsed" : err.message,
               (now() - t0) * 1e3);
        tsr__arena_free(&ar);
        free(t);
    }
    return 0;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

#define LINES 10000

/* A 10,000-line order; crafted: ids equal in their 15 low FNV-1a bits, so
 * all of them fall into one bucket of the 32,768-slot table plain FNV-1a
 * would use. */
static char *order_text(int crafted, size_t *len)
{
    size_t cap = 64 + (size_t)LINES * 48, n, i;
    char *t = malloc(cap), id[32];
    unsigned long u = 0;

    if (!t)
        return NULL;
    n = (size_t)sprintf(t, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[");
    for (i = 0; i < LINES; i++) {
        do
            snprintf(id, sizeof id, "c%lu", u++);
        while (crafted && (fnv1a(id) & 0x7FFF) != 0);
        n += (size_t)snprintf(t + n, cap - n, "%s{\"id\":\"%s\",\"kind\":\"k\"}", i ? "," : "", id);
    }
    n += (size_t)snprintf(t + n, cap - n, "]}");
    *len = n;
    return t;
}

static int line_ids(void)
{
    static const char rules[] = "tessera: 1\nruleset: b\ncurrency: EUR\n";
    tsr_ruleset *rs = NULL;
    tsr_order *o = NULL;
    tsr_error err;
    int crafted;

    if (tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "b.yaml", NULL, &err) != TSR_OK ||
        tsr_order_new(&o, rs, &err) != TSR_OK)
        return 1;
    for (crafted = 0; crafted < 2; crafted++) {
        size_t len;
        char *t = order_text(crafted, &len);
        double t0, best = 1e9;
        int run;
        if (!t)
            return 1;
        for (run = 0; run < 20; run++) {
            t0 = now();
            if (tsr_order_parse(o, t, len, &err) != TSR_OK) {
                fprintf(stderr, "order refused: %s\n", err.message);
                return 1;
            }
            if (now() - t0 < best)
                best = now() - t0;
        }
        printf("%-8s ids: %8.3f ms per 10,000-line order (best of 20)\n",
               crafted ? "crafted" : "ordinary", best * 1e3);
        free(t);
    }
    tsr_order_free(o);
    tsr_ruleset_free(rs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "depth") == 0)
        return depth();
    if (argc == 2 && strcmp(argv[1], "line-ids") == 0)
        return line_ids();
    fprintf(stderr, "usage: hostile_bench depth|line-ids\n");
    return 64;
}
