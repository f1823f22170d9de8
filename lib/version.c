/*
 * version.c — versions: the library's own at run time, to compare with the
 * TSR_VERSION_* macros a program was compiled against, and those of the
 * versioned structs a caller shares with it (options the library reads,
 * totals it writes into the caller's memory).
 */
#include "internal.h"

const char *tsr_version(void)
{
    return TSR_VERSION_STRING;
}

int tsr_version_number(void)
{
    return TSR_VERSION_NUMBER;
}

int tsr__version_error(unsigned version, size_t nsizes, const char *what, const char *init,
                       tsr_error *err)
{
    if (nsizes == 2)
        return tsr__err(err, TSR_EINVAL,
                        "%s version %u is not supported (libtessera %s knows version 1); "
                        "start from %s", what, version, TSR_VERSION_STRING, init);
    return tsr__err(err, TSR_EINVAL,
                    "%s version %u is not supported (libtessera %s knows versions 1 to %zu); "
                    "start from %s", what, version, TSR_VERSION_STRING, nsizes - 1, init);
}

int tsr__copy_out_versioned(void *out, const void *src, const size_t *sizes, size_t nsizes)
{
    unsigned version;

    if (!out)
        return TSR_EINVAL;
    /* `unsigned version` is the first member of every versioned struct. */
    memcpy(&version, out, sizeof version);
    if (version < 1 || version >= nsizes)
        return TSR_EINVAL;
    memcpy((char *)out + sizeof version, (const char *)src + sizeof version,
           sizes[version] - sizeof version);
    return TSR_OK;
}

int tsr__init_versioned(void *opts, const void *defaults, unsigned version, const size_t *sizes,
                        size_t nsizes)
{
    if (!opts || version < 1 || version >= nsizes)
        return TSR_EINVAL;
    memcpy(opts, defaults, sizes[version]);
    memcpy(opts, &version, sizeof version);
    return TSR_OK;
}
