/* SHA-256 and the on-disk cache file format: round trip, and every kind of
 * damaged file refused (never trusted, never crashed on). */
#include "common.h"
#include "../src/core/cache.h"
#include "../src/core/sha256.h"
#include "../src/dev/cl/pocl_binary.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
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

/* A FIFO under a cache file's name is a reject at once, not a hang. */
static void test_fifo_cache_file_rejected(void **state)
{
    (void)state;
    fail_after(30);
    uint8_t key[32];
    key_for("fifo", key);
    char path[512];
    file_for(key, path, sizeof path);
    assert_int_equal(mkfifo(path, 0644), 0);
    unsigned char *data = NULL;
    size_t size = 0;
    assert_int_equal(load(key, &data, &size), WEFT_ERR_CACHE);
    assert_non_null(strstr(weft_last_error(), "not a regular file"));
    fail_after(0);
    /* the next store replaces it with a real file */
    ASSERT_OK(weft_cache_store(dir, key, "x", 1));
    ASSERT_OK(load(key, &data, &size));
    free(data);
}

/* Sets a file's modification time seconds into the past. */
static void age(const char *path, int seconds)
{
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static weft_cache_usage usage_now(void)
{
    weft_cache_usage u;
    ASSERT_OK(weft_cache_usage_get(dir, &u));
    return u;
}

/* A process that dies while its driver loads a binary (the load is never
 * ended) leaves no binary under the key: the next load is a miss, and the
 * quarantined file is removed once its process is gone. */
static void test_quarantine_outlives_a_dead_loader(void **state)
{
    (void)state;
    uint8_t key[32];
    key_for("dies while loading", key);
    ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
    size_t before = usage_now().temporaries;
    pid_t pid = fork();
    if (pid == 0) {
        unsigned char *data;
        size_t size;
        char quarantine[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
        weft_status st = weft_cache_load(dir, key, &data, &size, quarantine, sizeof quarantine);
        raise(SIGKILL); /* as a driver crashing on the binary would */
        _exit(st);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    unsigned char *data = NULL;
    size_t size = 0;
    assert_int_equal(load(key, &data, &size), WEFT_ERR_IO); /* a miss: rebuild */
    assert_int_equal(usage_now().temporaries, before + 1);
    char prefix[200], hex[65];
    weft_sha256_hex(key, hex);
    snprintf(prefix, sizeof prefix, "%s.bin.loading.%ld.", hex, (long)pid);
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        age(path, 120); /* past the grace period for processes gone */
        found++;
    }
    closedir(d);
    assert_int_equal(found, 1);
    size_t dead = 0;
    ASSERT_OK(weft_cache_open(dir, &dead));
    assert_int_equal(dead, 1);
    assert_int_equal(usage_now().temporaries, before);
    /* a load the platform refuses deletes the file; one it accepts restores it */
    ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
    char q[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    ASSERT_OK(weft_cache_load(dir, key, &data, &size, q, sizeof q));
    free(data);
    weft_cache_loaded(q, 0);
    assert_int_equal(load(key, &data, &size), WEFT_ERR_IO);
}

/* Files and directories another user could have written are not trusted. */
static void test_untrusted_files_refused(void **state)
{
    (void)state;
    uint8_t key[32];
    key_for("untrusted", key);
    char path[512];
    file_for(key, path, sizeof path);
    unsigned char *data = NULL;
    size_t size = 0;
    static const mode_t modes[] = {0664, 0646, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
        assert_int_equal(chmod(path, modes[i]), 0);
        assert_int_equal(load(key, &data, &size), WEFT_ERR_CACHE);
        assert_non_null(strstr(weft_last_error(), "not trusted"));
    }
    /* a symbolic link to a valid file of ours is refused too */
    ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
    char real[600];
    snprintf(real, sizeof real, "%s.real", path);
    assert_int_equal(rename(path, real), 0);
    assert_int_equal(symlink(real, path), 0);
    assert_int_equal(load(key, &data, &size), WEFT_ERR_CACHE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(unlink(real), 0);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/shared", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(weft_cache_open(sub, NULL), WEFT_ERR_IO);
    assert_non_null(strstr(weft_last_error(), "not trusted"));
    assert_int_equal(chmod(sub, 0755), 0);
    ASSERT_OK(weft_cache_open(sub, NULL));
    if (geteuid() == 0) { /* only root can give files away */
        assert_int_equal(chown(sub, 4242, 4242), 0);
        assert_int_equal(weft_cache_open(sub, NULL), WEFT_ERR_IO);
        assert_non_null(strstr(weft_last_error(), "owned by uid 4242"));
        ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
        assert_int_equal(chown(path, 4242, 4242), 0);
        assert_int_equal(load(key, &data, &size), WEFT_ERR_CACHE);
        assert_non_null(strstr(weft_last_error(), "owned by uid 4242"));
    }
}

static void write_file(const char *name, const void *bytes, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    fclose(f);
}

static int exists(const char *name)
{
    char path[600];
    struct stat info;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &info) == 0;
}

/* Temporary files of killed writers are removed once stale, on open and by
 * clear; those of live writers and files that are not weft's stay. */
static void test_stale_temporaries_removed(void **state)
{
    (void)state;
    size_t saved = strlen(dir); /* a directory of its own: counts start at 0 */
    strcat(dir, "/temps");
    ASSERT_OK(weft_cache_open(dir, NULL));
    uint8_t key[32];
    key_for("temporaries", key);
    char hex[65], dead_tmp[200], live_tmp[200], old_live_tmp[200], calib_tmp[200], foreign_tmp[200];
    weft_sha256_hex(key, hex);
    long dead = dead_pid();
    snprintf(dead_tmp, sizeof dead_tmp, "%s.bin.tmp.%ld.0", hex, dead);
    snprintf(live_tmp, sizeof live_tmp, "%s.bin.tmp.%ld.7", hex, (long)getpid());
    snprintf(old_live_tmp, sizeof old_live_tmp, "%s.bin.tmp.%ld.8", hex, (long)getpid());
    snprintf(calib_tmp, sizeof calib_tmp, "calibration-0123456789abcdef.txt.tmp.%ld.2", dead);
    snprintf(foreign_tmp, sizeof foreign_tmp, "%s.bin.tmp.%ld.1", hex, dead);
    unsigned char header[40] = {'W', 'E', 'F', 'T', 'B', 'I', 'N', '1'};
    memcpy(header + 8, key, 32);
    write_file(dead_tmp, header, 20); /* cut short by the kill */
    write_file(live_tmp, header, 40);
    write_file(old_live_tmp, "", 0);
    write_file(calib_tmp, "weft-calib", 10);
    write_file(foreign_tmp, "someone else's", 14);
    char path[600];
    const char *aged[] = {dead_tmp, calib_tmp, foreign_tmp};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, aged[i]);
        age(path, 120);
    }
    snprintf(path, sizeof path, "%s/%s", dir, old_live_tmp);
    age(path, 7200);
    assert_int_equal(usage_now().temporaries, 4);
    ASSERT_OK(weft_cache_open(dir, NULL));
    assert_false(exists(dead_tmp));
    assert_false(exists(calib_tmp));
    assert_false(exists(old_live_tmp));
    assert_true(exists(live_tmp));
    assert_true(exists(foreign_tmp));
    write_file(dead_tmp, header, 3);
    snprintf(path, sizeof path, "%s/%s", dir, dead_tmp);
    age(path, 120);
    size_t removed = 0;
    ASSERT_OK(weft_cache_clear(dir, &removed));
    assert_int_equal(removed, 1);
    assert_false(exists(dead_tmp));
    assert_true(exists(live_tmp));
    dir[saved] = '\0';
}

/* weft cache clear removes weft's files, proven by name and contents, and
 * nothing else; counting changes nothing, not even a missing directory. */
static void test_clear_removes_only_weft_files(void **state)
{
    (void)state;
    size_t saved = strlen(dir); /* a directory of its own: counts start at 0 */
    strcat(dir, "/clear");
    weft_cache_usage u;
    ASSERT_OK(weft_cache_usage_get(dir, &u));
    assert_int_equal(u.binaries + u.calibrations + u.temporaries, 0);
    struct stat info;
    assert_int_equal(stat(dir, &info), -1); /* counting created nothing */
    ASSERT_OK(weft_cache_open(dir, NULL));
    uint8_t key[32], other[32];
    key_for("ours", key);
    key_for("another", other);
    ASSERT_OK(weft_cache_store(dir, key, "binary", 6));
    static const char record[] = "weft-calibration-1 1e+10 1e-05\n";
    write_file("calibration-0123456789abcdef.txt", record, sizeof record - 1);
    /* not weft's: a .bin of the right length with other contents, a weft file
     * under another key's name, notes that start like a record's name */
    char hex[65], name[100], path[600], moved[600];
    weft_sha256_hex(other, hex);
    snprintf(name, sizeof name, "%s.bin", hex);
    write_file(name, "not a weft binary at all, just 40 bytes!!", 41);
    key_for("renamed", other);
    ASSERT_OK(weft_cache_store(dir, other, "binary", 6));
    file_for(other, path, sizeof path);
    snprintf(moved, sizeof moved, "%s/%s", dir,
             "1111111111111111111111111111111111111111111111111111111111111111.bin");
    assert_int_equal(rename(path, moved), 0);
    write_file("calibration-notes.txt", "my notes\n", 9);
    write_file("README", "mine\n", 5);
    ASSERT_OK(weft_cache_usage_get(dir, &u));
    assert_int_equal(u.binaries, 1);
    assert_int_equal(u.calibrations, 1);
    size_t removed = 0;
    ASSERT_OK(weft_cache_clear(dir, &removed));
    assert_int_equal(removed, 2);
    assert_true(exists(name));
    assert_true(exists("1111111111111111111111111111111111111111111111111111111111111111.bin"));
    assert_true(exists("calibration-notes.txt"));
    assert_true(exists("README"));
    assert_false(exists("calibration-0123456789abcdef.txt"));
    ASSERT_OK(weft_cache_usage_get(dir, &u));
    assert_int_equal(u.binaries + u.calibrations, 0);
    dir[saved] = '\0';
}

/* The directory checks of weft_cache_open. */
static void test_unusable_dirs_refused(void **state)
{
    (void)state;
    assert_int_equal(weft_cache_open("", NULL), WEFT_ERR_IO);
    char file[400];
    snprintf(file, sizeof file, "%s/plain-file", dir);
    write_file("plain-file", "x", 1);
    assert_int_equal(weft_cache_open(file, NULL), WEFT_ERR_IO);
    assert_non_null(strstr(weft_last_error(), "not a directory"));
    char longer[4095];
    memset(longer, 'd', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    longer[0] = '/';
    assert_int_equal(weft_cache_open(longer, NULL), WEFT_ERR_IO);
    assert_non_null(strstr(weft_last_error(), "longer than the system allows"));
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

/* ---- PoCL binaries: every length inside the buffer, or refused ---- */

static size_t put(unsigned char *b, size_t at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b[at + (size_t)i] = (unsigned char)(v >> (8 * i));
    return at + (size_t)bytes;
}

static size_t put_string(unsigned char *b, size_t at, const char *s)
{
    at = put(b, at, strlen(s), 4);
    memcpy(b + at, s, strlen(s));
    return at + strlen(s);
}

/* A PoCL format-9 binary with the bitcode and one kernel "k" with one file. */
static size_t fake_pocl_binary(unsigned char *b)
{
    memset(b, 0, 512);
    memcpy(b, "poclbin", 8);
    size_t at = put(b, 16, 9, 4); /* version */
    at = put(b, at, 1, 4);        /* kernels */
    at += 12 + 41;                /* flags, build hash */
    size_t bitcode = at;
    at = put_string(b, at + 8, "/program.bc");
    at = put_string(b, at, "BC\xc0\xde bitcode");
    put(b, bitcode, at - bitcode - 8, 8);
    size_t kernel = at;
    at = put(b, at + 16, 0, 4); /* argument info size */
    at = put_string(b, at, "k");
    at += 24; /* metadata */
    size_t files = at;
    at = put_string(b, at, "/k/workgroup.so");
    at = put_string(b, at, "ELF object");
    put(b, kernel, at - kernel, 8);
    put(b, kernel + 8, at - files, 8);
    return at;
}

static void test_pocl_binary_lengths_checked(void **state)
{
    (void)state;
    unsigned char b[512];
    char why[160];
    size_t size = fake_pocl_binary(b);
    assert_true(weft_pocl_binary_whole(b, size, why, sizeof why));
    for (size_t cut = 1; cut <= size - 8; cut++) /* cut short past its magic: refused */
        assert_false(weft_pocl_binary_whole(b, size - cut, why, sizeof why));
    assert_non_null(strstr(why, "PoCL binary"));
    unsigned char longer[600];
    memcpy(longer, b, size);
    assert_false(weft_pocl_binary_whole(longer, size + 8, why, sizeof why));
    put(b, 77, 1u << 30, 8); /* the bitcode's record claims a gigabyte */
    assert_false(weft_pocl_binary_whole(b, size, why, sizeof why));
    /* Not PoCL's, or a format weft does not know: left to the driver. */
    assert_true(weft_pocl_binary_whole((const unsigned char *)"\177ELF....", 8, why, sizeof why));
    size = fake_pocl_binary(b);
    put(b, 16, 10, 4);
    assert_true(weft_pocl_binary_whole(b, size / 2, why, sizeof why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_pocl_binary_lengths_checked),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_files_refused),
        cmocka_unit_test(test_foreign_key_refused),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_parse_rejects_short_buffers),
        cmocka_unit_test(test_unwritable_dir),
        cmocka_unit_test(test_fifo_cache_file_rejected),
        cmocka_unit_test(test_quarantine_outlives_a_dead_loader),
        cmocka_unit_test(test_untrusted_files_refused),
        cmocka_unit_test(test_stale_temporaries_removed),
        cmocka_unit_test(test_clear_removes_only_weft_files),
        cmocka_unit_test(test_unusable_dirs_refused),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
