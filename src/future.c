/* Futures: a status that becomes known later, shared by the stream and the user. */
#include "clock.h"
#include "error.h"
#include "handles.h"
#include "stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct weft_future {
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int observed;        /* the user saw the status (wait or status) */
    int user_released;   /* the user dropped their reference */
    weft_stream *stream; /* where an unobserved failure is reported */
    weft_status status;
    char *detail; /* the failing operation's weft_last_error() */
};

weft_future *weft_future_create(int refs, weft_stream *stream)
{
    weft_future *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    if (weft_handle_add(f) != WEFT_OK) {
        free(f);
        return NULL;
    }
    f->stream = stream;
    atomic_init(&f->refs, refs);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    return f;
}

int weft_future_complete(weft_future *f, weft_status status, const char *detail)
{
    pthread_mutex_lock(&f->lock);
    f->status = status;
    f->detail = (status != WEFT_OK && detail) ? strdup(detail) : NULL;
    f->done = 1;
    int orphaned = f->user_released;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return orphaned;
}

weft_status weft_future_wait(weft_future *f)
{
    RETURN_IF(!f, WEFT_ERR_NULL, "weft_future_wait: future is NULL");
    RETURN_IF(!weft_handle_live(f), WEFT_ERR_STATE, "weft_future_wait: not a live future");
    pthread_mutex_lock(&f->lock);
    if (f->user_released) {
        pthread_mutex_unlock(&f->lock);
        return weft_error_set(WEFT_ERR_STATE, "weft_future_wait: the future was released");
    }
    if (!f->done) {
        double t0 = weft_now();
        while (!f->done)
            pthread_cond_wait(&f->cond, &f->lock);
        weft_stream_waited(f->stream, t0);
    }
    weft_status status = f->status;
    f->observed = 1;
    pthread_mutex_unlock(&f->lock);
    if (status != WEFT_OK) weft_error_copy(f->detail ? f->detail : weft_status_str(status));
    return status;
}

weft_status weft_future_status(weft_future *f, weft_future_state *state, weft_status *result)
{
    RETURN_IF(!f || !state, WEFT_ERR_NULL, "weft_future_status: future or state is NULL");
    RETURN_IF(!weft_handle_live(f), WEFT_ERR_STATE,
              "weft_future_status: %p is not a live future (released already?)", (void *)f);
    pthread_mutex_lock(&f->lock);
    if (f->user_released) { /* the operation still holds it, the caller no longer does */
        pthread_mutex_unlock(&f->lock);
        return weft_error_set(WEFT_ERR_STATE, "weft_future_status: the future was released");
    }
    *state = f->done ? WEFT_FUTURE_DONE : WEFT_FUTURE_PENDING;
    if (result) *result = f->done ? f->status : WEFT_OK;
    if (f->done && result) f->observed = 1;
    pthread_mutex_unlock(&f->lock);
    return WEFT_OK;
}

/* The stream's own reference is dropped with weft_future_drop. */
weft_status weft_future_release(weft_future *f)
{
    if (!f) return WEFT_OK;
    RETURN_IF(!weft_handle_live(f), WEFT_ERR_STATE,
              "weft_future_release: %p is not a live future (released twice?)", (void *)f);
    pthread_mutex_lock(&f->lock);
    if (f->user_released) {
        pthread_mutex_unlock(&f->lock);
        return weft_error_set(WEFT_ERR_STATE, "weft_future_release: future released twice");
    }
    f->user_released = 1;
    weft_status unseen = f->done && !f->observed ? f->status : WEFT_OK;
    pthread_mutex_unlock(&f->lock);
    if (unseen != WEFT_OK) weft_stream_unreported(f->stream, unseen);
    weft_future_drop(f);
    return WEFT_OK;
}

void weft_future_drop(weft_future *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1) return;
    weft_handle_remove(f);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->detail);
    free(f);
}
