/*
 * test_profile.c — what the batch tools stand on (lib/profile.c): a
 * customer's segments and tier from a profile line or an order, the
 * default time, errors with their JSON path, the profile JSON, reuse
 * without allocating (what lets `tessera segments` stream millions of
 * lines in constant memory), out-of-memory handling, and the two small
 * accessors `tessera diff` needs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "alloc_fixture.h"

static const char rules[] =
    "tessera: 1\n"
    "ruleset: batch-test\n"
    "version: \"1\"\n"
    "currency: JPY\n"
    "timezone: Europe/Moscow\n"
    "schema:\n"
    "  customer: { visits: int, birthday: date, spend_12m: money, email: string }\n"
    "  order: { source: string }\n"
    "segments:\n"
    "  first_timer: customer.visits == 0\n"
    "  frequent: customer.visits >= 5\n"
    "  birthday: birthday_within(customer.birthday, date(now), 3)\n"
    "  season_pass: '\"season_pass\" in customer.tags'\n"
    "  from_app: order.channel == \"app\"\n"
    "  gmail: matches(customer.email, \"@gmail\\\\.com$\")\n"
    "tiers:\n"
    "  - { id: gold, when: customer.spend_12m >= 50000 }\n"
    "  - { id: silver, when: customer.spend_12m >= 20000 or segment.frequent }\n"
    "categories:\n"
    "  - { id: any, price: 100 }\n";

typedef struct fixture {
    tsr_ruleset *rs;
    tsr_profile *p;
    tsr_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    if (tsr_ruleset_load_string(&f->rs, rules, strlen(rules), "batch.yaml", NULL, &f->err) != TSR_OK)
        fail_msg("%d:%d: %s", f->err.line, f->err.column, f->err.message);
    assert_int_equal(tsr_profile_new(&f->p, f->rs, &f->err), TSR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tsr_profile_free(f->p);
    tsr_ruleset_free(f->rs);
    free(f);
    return 0;
}

static const char *json_of(fixture *f, const char *profile)
{
    if (tsr_profile_parse(f->p, profile, strlen(profile), &f->err) != TSR_OK)
        fail_msg("%s: %s", f->err.path, f->err.message);
    return tsr_profile_json(f->p, NULL);
}

static void segments_and_tier_of_a_profile(void **state)
{
    fixture *f = *state;

    assert_string_equal(
        json_of(f, "{\"customer\":{\"id\":\"C-77\",\"visits\":6,\"tags\":[\"season_pass\"],"
                   "\"spend_12m\":\"60000\",\"birthday\":\"1990-06-12\"},"
                   "\"datetime\":\"2026-06-10T12:00:00+03:00\",\"channel\":\"app\"}"),
        "{\"id\":\"C-77\",\"segments\":[\"frequent\",\"birthday\",\"season_pass\",\"from_app\"],"
        "\"tier\":\"gold\"}");
    assert_string_equal(tsr_profile_customer_id(f->p), "C-77");
    assert_int_equal(tsr_profile_segment_count(f->p), 4);
    assert_string_equal(tsr_profile_segment(f->p, 0), "frequent");
    assert_string_equal(tsr_profile_segment(f->p, 3), "from_app");
    assert_null(tsr_profile_segment(f->p, 4));
    assert_string_equal(tsr_profile_tier(f->p), "gold");
    /* a tier may rest on a segment */
    assert_string_equal(json_of(f, "{\"customer\":{\"id\":\"C-8\",\"visits\":5},"
                                   "\"datetime\":\"2026-06-10T12:00:00Z\"}"),
                        "{\"id\":\"C-8\",\"segments\":[\"frequent\"],\"tier\":\"silver\"}");
    /* nothing at all */
    assert_string_equal(json_of(f, "{\"datetime\":\"2026-06-10T12:00:00Z\"}"),
                        "{\"id\":null,\"segments\":[],\"tier\":null}");
    assert_null(tsr_profile_customer_id(f->p));
    assert_null(tsr_profile_tier(f->p));
    /* a regex segment */
    assert_string_equal(json_of(f, "{\"customer\":{\"id\":\"q\",\"email\":\"a@gmail.com\"},"
                                   "\"datetime\":\"2026-06-10T12:00:00Z\"}"),
                        "{\"id\":\"q\",\"segments\":[\"gmail\"],\"tier\":null}");
}

