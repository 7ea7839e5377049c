/* Background builds of expressions' device code (expr_build.h). */
#include "expr_build.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/fork_registry.h"
#include "../exec/placement.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

typedef struct build_job {
    weft_compiled *compiled;
    size_t device;
    struct build_job *next;
} build_job;

struct weft_expr_builds {
    struct weft_expr_builds *next_live; /* in the process's list (live_lock) */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a job was queued, or stop */
    pthread_cond_t idle; /* a job ended */
    pthread_t thread;
    int started, stop;
    pid_t pid; /* the process the thread runs in: a fork child has none */
    build_job *queue, **tail;
    build_job *running;
    weft_fork_member forked; /* the lock free at fork(); the child's state reset */
};

/* Builds c's kernel on device d through the driver, which publishes it (or
 * WEFT_KERNEL_FAILED: the pool runs the expression from then on) as its
 * first launch would have. */
static void build_one(weft_ctx *ctx, weft_compiled *c, size_t d)
{
    weft_device *dev = &ctx->devices[d];
    if (atomic_load(&c->kernels[d]) != NULL) return;
    double t0 = weft_now();
    if (dev->ops.expr_build(dev, c) == WEFT_OK)
        weft_log(&ctx->log, WEFT_LOG_INFO,
                 "device %zu built \"%s\" in the background in %.3f s (the pool ran it meanwhile)",
                 d, c->expr->text, weft_now() - t0);
}

/* A compile takes a core for seconds: below the pool's threads, so the
 * operations running meanwhile keep theirs. Linux sets nice per thread. */
static void lower_priority(void)
{
#ifdef __linux__
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#endif
}

static void builds_at_exit(void);

/* exit() runs its handlers last registered first. A compiler's own static
 * objects are often made on their first use, in a build, after ours was
 * registered: they would be destroyed first, under a build still running.
 * Registered again after each of the first builds, ours runs before those
 * (not before what the build under way at exit makes for the first time:
 * the main thread's destructor below covers that; this handler, an exit()
 * called from another thread). */
static void reregister_at_exit(void)
{
    static atomic_int times;
    if (atomic_fetch_add(&times, 1) < 16) (void)atexit(builds_at_exit);
}

static void *builder(void *arg)
{
    weft_ctx *ctx = arg;
    weft_expr_builds *b = ctx->builds;
    lower_priority();
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->stop && !b->queue)
            pthread_cond_wait(&b->wake, &b->lock);
        if (b->stop) break;
        build_job *job = b->queue;
        b->queue = job->next;
        if (!b->queue) b->tail = &b->queue;
        b->running = job;
        pthread_mutex_unlock(&b->lock);
        build_one(ctx, job->compiled, job->device);
        reregister_at_exit();
        pthread_mutex_lock(&b->lock);
        b->running = NULL;
        free(job);
        pthread_cond_broadcast(&b->idle);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* A fork child: the builder thread is not here, and a condition it waited
 * on in the parent still counts it (glibc's signal then waited for it
 * forever). The queued builds stay, for a builder started anew. */
static void builds_in_child(void *owner)
{
    weft_expr_builds *b = owner;
    pthread_cond_init(&b->wake, NULL);
    pthread_cond_init(&b->idle, NULL);
    b->started = 0;
    b->running = NULL;
}

/* Every context's builds, so that exit() waits for a compile under way:
 * exit runs the libraries' destructors (LLVM's pass registry) while the
 * builder thread still compiles in them, a crash about one run in ten of a
 * script that ends with a build running (its context never freed). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_expr_builds *live;
static pthread_once_t at_exit_once = PTHREAD_ONCE_INIT;

void weft_expr_builds_stop_all(void)
{
    builds_at_exit();
}

/* At exit: no build starts any more, and the one running ends first. The
 * threads are not joined (a context freed later does it); their memory
 * stays for it. */
static void builds_at_exit(void)
{
    pthread_mutex_lock(&live_lock);
    for (weft_expr_builds *b = live; b; b = b->next_live) {
        pthread_mutex_lock(&b->lock);
        b->stop = 1;
        pthread_cond_broadcast(&b->wake);
        /* Not for a build on this thread: exit() from a log hook it called. */
        while (b->started && b->pid == getpid() && b->running &&
               !pthread_equal(b->thread, pthread_self()))
            pthread_cond_wait(&b->idle, &b->lock);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_unlock(&live_lock);
}

/* exit() runs the exiting thread's thread-local destructors before any
 * atexit handler (glibc's __run_exit_handlers, as for C++ thread_local),
 * so a destructor of the main thread's stops the builds before the
 * compiler's objects go, even those its first build from source made after
 * every handler of ours. The main thread's destructors run only when the
 * process ends by exit() or a return from main (not after its
 * pthread_exit). Other threads' ending must not stop them; an exit() called
 * from one is left to the atexit handler, as is a process whose main
 * thread never made a context or an expression (docs/RELIABILITY.md). A
 * thread-local destructor is the calling thread's own: registered from the
 * threads that call weft, never from the stream's, which run the builds'
 * deferral. */
#if defined(__GLIBC__)
extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso_symbol);
extern void *__dso_handle;

static void thread_ends(void *unused)
{
    (void)unused;
#ifdef __linux__
    if ((pid_t)syscall(SYS_gettid) == getpid()) builds_at_exit();
#endif
}

void weft_expr_builds_watch_exit(void)
{
    static _Thread_local int watched;
    if (watched) return;
    watched = 1;
    (void)__cxa_thread_atexit_impl(thread_ends, NULL, &__dso_handle);
}
#else
void weft_expr_builds_watch_exit(void) {}
#endif

