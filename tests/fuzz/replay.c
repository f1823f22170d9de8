/*
 * replay.c — runs a libFuzzer harness without libFuzzer, for the ordinary
 * test run: every file in the directories (or the files) named on the command
 * line is passed to LLVMFuzzerTestOneInput once, in name order so that a
 * failure reproduces the same way on every machine.
 *
 * Each input is copied into a buffer of exactly its size, as libFuzzer does,
 * so that an ASan build catches a read past the end.  A harness that finds a
 * bug aborts (fuzz_common.h), which fails the ctest; the name of the input
 * being run is printed first so the failure names its reproducer.
 * Exit status: 0 when every input ran, 1 when a file could not be read or no
 * input was found (an empty corpus would otherwise pass silently).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file into a malloc'd buffer of exactly its size (one byte for
 * an empty file, which is then passed with size 0). */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return -1;
    for (;;) {
        size_t got;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = p;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    /* Shrink to the exact size so the byte after the input is out of bounds. */
    {
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
            free(buf);
            return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        *out = exact;
    }
    *len = n;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t len;

    if (read_file(path, &data, &len) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* Printed before the run: if the harness aborts, this is the reproducer. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

/* Run every regular file in `dir`, sorted; returns the count or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    long ran = 0;
    int bad = 0;

    if (!d) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t need;
        char *path;
        struct stat st;

        if (e->d_name[0] == '.')
            continue;   /* ., .. and hidden files such as editor swap files */
        need = strlen(dir) + strlen(e->d_name) + 2;
        path = malloc(need);
        if (!path)
            break;
        snprintf(path, need, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            char **p = realloc(names, (cap ? cap * 2 : 64) * sizeof *names);
            if (!p) {
                free(path);
                break;
            }
            names = p;
            cap = cap ? cap * 2 : 64;
        }
        names[n++] = path;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (i = 0; i < n; i++) {
        if (run_file(names[i]) == 0)
            ran++;
        else
            bad = 1;   /* remember the failure, keep going */
        free(names[i]);
    }
    free(names);
    return bad ? -1 : ran;
}

int main(int argc, char **argv)
{
    long total = 0;
    int failed = 0, i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            long r = run_dir(argv[i]);
            if (r < 0)
                failed = 1;
            else
                total += r;
        } else if (run_file(argv[i]) == 0) {
            total++;
        } else {
            failed = 1;
        }
    }
    if (failed) {
        fprintf(stderr, "replay: %ld inputs passed, but some could not be read\n", total);
        return 1;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    fprintf(stderr, "replay: %ld inputs, all passed\n", total);
    return 0;
}
