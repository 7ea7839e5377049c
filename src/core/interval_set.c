#include "interval_set.h"

#include <stdlib.h>

struct weft_interval_node {
    uintptr_t lo, hi;
    uintptr_t max_hi; /* the largest hi in this subtree: where no overlap can be */
    void *item;
    uint64_t priority; /* heap order: a hash of the item keeps the tree shallow */
    weft_interval_node *left, *right;
};

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void update(weft_interval_node *t)
{
    uintptr_t m = t->hi;
    if (t->left && t->left->max_hi > m) m = t->left->max_hi;
    if (t->right && t->right->max_hi > m) m = t->right->max_hi;
    t->max_hi = m;
}

/* Order: by lo, then by the item's address (two items may share a lo). */
static int key_less(uintptr_t lo, const void *item, uintptr_t lo2, const void *item2)
{
    return lo < lo2 || (lo == lo2 && (uintptr_t)item < (uintptr_t)item2);
}

/* Nodes before (lo, item) to *left, the rest to *right. */
static void split(weft_interval_node *t, uintptr_t lo, const void *item, weft_interval_node **left,
                  weft_interval_node **right)
{
    if (!t) {
        *left = *right = NULL;
    } else if (key_less(t->lo, t->item, lo, item)) {
        split(t->right, lo, item, &t->right, right);
        *left = t;
        update(t);
    } else {
        split(t->left, lo, item, left, &t->left);
        *right = t;
        update(t);
    }
}

/* Every node of a before every node of b. */
static weft_interval_node *merge(weft_interval_node *a, weft_interval_node *b)
{
    if (!a) return b;
    if (!b) return a;
    if (a->priority > b->priority) {
        a->right = merge(a->right, b);
        update(a);
        return a;
    }
    b->left = merge(a, b->left);
    update(b);
    return b;
}

int weft_interval_add(weft_interval_set *set, uintptr_t lo, uintptr_t hi, void *item)
{
    weft_interval_node *n = malloc(sizeof *n);
    if (!n) return 0;
    *n = (weft_interval_node){.lo = lo,
                              .hi = hi,
                              .max_hi = hi,
                              .item = item,
                              .priority = mix((uint64_t)(uintptr_t)item ^ mix(lo))};
    weft_interval_node *left, *right;
    split(set->root, lo, item, &left, &right);
    set->root = merge(merge(left, n), right);
    return 1;
}

static weft_interval_node *erase(weft_interval_node *t, uintptr_t lo, const void *item)
{
    if (!t) return NULL;
    if (t->lo == lo && t->item == item) {
        weft_interval_node *rest = merge(t->left, t->right);
        free(t);
        return rest;
    }
    if (key_less(lo, item, t->lo, t->item))
        t->left = erase(t->left, lo, item);
    else
        t->right = erase(t->right, lo, item);
    update(t);
    return t;
}

void weft_interval_remove(weft_interval_set *set, uintptr_t lo, void *item)
{
    set->root = erase(set->root, lo, item);
}

static int visit(const weft_interval_node *t, uintptr_t lo, uintptr_t hi, weft_interval_visit_fn fn,
                 void *arg)
{
    /* Nothing below ends past lo; and right of a node that starts at or
     * past hi, everything does too. */
    if (!t || t->max_hi <= lo) return 0;
    int stop = visit(t->left, lo, hi, fn, arg);
    if (stop || t->lo >= hi) return stop;
    if (lo < t->hi && (stop = fn(t->item, arg)) != 0) return stop;
    return visit(t->right, lo, hi, fn, arg);
}

int weft_interval_visit(const weft_interval_set *set, uintptr_t lo, uintptr_t hi,
                        weft_interval_visit_fn fn, void *arg)
{
    return visit(set->root, lo, hi, fn, arg);
}
