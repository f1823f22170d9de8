/*
 * version.c — the library's version at run time, to compare with the
 * TSR_VERSION_* macros a program was compiled against.
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
