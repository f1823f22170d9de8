/* Compiled as C99 with -pedantic -Werror: the public header must stand alone. */
#include "tessera.h"

int headertest_c(void);
int headertest_c(void)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    tsr_refund_options ro = TSR_REFUND_OPTIONS_INIT;
    tsr_totals t = TSR_TOTALS_INIT;
    tsr_refund_totals rt = TSR_REFUND_TOTALS_INIT;
    tsr_error err;
    (void)err;
    return (int)(opts.version + eo.version + ro.version + t.version + rt.version) +
           TSR_VERSION_NUMBER + TSR_VERSION_MAJOR + TSR_VERSION_MINOR + TSR_VERSION_PATCH +
           (int)sizeof TSR_VERSION_STRING + (ro.previous_clawback == TSR_REFUND_CLAWBACK_UNSTATED);
}
