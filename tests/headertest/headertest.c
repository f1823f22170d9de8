/* Compiled as C99 with -pedantic -Werror: the public header must stand alone. */
#include "tessera.h"

int headertest_c(void);
int headertest_c(void)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_refund_options refund = TSR_REFUND_OPTIONS_INIT;
    tsr_error err;
    (void)err;
    refund.previous_clawback = TSR_REFUND_CLAWBACK_UNSTATED;
    return (int)opts.version + TSR_VERSION_NUMBER + (refund.previous_clawback < 0);
}
