/* The parsed conditions weft_filter plans from, kept for the next call of the
 * same text and bindings: parsing sets up an arena of nodes (half a MiB),
 * which doubled the cost of a small filter. A few of them, process-wide,
 * the oldest replaced; the trees are never changed once parsed. */
#include "filter_fused.h"
#include "../mem/layout.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEPT = 8 };

typedef struct kept_tree {
    char *key;    /* the text, then each binding's name, kind and dtype */
    weft_expr *e; /* NULL: the text does not parse */
} kept_tree;

static kept_tree kept[KEPT];
static size_t next_slot;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static char *key_of(const char *cond, const weft_expr_binding *b, size_t nbinds)
{
    size_t len = strlen(cond) + 2;
    for (size_t k = 0; k < nbinds; k++)
        len += strlen(b[k].name) + 32;
    char *key = malloc(len), *at = key;
    if (!key) return NULL;
    at += snprintf(at, len, "%s\n", cond);
    for (size_t k = 0; k < nbinds; k++)
        at += snprintf(at, len - (size_t)(at - key), "%s:%d:%d;", b[k].name, b[k].is_array,
                       (int)b[k].dtype);
    return key;
}

void weft_filter_plan_cond(const char *cond, const weft_bind *binds, size_t nbinds,
                           const int *view_of_bind, weft_filter_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    weft_expr_binding b[WEFT_EXPR_MAX_BINDINGS];
    if (nbinds > WEFT_EXPR_MAX_BINDINGS) return;
    for (size_t k = 0; k < nbinds; k++)
        b[k] = (weft_expr_binding){binds[k].name, binds[k].array != NULL,
                                   binds[k].array ? binds[k].array->dtype : binds[k].dtype};
    char *key = key_of(cond, b, nbinds);
    if (!key) return;
    pthread_mutex_lock(&lock);
    for (size_t s = 0; s < KEPT; s++)
        if (kept[s].key && !strcmp(kept[s].key, key)) {
            if (kept[s].e) weft_filter_plan_of(kept[s].e, binds, view_of_bind, plan);
            pthread_mutex_unlock(&lock);
            free(key);
            return;
        }
    pthread_mutex_unlock(&lock);
    weft_expr *e = NULL;
    if (weft_expr_parse(cond, b, nbinds, WEFT_EXPR_REDUCE, &e) != WEFT_OK) {
        weft_expr_free(e);
        e = NULL;
    }
    if (e) weft_filter_plan_of(e, binds, view_of_bind, plan);
    pthread_mutex_lock(&lock);
    kept_tree *slot = &kept[next_slot++ % KEPT];
    free(slot->key);
    weft_expr_free(slot->e);
    *slot = (kept_tree){key, e};
    pthread_mutex_unlock(&lock);
}