/* A fork child has only the forking thread: the list's lock is free. */
static void live_in_child(void)
{
    pthread_mutex_init(&live_lock, NULL);
}

static void register_at_exit(void)
{
    (void)atexit(builds_at_exit);
    (void)pthread_atfork(NULL, NULL, live_in_child);
}

/* Out of the process's list and the fork registry, and freed: its thread,
 * if it had one, has ended. */
static void builds_forget(weft_expr_builds *b)
{
    pthread_mutex_lock(&live_lock);
    for (weft_expr_builds **at = &live; *at; at = &(*at)->next_live)
        if (*at == b) {
            *at = b->next_live;
            break;
        }
    pthread_mutex_unlock(&live_lock);
    weft_fork_remove(&b->forked);
    pthread_cond_destroy(&b->wake);
    pthread_cond_destroy(&b->idle);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static weft_expr_builds *builds_of(weft_ctx *ctx)
{
    pthread_once(&at_exit_once, register_at_exit);
    pthread_mutex_lock(&ctx->lock);
    weft_expr_builds *b = ctx->builds;
    pthread_mutex_unlock(&ctx->lock);
    if (b) return b;
    /* Made outside the context's lock, a leaf of the fork registry: no
     * member is added while a registered lock is held. */
    weft_expr_builds *made = calloc(1, sizeof *made);
    if (!made) return NULL;
    pthread_mutex_init(&made->lock, NULL);
    pthread_cond_init(&made->wake, NULL);
    pthread_cond_init(&made->idle, NULL);
    made->tail = &made->queue;
    made->forked = (weft_fork_member){
        .lock = &made->lock, .child = builds_in_child, .owner = made, .level = WEFT_FORK_BUILDS};
    weft_fork_add(&made->forked);
    pthread_mutex_lock(&live_lock);
    made->next_live = live;
    live = made;
    pthread_mutex_unlock(&live_lock);
    pthread_mutex_lock(&ctx->lock);
    b = ctx->builds ? ctx->builds : (ctx->builds = made);
    pthread_mutex_unlock(&ctx->lock);
    if (b != made) builds_forget(made); /* another thread made the context's first */
    return b;
}

/* With b->lock held. */
static int pending(const weft_expr_builds *b, const weft_compiled *c, size_t d)
{
    if (b->running && b->running->compiled == c && b->running->device == d) return 1;
    for (const build_job *j = b->queue; j; j = j->next)
        if (j->compiled == c && j->device == d) return 1;
    return 0;
}

/* With b->lock held: the thread runs in this process, started if need be. */
static int thread_ready(weft_ctx *ctx, weft_expr_builds *b)
{
    if (b->started && b->pid == getpid()) return 1;
    b->started = 0; /* a fork child: the parent's thread is not here */
    b->running = NULL;
    if (pthread_create(&b->thread, NULL, builder, ctx) != 0) return 0;
    b->started = 1;
    b->pid = getpid();
    return 1;
}

uint64_t weft_expr_builds_defer(weft_ctx *ctx, weft_compiled *c, weft_prim prim)
{
    if (ctx->compile_sync) return 0;
    uint64_t missing = 0;
    for (size_t d = 1; d < ctx->ndevices && d < 64; d++) {
        const weft_device *dev = &ctx->devices[d];
        if (dev->info.selected && weft_device_native(dev, prim) &&
            atomic_load(&c->kernels[d]) == NULL && dev->ops.expr_build)
            missing |= (uint64_t)1 << d;
    }
    if (!missing) return 0;
    int may_defer = weft_place_pool_may_run(ctx, c->expr->text);
    weft_expr_builds *b = builds_of(ctx);
    if (!b) return 0;

    uint64_t deferred = 0;
    pthread_mutex_lock(&b->lock);
    /* After exit began (builds_at_exit) nothing is deferred: built here. */
    if (!may_defer || b->stop || !thread_ready(ctx, b)) {
        /* Built in this call: after any build of it already under way. */
        for (size_t d = 1; d < 64; d++)
            while ((missing >> d & 1) && b->started && b->pid == getpid() && pending(b, c, d))
                pthread_cond_wait(&b->idle, &b->lock);
        pthread_mutex_unlock(&b->lock);
        return 0;
    }
    for (size_t d = 1; d < 64; d++) {
        if (!(missing >> d & 1)) continue;
        if (!pending(b, c, d)) {
            build_job *job = calloc(1, sizeof *job);
            if (!job) continue; /* built in the call instead */
            job->compiled = c;
            job->device = d;
            *b->tail = job;
            b->tail = &job->next;
        }
        deferred |= (uint64_t)1 << d;
    }
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    return deferred;
}

void weft_expr_builds_wait(weft_ctx *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    weft_expr_builds *b = ctx->builds;
    pthread_mutex_unlock(&ctx->lock);
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    while (b->started && b->pid == getpid() && !b->stop && (b->queue || b->running))
        pthread_cond_wait(&b->idle, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

void weft_expr_builds_stop(weft_ctx *ctx)
{
    weft_expr_builds *b = ctx->builds;
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    b->stop = 1;
    for (build_job *j = b->queue, *next; j; j = next) {
        next = j->next;
        free(j);
    }
    b->queue = NULL;
    b->tail = &b->queue;
    int join = b->started && b->pid == getpid();
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (join) pthread_join(b->thread, NULL);
    builds_forget(b);
    ctx->builds = NULL;
}
