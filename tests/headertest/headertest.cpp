// Compiled as C++11 with -pedantic -Werror: the public header must work from C++.
#include "tessera.h"

int headertest_cxx();
int headertest_cxx()
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    tsr_refund_options ro = TSR_REFUND_OPTIONS_INIT;
    tsr_totals t = TSR_TOTALS_INIT;
    tsr_refund_totals rt = TSR_REFUND_TOTALS_INIT;
    tsr_ruleset *rs = 0;
    tsr_ruleset_free(rs);
    return static_cast<int>(opts.version + eo.version + ro.version + t.version + rt.version) +
           TSR_VERSION_NUMBER + (ro.previous_clawback == TSR_REFUND_CLAWBACK_UNSTATED);
}
