/*
 * order_pool.c — the spare orders a rule set keeps for tsr_evaluate_text
 * (and the bindings, which call it): reading text into an order that was
 * used before allocates nothing, where a new order costs 18 allocations.
 *
 * A rule set is shared by threads, so the pool is a few slots taken and
 * filled by atomic exchange: no lock, no thread-local state to outlive the
 * rule set or its threads.  A thread that finds every slot empty makes an
 * order; one that finds every slot full frees its order.  So up to
 * TSR_SPARE_ORDERS threads at once evaluate text without allocating, and
 * the orders are freed with the rule set (docs/decisions.md, "Reused
 * results and orders").
 */
#include "order.h"

/* An order that read a very large order is not kept: one huge order must
 * not pin its memory for the life of the rule set. */
#define SPARE_MAX_LINES 1024
#define SPARE_MAX_BYTES ((size_t)1 << 20)

int tsr__ruleset_pool_init(tsr_ruleset *rs)
{
    size_t i;

    rs->spare_orders = tsr__arena_alloc(&rs->arena, TSR_SPARE_ORDERS * sizeof *rs->spare_orders);
    if (!rs->spare_orders)
        return TSR_ENOMEM;
    for (i = 0; i < TSR_SPARE_ORDERS; i++)
        atomic_init(&rs->spare_orders[i], NULL);
    return TSR_OK;
}

int tsr__ruleset_take_order(const tsr_ruleset *rs, tsr_order **out, tsr_error *err)
{
    _Atomic(tsr_order *) *s = rs->spare_orders;
    size_t i;

    for (i = 0; s && i < TSR_SPARE_ORDERS; i++) {
        /* a relaxed load first: an empty slot costs no exclusive access */
        if (atomic_load_explicit(&s[i], memory_order_relaxed) &&
            (*out = atomic_exchange_explicit(&s[i], NULL, memory_order_acquire)) != NULL)
            return TSR_OK;
    }
    return tsr_order_new(out, rs, err);
}

void tsr__ruleset_give_order(const tsr_ruleset *rs, tsr_order *order)
{
    _Atomic(tsr_order *) *s = rs->spare_orders;
    size_t i;

    if (!s || order->lines_cap > SPARE_MAX_LINES || order->arena.total > SPARE_MAX_BYTES ||
        order->scratch.total > SPARE_MAX_BYTES) {
        tsr_order_free(order);
        return;
    }
    /* not reset here: tsr_order_parse starts with that */
    for (i = 0; i < TSR_SPARE_ORDERS; i++) {
        tsr_order *empty = NULL;
        if (!atomic_load_explicit(&s[i], memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&s[i], &empty, order, memory_order_release,
                                                    memory_order_relaxed))
            return;
    }
    tsr_order_free(order);
}

void tsr_ruleset_release_memory(const tsr_ruleset *rs)
{
    _Atomic(tsr_order *) *s;
    size_t i;

    if (!rs || !(s = rs->spare_orders))
        return;
    for (i = 0; i < TSR_SPARE_ORDERS; i++)
        tsr_order_free(atomic_exchange_explicit(&s[i], NULL, memory_order_acquire));
}