static void the_default_time_serves_profiles_without_one(void **state)
{
    fixture *f = *state;
    const char *bare = "{\"customer\":{\"id\":\"B\",\"birthday\":\"1990-12-31\"}}";

    assert_int_equal(tsr_profile_parse(f->p, bare, strlen(bare), &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "datetime");
    /* 1 January in Moscow is within 3 days of 31 December; 1 June is not */
    assert_int_equal(tsr_profile_set_datetime(f->p, "2026-12-31T22:30:00Z", &f->err), TSR_OK);
    assert_string_equal(json_of(f, bare), "{\"id\":\"B\",\"segments\":[\"birthday\"],\"tier\":null}");
    /* the profile's own time wins */
    assert_string_equal(json_of(f, "{\"customer\":{\"id\":\"B\",\"birthday\":\"1990-12-31\"},"
                                   "\"datetime\":\"2026-06-01T00:00:00Z\"}"),
                        "{\"id\":\"B\",\"segments\":[],\"tier\":null}");
    assert_int_equal(tsr_profile_set_datetime(f->p, "tomorrow", &f->err), TSR_EINVAL);
    assert_int_equal(tsr_profile_set_datetime(f->p, NULL, &f->err), TSR_OK);
    assert_int_equal(tsr_profile_parse(f->p, bare, strlen(bare), &f->err), TSR_EORDER);
}

static void a_bad_profile_names_its_path_and_the_next_one_reads(void **state)
{
    fixture *f = *state;
    const char *bad = "{\"customer\":{\"id\":\"X\",\"visits\":\"many\"},\"datetime\":\"2026-06-10T12:00:00Z\"}";

    assert_int_equal(tsr_profile_parse(f->p, bad, strlen(bad), &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.visits");
    assert_int_equal(tsr_profile_segment_count(f->p), 0);
    bad = "{\"customer\":{\"id\":\"X\",\"vists\":1},\"datetime\":\"2026-06-10T12:00:00Z\"}";
    assert_int_equal(tsr_profile_parse(f->p, bad, strlen(bad), &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.vists");
    assert_non_null(strstr(f->err.message, "visits"));
    bad = "{\"customer\":";
    assert_int_equal(tsr_profile_parse(f->p, bad, strlen(bad), &f->err), TSR_EORDER);
    assert_string_equal(json_of(f, "{\"customer\":{\"id\":\"Y\",\"visits\":0},"
                                   "\"datetime\":\"2026-06-10T12:00:00Z\"}"),
                        "{\"id\":\"Y\",\"segments\":[\"first_timer\"],\"tier\":null}");
}

static void orders_and_yaml_are_profiles_too(void **state)
{
    fixture *f = *state;
    const char *yaml = "customer: { id: Y-1, visits: 9 }\ndatetime: 2026-06-10T12:00:00Z\n";

    /* a priced order's line: items are read and ignored */
    assert_string_equal(json_of(f, "{\"id\":\"A-1\",\"datetime\":\"2026-06-10T12:00:00Z\","
                                   "\"customer\":{\"id\":\"O-1\",\"visits\":0},"
                                   "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}],\"source\":\"pos\"}"),
                        "{\"id\":\"O-1\",\"segments\":[\"first_timer\"],\"tier\":null}");
    assert_int_equal(tsr_profile_parse(f->p, yaml, strlen(yaml), &f->err), TSR_OK);
    assert_string_equal(tsr_profile_json(f->p, NULL),
                        "{\"id\":\"Y-1\",\"segments\":[\"frequent\"],\"tier\":\"silver\"}");
}

static void a_built_order_gives_its_customer_segments(void **state)
{
    fixture *f = *state;
    tsr_order *o = NULL;
    int visits = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "visits");
    int id = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "id");

    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_CUSTOMER, 0, id, "K", 1, &f->err), TSR_OK);
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_CUSTOMER, 0, visits, 0, &f->err), TSR_OK);
    assert_int_equal(tsr_profile_from_order(f->p, o, &f->err), TSR_EORDER);   /* no time */
    assert_int_equal(tsr_profile_set_datetime(f->p, "2026-06-10T12:00:00Z", &f->err), TSR_OK);
    assert_int_equal(tsr_profile_from_order(f->p, o, &f->err), TSR_OK);
    tsr_order_free(o);   /* the profile keeps what it reports */
    assert_string_equal(tsr_profile_json(f->p, NULL),
                        "{\"id\":\"K\",\"segments\":[\"first_timer\"],\"tier\":null}");
    assert_string_equal(tsr_profile_customer_id(f->p), "K");
}

