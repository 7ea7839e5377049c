#include "include_deps.h"
#include "error.h"
#include "safe_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_DIRS = 64, MAX_FILES = 1024, MAX_DEPTH = 64, MAX_INCLUDE = 16 << 20 };

typedef struct include_walk {
    weft_sha256 *h; /* NULL: the walk only visits */
    void (*visit)(void *user, const char *text, size_t size);
    void *user;
    const char *dirs[MAX_DIRS]; /* -I directories, in order */
    size_t ndirs;
    char *seen[MAX_FILES]; /* files already hashed (include guards make cycles harmless) */
    size_t nseen;
    char name[4096], path[8192]; /* of the directive at hand; free again before recursing */
} include_walk;

/* Where the compiler would open name; 0 when nowhere. A directory of that
 * name does not count (compilers go on searching). A quoted name is looked
 * for first beside the file that includes it; the program's own source has
 * no file, and the compiler looks in the working directory (Rodinia's srad
 * includes "./main.h" so): from_dir NULL is ".". */
static int resolve(const include_walk *w, const char *name, int quoted, const char *from_dir,
                   char *path, size_t cap)
{
    struct stat info;
    if (name[0] == '/') {
        snprintf(path, cap, "%s", name);
        return stat(path, &info) == 0 && !S_ISDIR(info.st_mode);
    }
    if (quoted) {
        snprintf(path, cap, "%s/%s", from_dir ? from_dir : ".", name);
        if (stat(path, &info) == 0 && !S_ISDIR(info.st_mode)) return 1;
    }
    for (size_t i = 0; i < w->ndirs; i++) {
        snprintf(path, cap, "%s/%s", w->dirs[i], name);
        if (stat(path, &info) == 0 && !S_ISDIR(info.st_mode)) return 1;
    }
    return 0;
}

static weft_status walk_text(include_walk *w, const char *text, const char *from_dir, int depth);

static weft_status walk_file(include_walk *w, const char *path, int depth)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], path) == 0) return WEFT_OK;
    RETURN_IF(w->nseen == MAX_FILES, WEFT_ERR_RANGE, "more than %d included files", MAX_FILES);
    RETURN_IF(depth > MAX_DEPTH, WEFT_ERR_RANGE, "includes nest deeper than %d at %s", MAX_DEPTH,
              path);
    w->seen[w->nseen] = strdup(path);
    RETURN_IF(!w->seen[w->nseen], WEFT_ERR_NOMEM, "cannot copy an include path");
    path = w->seen[w->nseen++]; /* w->path is reused by the includes of this file */
    char *text = NULL;
    size_t size = 0;
    weft_status st = weft_file_read_regular(path, 0, MAX_INCLUDE, &text, &size);
    RETURN_IF(st != WEFT_OK && st != WEFT_ERR_NOMEM, st == WEFT_ERR_RANGE ? st : WEFT_ERR_IO,
              "included file: %s", weft_last_error());
    RETURN_ON_ERROR(st);
    uint64_t length = size;
    if (w->h) {
        weft_sha256_update(w->h, &length, sizeof length);
        weft_sha256_update(w->h, text, size);
    }
    if (w->visit) w->visit(w->user, text, size);
    char *dir = strdup(path);
    if (!dir) {
        free(text);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot copy an include path");
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    st = walk_text(w, text, dir, depth + 1);
    free(dir);
    free(text);
    return st;
}

/* One "#include" directive at line (past its '#'), or nothing. */
static weft_status walk_directive(include_walk *w, const char *p, const char *from_dir, int depth)
{
    p += strspn(p, " \t");
    if (strncmp(p, "include", 7) != 0) return WEFT_OK;
    p += 7;
    p += strspn(p, " \t");
    char close = *p == '"' ? '"' : *p == '<' ? '>' : '\0';
    size_t len = close ? strcspn(p + 1, close == '"' ? "\"\n" : ">\n") : strcspn(p, "\n");
    char *name = w->name, *path = w->path;
    if (len >= sizeof w->name) len = sizeof w->name - 1;
    memcpy(name, close ? p + 1 : p, len);
    name[len] = '\0';
    /* A computed include (#include MACRO) cannot be resolved here: its text
     * is all the key holds of it (documented). */
    if (w->h) {
        weft_sha256_field(w->h, close == '"' ? "include \"\""
                                : close      ? "include <>"
                                             : "include macro");
        weft_sha256_field(w->h, name);
    }
    if (!close || !resolve(w, name, close == '"', from_dir, path, sizeof w->path)) {
        if (w->h) weft_sha256_field(w->h, "unresolved");
        return WEFT_OK;
    }
    if (w->h) weft_sha256_field(w->h, path);
    return walk_file(w, path, depth);
}

static weft_status walk_text(include_walk *w, const char *text, const char *from_dir, int depth)
{
    for (const char *line = text; line && *line;) {
        const char *p = line + strspn(line, " \t");
        if (*p == '#') RETURN_ON_ERROR(walk_directive(w, p + 1, from_dir, depth));
        line = strchr(line, '\n');
        if (line) line++;
    }
    return WEFT_OK;
}

static weft_status walk(weft_sha256 *h, void (*visit)(void *, const char *, size_t), void *user,
                        const char *source, const char *options)
{
    include_walk *w = calloc(1, sizeof *w);
    RETURN_IF(!w, WEFT_ERR_NOMEM, "cannot allocate the include walk");
    w->h = h;
    w->visit = visit;
    w->user = user;
    char *copy = options ? strdup(options) : NULL;
    if (options && !copy) {
        free(w);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot copy the build options");
    }
    char *save = NULL;
    for (char *tok = copy ? strtok_r(copy, " \t", &save) : NULL; tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (strncmp(tok, "-I", 2) != 0) continue;
        const char *dir = tok[2] ? tok + 2 : strtok_r(NULL, " \t", &save);
        if (dir && w->ndirs < MAX_DIRS) w->dirs[w->ndirs++] = dir;
    }
    weft_status st = walk_text(w, source ? source : "", NULL, 0);
    for (size_t i = 0; i < w->nseen; i++)
        free(w->seen[i]);
    free(w);
    free(copy);
    return st;
}

weft_status weft_include_hash(weft_sha256 *h, const char *source, const char *options)
{
    return walk(h, NULL, NULL, source, options);
}

weft_status weft_include_visit(const char *source, const char *options,
                               void (*visit)(void *user, const char *text, size_t size), void *user)
{
    return walk(NULL, visit, user, source, options);
}
