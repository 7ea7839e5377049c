/* The differential check of fuzz/expr_diff.h, replayed deterministically on
 * every setup: the seed corpus of fuzz_expr_diff (which holds the programs
 * that caught signalling NaNs on the pool and integer literals rounded twice)
 * and a fixed stream of generated programs. The pool must match plain C on
 * typed programs, and the setup's devices must match the pool. */
#include "common.h"

#include "fuzz/expr_diff.h"

#include <dirent.h>

static weft_ctx *host, *devices;

static int setup(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.devices = "host";
    host = test_ctx_with(&o);
    devices = test_ctx();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(host);
    weft_ctx_free(devices);
    return 0;
}

static void check(const uint8_t *data, size_t size, const char *name)
{
    static char report[DIFF_TEXT + 512];
    weft_ctx *other = selected_opencl(devices) ? devices : NULL;
    if (diff_check(data, size, host, other, report, sizeof report))
        fail_msg("%s: %s", name, report);
}

static void test_corpus_replays_clean(void **state)
{
    (void)state;
    DIR *dir = opendir(EXPR_DIFF_CORPUS);
    if (!dir) fail_msg("cannot open %s", EXPR_DIFF_CORPUS);
    size_t files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", EXPR_DIFF_CORPUS, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t data[4096];
        size_t size = fread(data, 1, sizeof data, f);
        fclose(f);
        check(data, size, e->d_name);
        files++;
    }
    closedir(dir);
    assert_true(files >= 10);
}

static void test_generated_programs_agree(void **state)
{
    (void)state;
    uint64_t seed = 20261123;
    for (int k = 0; k < 24; k++) {
        uint8_t data[24];
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)test_rng(&seed);
        char name[32];
        snprintf(name, sizeof name, "generated %d", k);
        check(data, sizeof data, name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_replays_clean),
        cmocka_unit_test(test_generated_programs_agree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
