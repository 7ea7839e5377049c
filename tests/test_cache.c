/* SHA-256 and the on-disk cache file format: round trip, and every kind of
 * damaged file refused (never trusted, never crashed on). */
#include "common.h"
#include "../src/cache.h"
#include "../src/sha256.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-cache-%ld", (long)getpid());
    return weft_cache_open(dir, NULL) == WEFT_OK ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return remove_tree(dir);
}

/* Loads through the quarantine and ends it at once, as a platform accepting
 * the binary would. */
static weft_status load(const uint8_t key[32], unsigned char **data, size_t *size)
{
    char quarantine[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    weft_status st = weft_cache_load(dir, key, data, size, quarantine, sizeof quarantine);
    if (st == WEFT_OK) weft_cache_loaded(quarantine, 1);
    return st;
}

static void digest_of(const char *text, char hex[65])
{
    weft_sha256 h;
    uint8_t d[32];
    weft_sha256_init(&h);
    weft_sha256_update(&h, text, strlen(text));
    weft_sha256_final(&h, d);
    weft_sha256_hex(d, hex);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    digest_of("", hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_of("abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void key_for(const char *name, uint8_t key[32])
{
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_field(&h, name);
    weft_sha256_final(&h, key);
}

static void file_for(const uint8_t key[32], char *path, size_t cap)
{
    char hex[65];
    weft_sha256_hex(key, hex);
    snprintf(path, cap, "%s/%s.bin", dir, hex);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t key[32];
    key_for("round trip", key);
    const char payload[] = "pretend this is a device binary";
    ASSERT_OK(weft_cache_store(dir, key, payload, sizeof payload));
    unsigned char *data = NULL;
    size_t size = 0;
    ASSERT_OK(load(key, &data, &size));
    assert_int_equal(size, sizeof payload);
    assert_memory_equal(data, payload, size);
    free(data);
    uint8_t other[32];
    key_for("never stored", other);
    assert_int_equal(load(other, &data, &size), WEFT_ERR_IO);
}

/* Rewrites the stored file through f, then expects a refusal. */
static void expect_rejected(void (*damage)(const char *path), const char *why)
{
    uint8_t key[32];
    key_for(why, key);
    unsigned char payload[1000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 7);
    ASSERT_OK(weft_cache_store(dir, key, payload, sizeof payload));
    char path[512];
    file_for(key, path, sizeof path);
    damage(path);
    unsigned char *data = NULL;
    size_t size = 0;
    weft_status st = load(key, &data, &size);
    if (st != WEFT_ERR_CACHE)
        fail_msg("%s: expected WEFT_ERR_CACHE, got %s", why, weft_status_str(st));
    assert_null(data);
}

static void truncate_file(const char *path)
{
    assert_int_equal(truncate(path, 500), 0);
}
static void truncate_header(const char *path)
{
    assert_int_equal(truncate(path, 20), 0);
}
static void empty_file(const char *path)
{
    assert_int_equal(truncate(path, 0), 0);
}
static void flip_payload_byte(const char *path)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, 300, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 300, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}
static void bad_magic(const char *path)
{
    FILE *f = fopen(path, "r+b");
    fputs("ELF!", f);
    fclose(f);
}
static void append_garbage(const char *path)
{
    FILE *f = fopen(path, "ab");
    fputs("trailing", f);
    fclose(f);
}
static void huge_size_field(const char *path)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    for (int i = 0; i < 8; i++)
        fputc(0xff, f);
    fclose(f);
}
static void replace_with_directory(const char *path)
{
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void test_damaged_files_refused(void **state)
{
    (void)state;
    expect_rejected(truncate_file, "truncated payload");
    expect_rejected(truncate_header, "truncated header");
    expect_rejected(empty_file, "empty file");
    expect_rejected(flip_payload_byte, "corrupt payload");
    expect_rejected(bad_magic, "bad magic");
    expect_rejected(append_garbage, "trailing bytes");
    expect_rejected(huge_size_field, "absurd size");
    expect_rejected(replace_with_directory, "directory in its place");
}

static void test_foreign_key_refused(void **state)
{
    (void)state;
    uint8_t mine[32], theirs[32];
    key_for("mine", mine);
    key_for("theirs", theirs);
    const char payload[] = "binary for theirs";
    ASSERT_OK(weft_cache_store(dir, theirs, payload, sizeof payload));
    char from[512], to[512];
    file_for(theirs, from, sizeof from);
    file_for(mine, to, sizeof to);
    assert_int_equal(rename(from, to), 0);
    unsigned char *data = NULL;
    size_t size;
    assert_int_equal(load(mine, &data, &size), WEFT_ERR_CACHE);
    assert_non_null(strstr(weft_last_error(), "another key"));
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    uint8_t key[32];
    key_for("raced", key);
    enum { WRITERS = 4, ROUNDS = 200 };
    static unsigned char payload[64 * 1024];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i ^ (i >> 8));
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            for (int r = 0; r < ROUNDS; r++) {
                if (weft_cache_store(dir, key, payload, sizeof payload) != WEFT_OK) _exit(1);
                unsigned char *data = NULL;
                size_t size = 0;
                /* Readers racing writers see a whole file or none, never half. */
                weft_status st = load(key, &data, &size);
                if (st == WEFT_ERR_CACHE) _exit(2);
                if (st == WEFT_OK && (size != sizeof payload || memcmp(data, payload, size)))
                    _exit(3);
                free(data);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static void test_parse_rejects_short_buffers(void **state)
{
    (void)state;
    uint8_t key[32];
    key_for("parse", key);
    const unsigned char *payload;
    size_t size;
    unsigned char junk[200] = {0};
    for (size_t len = 0; len < sizeof junk; len++)
        assert_int_equal(weft_cache_parse(junk, len, key, &payload, &size), WEFT_ERR_CACHE);
    assert_int_equal(weft_cache_parse(NULL, 0, key, &payload, &size), WEFT_ERR_CACHE);
}

static void test_unwritable_dir(void **state)
{
    (void)state;
    assert_int_equal(weft_cache_open("/proc/weft-cannot-exist", NULL), WEFT_ERR_IO);
    uint8_t key[32];
    key_for("nowhere", key);
    assert_int_equal(weft_cache_store("/proc/weft-cannot-exist", key, "x", 1), WEFT_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_files_refused),
        cmocka_unit_test(test_foreign_key_refused),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_parse_rejects_short_buffers),
        cmocka_unit_test(test_unwritable_dir),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