static void calls_are_null_safe(void **state)
{
    fixture *f = *state;

    tsr_profile_free(NULL);
    assert_int_equal(tsr_profile_new(NULL, f->rs, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_profile_parse(NULL, "{}", 2, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_profile_from_order(f->p, NULL, &f->err), TSR_EINVAL);
    assert_null(tsr_profile_json(NULL, NULL));
    assert_null(tsr_profile_customer_id(NULL));
    assert_null(tsr_profile_tier(NULL));
    assert_int_equal(tsr_profile_segment_count(NULL), 0);
    assert_int_equal(tsr_ruleset_minor_units(f->rs), 0);      /* JPY */
    assert_int_equal(tsr_ruleset_minor_units(NULL), 0);
    assert_null(tsr_result_order_id(NULL));
}

static void a_result_names_its_order(void **state)
{
    fixture *f = *state;
    tsr_result *r = NULL;
    const char *o = "{\"id\":\"A-9\",\"datetime\":\"2026-06-10T12:00:00Z\",\"items\":[{\"id\":\"t\",\"kind\":\"k\"}]}";

    assert_int_equal(tsr_evaluate_text(&r, f->rs, o, strlen(o), NULL, &f->err), TSR_OK);
    assert_string_equal(tsr_result_order_id(r), "A-9");
    tsr_result_free(r);
    o = "{\"datetime\":\"2026-06-10T12:00:00Z\",\"items\":[{\"id\":\"t\",\"kind\":\"k\"}]}";
    assert_int_equal(tsr_evaluate_text(&r, f->rs, o, strlen(o), NULL, &f->err), TSR_OK);
    assert_null(tsr_result_order_id(r));
    tsr_result_free(r);
}

static const char *const stream[] = {
    ("{\"customer\":{\"id\":\"C-1\",\"visits\":6,\"tags\":[\"season_pass\",\"vip\"],\"spend_12m\":70000,"
     "\"email\":\"x@gmail.com\",\"birthday\":\"1990-06-12\"},\"channel\":\"app\"}"),
    "{\"customer\":{\"id\":\"C-2\",\"visits\":0}}",
    "{\"customer\":{\"id\":\"C-3\",\"visits\":\"bad\"}}",
    "{\"customer\":{\"id\":\"C-4\",\"email\":\"y@example.org\"},\"datetime\":\"2026-01-01T00:00:00Z\"}",
};

static void streaming_reuses_memory(void **state)
{
    counting c = { .fail_once = true };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_profile *p = NULL;
    tsr_error err;
    size_t i, k, before = 0;
    (void)state;

    opts.allocator = &hook;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), NULL, &opts, &err), TSR_OK);
    assert_int_equal(tsr_profile_new(&p, rs, &err), TSR_OK);
    assert_int_equal(tsr_profile_set_datetime(p, "2026-06-10T12:00:00+03:00", &err), TSR_OK);
    for (i = 0; i < 1000; i++) {
        if (i == 10)
            before = c.allocs;   /* warmed up: every buffer at its size */
        for (k = 0; k < sizeof stream / sizeof stream[0]; k++) {
            int rc = tsr_profile_parse(p, stream[k], strlen(stream[k]), &err);
            assert_int_equal(rc, k == 2 ? TSR_EORDER : TSR_OK);
            if (rc == TSR_OK)
                assert_non_null(tsr_profile_json(p, NULL));
        }
    }
    assert_int_equal(c.allocs, before);
    tsr_profile_free(p);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

static void allocation_failures_fail_cleanly(void **state)
{
    counting c = { .fail_once = true };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t n, live;
    (void)state;

    opts.allocator = &hook;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), NULL, &opts, &err), TSR_OK);
    live = c.live;
    for (n = 1;; n++) {
        tsr_profile *p = NULL;
        int rc;
        c.calls = 0;
        c.fail_at = n;
        rc = tsr_profile_new(&p, rs, &err);
        if (rc == TSR_OK)
            rc = tsr_profile_set_datetime(p, "2026-06-10T12:00:00Z", &err);
        if (rc == TSR_OK)
            rc = tsr_profile_parse(p, stream[0], strlen(stream[0]), &err);
        if (rc == TSR_OK && !tsr_profile_json(p, NULL))
            rc = TSR_ENOMEM;
        c.fail_at = 0;
        if (rc != TSR_OK && rc != TSR_ENOMEM)
            fail_msg("allocation %zu: %d %s: %s", n, rc, err.path, err.message);
        tsr_profile_free(p);
        assert_int_equal(c.live, live);
        if (rc == TSR_OK)
            break;
    }
    assert_true(n > 3);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(segments_and_tier_of_a_profile),
        T(the_default_time_serves_profiles_without_one),
        T(a_bad_profile_names_its_path_and_the_next_one_reads),
        T(orders_and_yaml_are_profiles_too),
        T(a_built_order_gives_its_customer_segments),
        T(calls_are_null_safe),
        T(a_result_names_its_order),
        cmocka_unit_test(streaming_reuses_memory),
        cmocka_unit_test(allocation_failures_fail_cleanly),
#undef T
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
