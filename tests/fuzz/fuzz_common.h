/*
 * fuzz_common.h — what the libFuzzer harnesses share: a checking
 * allocator, the small load limits they run under, and an include resolver
 * that refuses everything.
 *
 * The checking allocator exists so that the plain replay run (gcc, no
 * sanitizers) still catches two classes of bug that otherwise need ASan or
 * valgrind: memory the library forgets to give back (the harness compares the
 * live byte count before and after each input), and a wrong `old_size` passed
 * back to a caller's allocator (tessera.h promises the real size, and an
 * arena-style allocator would corrupt itself on a wrong one).  Either is
 * reported on stderr and ends the process with abort(), which is what
 * libFuzzer and ctest both treat as a failed input.
 *
 * Only the public header is used: the harnesses see the library the way a
 * caller does.  Everything here is static: each harness is one translation
 * unit plus replay.c.
 */
#ifndef TSR_FUZZ_COMMON_H
#define TSR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"

/* Every block carries its size in front, so old_size can be checked.  Sixteen
 * bytes keep the block aligned for anything the library stores. */
#define FUZZ_HEADER 16

/* Live bytes handed to the library.  The fuzzers run one input at a time on
 * one thread, so a plain counter is enough. */
static size_t fuzz_live_bytes;

static void fuzz_die(const char *what, size_t a, size_t b)
{
    fprintf(stderr, "tessera fuzz: %s (%zu vs %zu)\n", what, a, b);
    fflush(stderr);
    abort();   /* libFuzzer and ctest both report an abort as a failing input */
}

static void *fuzz_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    unsigned char *base = NULL;
    size_t stored = 0;

    (void)ud;
    if (ptr) {
        base = (unsigned char *)ptr - FUZZ_HEADER;
        memcpy(&stored, base, sizeof stored);
        if (stored != old_size)
            fuzz_die("allocator called with the wrong old_size", old_size, stored);
    } else if (old_size != 0) {
        fuzz_die("allocator called with old_size but no pointer", old_size, 0);
    }
    if (new_size == 0) {
        if (base) {
            fuzz_live_bytes -= stored;
            free(base);
        }
        return NULL;
    }
    if (new_size > SIZE_MAX - FUZZ_HEADER)
        return NULL;
    base = realloc(base, new_size + FUZZ_HEADER);
    if (!base)
        return NULL;   /* the old block, if any, is untouched and still counted */
    memcpy(base, &new_size, sizeof new_size);
    fuzz_live_bytes = fuzz_live_bytes - stored + new_size;
    return base + FUZZ_HEADER;
}

static const tsr_allocator fuzz_allocator = { fuzz_realloc, NULL };

/* The fuzzer must never reach the file system, so every include is refused;
 * the loader has to turn that into a clean TSR_EINCLUDE. */
static int fuzz_refuse_include(void *ud, const char *including, const char *name,
                               char *resolved, size_t resolved_size,
                               const char **text, size_t *len)
{
    (void)ud;
    (void)including;
    (void)name;
    (void)resolved;
    (void)resolved_size;
    (void)text;
    (void)len;
    return TSR_EINCLUDE;
}

/* Limits small enough that no single input can make the loader spend
 * seconds or hundreds of MiB, large enough that the real rule files in the
 * corpus load. */
static inline void fuzz_load_options(tsr_load_options *o)   /* inline: fuzz_tz loads no rules */
{
    tsr_load_options_init(o, TSR_LOAD_OPTIONS_VERSION);
    o->allocator = &fuzz_allocator;
    o->max_file_size = 64u << 10;
    o->max_depth = 32;
    o->max_scalar_length = 8u << 10;
    o->max_nodes = 20000;
    o->max_aliases = 8;          /* a few, so the alias code is exercised too */
    o->max_includes = 4;
    o->max_expression_length = 2048;
    o->max_order_lines = 256;
    o->max_promo_codes = 16;
    o->max_string_length = 4096;
    o->max_order_size = 256u << 10;
    o->regex_match_limit = 20000;
    o->regex_depth_limit = 200;
    o->regex_heap_limit_kib = 256;
    /* A small work budget: no input runs for long, and running out of it
     * (TSR_ELIMIT naming the rule) is exercised too. */
    o->max_eval_steps = 1000000;
    o->include = fuzz_refuse_include;
    o->include_ud = NULL;
}

/* Checks that hold for every failed call, whatever the input: a code that is
 * one of ours and a message that is a terminated string. */
static void fuzz_check_error(int rc, const tsr_error *err)
{
    if (rc >= 0 || rc < TSR_ERECEIPT)   /* the last pinned code */
        fuzz_die("status code out of range", (size_t)-rc, 0);
    if (err->code != rc)
        fuzz_die("err.code differs from the returned status", (size_t)-err->code, (size_t)-rc);
    if (memchr(err->message, '\0', sizeof err->message) == NULL ||
        memchr(err->file, '\0', sizeof err->file) == NULL ||
        memchr(err->path, '\0', sizeof err->path) == NULL)
        fuzz_die("error text not NUL-terminated", 0, 0);
    if (err->message[0] == '\0')
        fuzz_die("error without a message", 0, 0);
}

/* With TSR_FUZZ_VERBOSE set in the environment, each harness says what
 * became of every input (loaded, refused and why): for checking that a new
 * seed reaches the code it was written for.  Off by default: libFuzzer runs
 * millions of inputs. */
static int fuzz_verbose(void)
{
    static int v = -1;
    if (v < 0)
        v = getenv("TSR_FUZZ_VERBOSE") != NULL;
    return v;
}

static void fuzz_say(const char *what, int rc, const tsr_error *err)
{
    if (!fuzz_verbose())
        return;
    if (rc == TSR_OK)
        fprintf(stderr, "  %s: ok\n", what);
    else
        fprintf(stderr, "  %s: %s: %s:%d:%d [%s] %s\n", what, tsr_strerror(rc), err->file,
                err->line, err->column, err->path, err->message);
}

/* After one input: everything the library took must be back. */
static void fuzz_check_balance(size_t before)
{
    if (fuzz_live_bytes != before)
        fuzz_die("memory not returned to the allocator", fuzz_live_bytes, before);
}

#endif /* TSR_FUZZ_COMMON_H */
