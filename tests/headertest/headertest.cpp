// Compiled as C++11 with -pedantic -Werror: the public header must work from C++.
#include "tessera.h"

int headertest_cxx();
int headertest_cxx()
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_refund_options refund = TSR_REFUND_OPTIONS_INIT;
    tsr_ruleset *rs = 0;
    tsr_ruleset_free(rs);
    refund.previous_clawback = TSR_REFUND_CLAWBACK_UNSTATED;
    return static_cast<int>(opts.version) + TSR_VERSION_NUMBER + (refund.previous_clawback < 0);
}
