/* weft._weft: the binding of weft's C API for Python, written against the
 * stable ABI (the limited API of Python 3.11: one wheel serves 3.11 and
 * later). Every call that may block (creating and freeing contexts and arrays,
 * operations run to completion, waits, syncs) runs with the GIL released.
 *
 * What lives here: Context, Array (buffer protocol, __array_interface__,
 * __dlpack__ in and out of weft's host storage), Op (one weft_future and the
 * storage its result is written to) and the operations. The Python layer
 * (weft/__init__.py) adds the default context, concurrent.futures futures and
 * the keyword conventions. */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <weft.h>

#include "dlpack_abi.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PyObject *WeftError; /* weft.WeftError */
/* weft.SizeError, ...: one subclass of WeftError per status (index: the value). */
enum { STATUS_SLOTS = 32 };
static PyObject *status_errors[STATUS_SLOTS];
static PyObject *default_ctx_fn; /* weft.get_context, set by the Python layer */
static PyTypeObject *ContextType, *ArrayType, *OpType;

/* ------------------------------------------------------------------------ */
/* Errors */

/* Raises WeftError for st with weft_last_error()'s detail, read before
 * anything else can call weft on this thread. Returns NULL. */
static PyObject *raise_status_detail(weft_status st, const char *detail)
{
    /* weft_status_str: "WEFT_ERR_SIZE (size mismatch)"; the detail most often
     * starts with it already. */
    const char *full = weft_status_str(st);
    size_t name_len = strcspn(full, " (:");
    if (!detail) detail = "";
    PyObject *name = PyUnicode_FromStringAndSize(full, (Py_ssize_t)name_len);
    PyObject *det = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    PyObject *msg = NULL, *exc = NULL, *code = NULL;
    if (!name || !det) goto done;
    if (!*detail)
        msg = PyUnicode_FromString(full);
    else if (strncmp(detail, full, name_len) == 0)
        msg = Py_NewRef(det);
    else
        msg = PyUnicode_FromFormat("%s: %U", full, det);
    if (!msg) goto done;
    PyObject *cls =
        (unsigned)st < STATUS_SLOTS && status_errors[st] ? status_errors[st] : WeftError;
    exc = PyObject_CallFunctionObjArgs(cls, msg, NULL);
    if (!exc) goto done;
    code = PyLong_FromLong((long)st);
    if (!code || PyObject_SetAttrString(exc, "status", code) < 0 ||
        PyObject_SetAttrString(exc, "status_name", name) < 0 ||
        PyObject_SetAttrString(exc, "detail", det) < 0)
        goto done;
    PyErr_SetObject(cls, exc);
done:
    Py_XDECREF(name);
    Py_XDECREF(det);
    Py_XDECREF(msg);
    Py_XDECREF(exc);
    Py_XDECREF(code);
    return NULL;
}

static PyObject *raise_status(weft_status st)
{
    return raise_status_detail(st, weft_last_error());
}

/* ------------------------------------------------------------------------ */
/* dtypes: weft's seven, plus bool stored as u8 (it keeps its "?" format) */

static int dtype_kind_size(weft_dtype dt, char *kind)
{
    switch (dt) {
    case WEFT_F32:
        *kind = 'f';
        return 4;
    case WEFT_F64:
        *kind = 'f';
        return 8;
    case WEFT_I32:
        *kind = 'i';
        return 4;
    case WEFT_I64:
        *kind = 'i';
        return 8;
    case WEFT_U32:
        *kind = 'u';
        return 4;
    case WEFT_U64:
        *kind = 'u';
        return 8;
    case WEFT_U8:
        *kind = 'u';
        return 1;
    default:
        *kind = '?';
        return 0;
    }
}

static const char *dtype_numpy_name(weft_dtype dt, int is_bool)
{
    if (is_bool) return "bool";
    static const char *names[] = {"float32", "float64", "int32", "uint32",
                                  "int64",   "uint64",  "uint8"};
    return (unsigned)dt < WEFT_DTYPE_COUNT ? names[dt] : "invalid";
}

static const char *dtype_format(weft_dtype dt, int is_bool)
{
    if (is_bool) return "?";
    static const char *fmts[] = {"f", "d", "i", "I", "q", "Q", "B"};
    return fmts[dt];
}

/* kind 'f', 'i', 'u' or 'b' and a size in bytes to a weft dtype. */
static int dtype_from_kind(char kind, Py_ssize_t size, weft_dtype *dt, int *is_bool)
{
    *is_bool = 0;
    if (kind == 'b' && size == 1) {
        *is_bool = 1;
        *dt = WEFT_U8;
        return 0;
    }
    if (kind == 'f' && size == 4)
        *dt = WEFT_F32;
    else if (kind == 'f' && size == 8)
        *dt = WEFT_F64;
    else if (kind == 'i' && size == 4)
        *dt = WEFT_I32;
    else if (kind == 'i' && size == 8)
        *dt = WEFT_I64;
    else if (kind == 'u' && size == 4)
        *dt = WEFT_U32;
    else if (kind == 'u' && size == 8)
        *dt = WEFT_U64;
    else if (kind == 'u' && size == 1)
        *dt = WEFT_U8;
    else
        return -1;
    return 0;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static PyObject *unsupported_dtype(const char *what)
{
    PyErr_Format(PyExc_TypeError,
                 "weft has no dtype for %s: weft arrays hold float32, float64, int32, uint32, "
                 "int64, uint64, uint8 or bool (as uint8), in native byte order",
                 what);
    return NULL;
}

/* A struct-module format of one item ("<f", "@q", "?") and its size. */
static int dtype_from_format(const char *fmt, Py_ssize_t itemsize, weft_dtype *dt, int *is_bool)
{
    if (!fmt) fmt = "B";
    char order = '@';
    if (*fmt && strchr("@=<>!", *fmt)) order = *fmt++;
    if (fmt[0] == '\0' || fmt[1] != '\0') return -1;
    int little = host_little_endian();
    if (itemsize > 1 && ((order == '<' && !little) || ((order == '>' || order == '!') && little)))
        return -1;
    char c = fmt[0], kind;
    if (strchr("fd", c))
        kind = 'f';
    else if (strchr("bhilqn", c))
        kind = 'i';
    else if (strchr("BHILQN", c))
        kind = 'u';
    else if (c == '?')
        kind = 'b';
    else
        return -1;
    return dtype_from_kind(kind, itemsize, dt, is_bool);
}

/* An __array_interface__ typestr ("<f4", "|u1", "|b1"). */
static int dtype_from_typestr(const char *ts, weft_dtype *dt, int *is_bool, Py_ssize_t *size)
{
    if (strlen(ts) < 3) return -1;
    char order = ts[0], kind = ts[1];
    char *end;
    long n = strtol(ts + 2, &end, 10);
    if (*end != '\0' || n <= 0) return -1;
    int little = host_little_endian();
    if (n > 1 && ((order == '<' && !little) || (order == '>' && little))) return -1;
    if (!strchr("<>|=", order)) return -1;
    *size = n;
    return dtype_from_kind(kind, n, dt, is_bool);
}

static void typestr_of(weft_dtype dt, int is_bool, char out[8])
{
    char kind;
    int size = dtype_kind_size(dt, &kind);
    if (is_bool) kind = 'b';
    snprintf(out, 8, "%c%c%d", size == 1 ? '|' : (host_little_endian() ? '<' : '>'), kind, size);
}

/* ------------------------------------------------------------------------ */
/* Context */

typedef struct {
    PyObject_HEAD weft_ctx *ctx;
} ContextObject;

static PyObject *context_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"devices",        "num_threads", "cache_dir", "zero_copy",
                             "small_elements", "smoke_test",  NULL};
    const char *devices = NULL, *cache_dir = NULL;
    int num_threads = 0, zero_copy = 1, smoke_test = 1;
    long long small_elements = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|z$izpLp:Context", kwlist, &devices, &num_threads,
                                     &cache_dir, &zero_copy, &small_elements, &smoke_test))
        return NULL;
    weft_options o;
    weft_options_init(&o);
    if (devices) o.devices = devices;
    o.num_threads = num_threads;
    o.cache_dir = cache_dir;
    o.zero_copy = zero_copy;
    o.small_elements = small_elements;
    o.smoke_test = smoke_test;
    weft_ctx *ctx = NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_ctx_create(&o, &ctx);
    Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
    ContextObject *self = (ContextObject *)alloc(tp, 0);
    if (!self) {
        Py_BEGIN_ALLOW_THREADS weft_ctx_free(ctx);
        Py_END_ALLOW_THREADS return NULL;
    }
    self->ctx = ctx;
    return (PyObject *)self;
}

static void context_dealloc(ContextObject *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    if (self->ctx) {
        weft_ctx *ctx = self->ctx;
        self->ctx = NULL;
        Py_BEGIN_ALLOW_THREADS weft_ctx_free(ctx);
        Py_END_ALLOW_THREADS
    }
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
    Py_DECREF(tp);
}

static PyObject *context_finish(ContextObject *self, PyObject *unused)
{
    (void)unused;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_ctx_finish(self->ctx);
    Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *context_devices(ContextObject *self, PyObject *unused)
{
    (void)unused;
    size_t count = 0;
    weft_status st = weft_device_count(self->ctx, &count);
    if (st != WEFT_OK) return raise_status(st);
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (size_t i = 0; i < count; i++) {
        weft_device_info info;
        st = weft_device_get_info(self->ctx, i, &info);
        if (st != WEFT_OK) {
            Py_DECREF(list);
            return raise_status(st);
        }
        PyObject *d = Py_BuildValue(
            "{s:n,s:s,s:s,s:s,s:s,s:K,s:K,s:I,s:O,s:O,s:O,s:d,s:s}", "index", (Py_ssize_t)i, "name",
            info.name, "vendor", info.vendor, "kind", weft_device_kind_name(info.kind), "platform",
            info.platform, "global_mem_bytes", (unsigned long long)info.global_mem_bytes,
            "max_alloc_bytes", (unsigned long long)info.max_alloc_bytes, "compute_units",
            info.compute_units, "usable", info.usable ? Py_True : Py_False, "selected",
            info.selected ? Py_True : Py_False, "zero_copy", info.zero_copy ? Py_True : Py_False,
            "weight", info.weight, "reason", info.reason);
        if (!d || PyList_Append(list, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(d);
    }
    return list;
}

static PyObject *context_stats(ContextObject *self, PyObject *unused)
{
    (void)unused;
    weft_stats s;
    weft_status st = weft_ctx_stats(self->ctx, &s);
    if (st != WEFT_OK) return raise_status(st);
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:K,s:K}", "bytes_to_device",
        (unsigned long long)s.bytes_to_device, "bytes_to_host", (unsigned long long)s.bytes_to_host,
        "bytes_device_to_device", (unsigned long long)s.bytes_device_to_device, "kernel_launches",
        (unsigned long long)s.kernel_launches, "tasks", (unsigned long long)s.tasks, "pieces_rerun",
        (unsigned long long)s.pieces_rerun, "wait_seconds", s.wait_seconds, "splits_checked",
        (unsigned long long)s.splits_checked, "kernels_kept_whole",
        (unsigned long long)s.kernels_kept_whole);
}

static PyObject *context_reset_stats(ContextObject *self, PyObject *unused)
{
    (void)unused;
    weft_status st = weft_ctx_stats_reset(self->ctx);
    if (st != WEFT_OK) return raise_status(st);
    Py_RETURN_NONE;
}

/* op_stats() -> [{"operation", "calls", "devices": [{pieces, elements, ...}]}] */
static PyObject *context_op_stats(ContextObject *self, PyObject *unused)
{
    (void)unused;
    size_t count = 0;
    weft_status st = weft_ctx_op_stats(self->ctx, NULL, 0, &count);
    if (st != WEFT_OK) return raise_status(st);
    weft_op_stats *all = PyMem_Calloc(count ? count : 1, sizeof *all);
    if (!all) return PyErr_NoMemory();
    size_t got = 0;
    st = weft_ctx_op_stats(self->ctx, all, count, &got);
    if (st != WEFT_OK) {
        PyMem_Free(all);
        return raise_status(st);
    }
    if (got > count) got = count;
    PyObject *list = PyList_New((Py_ssize_t)got);
    for (size_t i = 0; list && i < got; i++) {
        PyObject *devs = PyList_New((Py_ssize_t)all[i].ndevices);
        for (size_t d = 0; devs && d < all[i].ndevices; d++) {
            const weft_op_device_stats *ds = &all[i].device[d];
            PyObject *e = Py_BuildValue(
                "{s:K,s:K,s:d,s:d}", "pieces", (unsigned long long)ds->pieces, "elements",
                (unsigned long long)ds->elements, "seconds_per_element", ds->seconds_per_element,
                "model_seconds_per_element", ds->model_seconds_per_element);
            if (!e)
                Py_CLEAR(devs);
            else
                PyList_SetItem(devs, (Py_ssize_t)d, e);
        }
        PyObject *o = devs ? Py_BuildValue("{s:s,s:K,s:N}", "operation", all[i].operation, "calls",
                                           (unsigned long long)all[i].calls, "devices", devs)
                           : NULL;
        if (!o) {
            Py_CLEAR(list);
            break;
        }
        PyList_SetItem(list, (Py_ssize_t)i, o);
    }
    PyMem_Free(all);
    return list;
}

static PyObject *context_get_notes(ContextObject *self, void *unused)
{
    (void)unused;
    const char *notes = weft_ctx_notes(self->ctx);
    return PyUnicode_DecodeUTF8(notes, (Py_ssize_t)strlen(notes), "replace");
}

static PyObject *context_get_num_threads(ContextObject *self, void *unused)
{
    (void)unused;
    int n = 0;
    weft_status st = weft_ctx_num_threads(self->ctx, &n);
    if (st != WEFT_OK) return raise_status(st);
    return PyLong_FromLong(n);
}

static PyObject *context_get_small_elements(ContextObject *self, void *unused)
{
    (void)unused;
    int64_t n = 0;
    weft_status st = weft_ctx_small_elements(self->ctx, &n);
    if (st != WEFT_OK) return raise_status(st);
    return PyLong_FromLongLong(n);
}

static PyMethodDef context_methods[] = {
    {"reset_stats", (PyCFunction)context_reset_stats, METH_NOARGS, "weft_ctx_stats_reset"},
    {"op_stats", (PyCFunction)context_op_stats, METH_NOARGS,
     "Per operation: calls, and per device the pieces, elements and measured speed."},
    {"finish", (PyCFunction)context_finish, METH_NOARGS,
     "Block (GIL released) until every operation submitted so far has finished."},
    {"devices", (PyCFunction)context_devices, METH_NOARGS,
     "The devices: index 0 the host pool, then OpenCL devices (set-aside ones too)."},
    {"stats", (PyCFunction)context_stats, METH_NOARGS,
     "What the context moved and ran since it was created."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef context_getset[] = {
    {"notes", (getter)context_get_notes, NULL, "Why OpenCL devices are missing or set aside.",
     NULL},
    {"num_threads", (getter)context_get_num_threads, NULL, "The pool's width.", NULL},
    {"small_elements", (getter)context_get_small_elements, NULL,
     "Arrays below this many elements run on the host.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot context_slots[] = {
    {Py_tp_new, context_new},
    {Py_tp_dealloc, context_dealloc},
    {Py_tp_methods, context_methods},
    {Py_tp_getset, context_getset},
    {Py_tp_doc, "Context(devices=None, *, num_threads=0, cache_dir=None, zero_copy=True, "
                "small_elements=-1, smoke_test=True)\n\nA weft context: the devices, the thread "
                "pool and the queue of operations. The environment (WEFT_DEVICES, "
                "WEFT_NUM_THREADS, ...) overrides what is left at defaults."},
    {0, NULL}};

static PyType_Spec context_spec = {"weft.Context", sizeof(ContextObject), 0, Py_TPFLAGS_DEFAULT,
                                   context_slots};

/* ------------------------------------------------------------------------ */
/* Array */

typedef struct {
    PyObject_HEAD PyObject *ctx; /* ContextObject */
    weft_array *arr;
    char *data;
    size_t n;
    weft_dtype dtype;
    int is_bool;
    int readonly;
    int wraps_caller; /* data is the exporter's memory (no copy was made) */
    int ndim;
    Py_ssize_t *shape; /* ndim entries each, NULL for ndim 0 */
    Py_ssize_t *strides;
    void *owned;    /* our own aligned storage */
    PyObject *base; /* the exporter, held while we use its memory */
    Py_buffer view; /* the exporter's buffer, when we hold one */
    int has_view;
    PyObject *weakrefs; /* weft/_wraps.py finds the live wrap of a memory through them */
} ArrayObject;

static ContextObject *resolve_ctx(PyObject *ctx)
{
    if (!ctx || ctx == Py_None) {
        if (!default_ctx_fn) {
            PyErr_SetString(PyExc_RuntimeError, "weft: no default context");
            return NULL;
        }
        ctx = PyObject_CallNoArgs(default_ctx_fn);
        if (!ctx) return NULL;
    } else {
        Py_INCREF(ctx);
    }
    if (!PyObject_TypeCheck(ctx, ContextType)) {
        Py_DECREF(ctx);
        PyErr_SetString(PyExc_TypeError, "ctx must be a weft.Context");
        return NULL;
    }
    return (ContextObject *)ctx;
}

static ArrayObject *array_alloc(PyTypeObject *tp, ContextObject *ctx)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
    ArrayObject *a = (ArrayObject *)alloc(tp, 0);
    if (!a) return NULL;
    a->ctx = Py_NewRef((PyObject *)ctx);
    a->arr = NULL;
    a->data = NULL;
    a->n = 0;
    a->dtype = WEFT_F32;
    a->is_bool = a->readonly = a->wraps_caller = a->ndim = a->has_view = 0;
    a->shape = a->strides = NULL;
    a->owned = NULL;
    a->base = NULL;
    return a;
}

/* Shape, C-contiguous byte strides and the element count. */
static int array_set_shape(ArrayObject *a, int ndim, const Py_ssize_t *shape)
{
    size_t itemsize = weft_dtype_size(a->dtype);
    a->ndim = ndim;
    size_t n = 1;
    if (ndim > 0) {
        a->shape = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)ndim * 2);
        if (!a->shape) {
            PyErr_NoMemory();
            return -1;
        }
        a->strides = a->shape + ndim;
        for (int i = 0; i < ndim; i++) {
            if (shape[i] < 0) {
                PyErr_SetString(PyExc_ValueError, "negative dimension");
                return -1;
            }
            a->shape[i] = shape[i];
            if (shape[i] != 0 && n > (SIZE_MAX / itemsize) / (size_t)shape[i]) {
                PyErr_SetString(PyExc_OverflowError, "array too large");
                return -1;
            }
            n *= (size_t)shape[i];
        }
        Py_ssize_t stride = (Py_ssize_t)itemsize;
        for (int i = ndim - 1; i >= 0; i--) {
            a->strides[i] = stride;
            stride *= a->shape[i] ? a->shape[i] : 1;
        }
    }
    a->n = n;
    return 0;
}

/* Our own storage, aligned for weft_array_wrap's zero-copy path. */
static int array_alloc_storage(ArrayObject *a, int zero)
{
    size_t align = weft_array_wrap_alignment();
    if (align < sizeof(void *)) align = sizeof(void *);
    size_t bytes = (a->n ? a->n : 1) * weft_dtype_size(a->dtype);
    bytes = (bytes + align - 1) / align * align;
    void *p = NULL;
    if (posix_memalign(&p, align, bytes) != 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (zero) memset(p, 0, bytes);
    a->owned = p;
    a->data = p;
    return 0;
}

static int array_wrap(ArrayObject *a)
{
    ContextObject *c = (ContextObject *)a->ctx;
    weft_status st;
    /* A zero-length export may have no address: wrap one of our own bytes. */
    if (!a->data && array_alloc_storage(a, 1) < 0) return -1;
    /* Read-only memory (bytes, a non-writeable numpy array) is wrapped so:
     * every operation that would write it, kernels included, is refused. */
    Py_BEGIN_ALLOW_THREADS st =
        a->readonly ? weft_array_wrap_read_only(c->ctx, a->dtype, a->n, a->data, &a->arr)
                    : weft_array_wrap(c->ctx, a->dtype, a->n, a->data, &a->arr);
    Py_END_ALLOW_THREADS if (st != WEFT_OK)
    {
        a->arr = NULL;
        raise_status(st);
        return -1;
    }
    return 0;
}

/* Copies an n-dimensional strided block into contiguous dst. */
static void copy_strided(char *dst, const char *src, int ndim, const Py_ssize_t *shape,
                         const Py_ssize_t *strides, size_t itemsize, char **out)
{
    if (ndim == 0) {
        memcpy(dst, src, itemsize);
        *out = dst + itemsize;
        return;
    }
    for (Py_ssize_t i = 0; i < shape[0]; i++) {
        copy_strided(dst, src + i * strides[0], ndim - 1, shape + 1, strides + 1, itemsize, &dst);
    }
    *out = dst;
}

static int strides_contiguous(int ndim, const Py_ssize_t *shape, const Py_ssize_t *strides,
                              Py_ssize_t itemsize)
{
    if (!strides) return 1;
    Py_ssize_t expect = itemsize;
    for (int i = ndim - 1; i >= 0; i--) {
        if (shape[i] == 0) return 1;
        if (shape[i] != 1 && strides[i] != expect) return 0;
        expect *= shape[i];
    }
    return 1;
}

static void array_dealloc(ArrayObject *a)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)a);
    if (a->weakrefs) PyObject_ClearWeakRefs((PyObject *)a);
    if (a->arr && a->wraps_caller) {
        /* The exporter's memory holds the results once the array is gone.
         * With the GIL held: no other thread wraps this memory anew
         * (weft/_wraps.py) until this wrap's last copy is back and it is
         * freed. No operation uses it any more (each holds its arrays). */
        weft_array *arr = a->arr;
        a->arr = NULL;
        if (!a->readonly) weft_array_sync(arr);
        weft_array_free(arr);
    } else if (a->arr) {
        weft_array *arr = a->arr;
        a->arr = NULL;
        Py_BEGIN_ALLOW_THREADS weft_array_free(arr);
        Py_END_ALLOW_THREADS
    }
    if (a->has_view) PyBuffer_Release(&a->view);
    free(a->owned);
    PyMem_Free(a->shape);
    Py_XDECREF(a->base);
    Py_XDECREF(a->ctx);
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(a);
    Py_DECREF(tp);
}

enum { COPY_IF_NEEDED = -1, COPY_NEVER = 0, COPY_ALWAYS = 1 };

static int parse_copy(PyObject *copy, int *mode)
{
    if (!copy || copy == Py_None)
        *mode = COPY_IF_NEEDED;
    else {
        int t = PyObject_IsTrue(copy);
        if (t < 0) return -1;
        *mode = t ? COPY_ALWAYS : COPY_NEVER;
    }
    return 0;
}

static PyObject *need_copy_error(const char *why)
{
    PyErr_Format(PyExc_ValueError,
                 "weft.Array: wrapping this object without a copy is impossible (%s); pass "
                 "copy=None or copy=True to allow a copy",
                 why);
    return NULL;
}

/* From the buffer protocol. */
static PyObject *array_from_buffer(PyTypeObject *tp, ContextObject *ctx, PyObject *obj, int mode)
{
    Py_buffer v;
    int readonly = 0;
    if (PyObject_GetBuffer(obj, &v, PyBUF_RECORDS) < 0) {
        PyErr_Clear();
        if (PyObject_GetBuffer(obj, &v, PyBUF_RECORDS_RO) < 0) return NULL;
        readonly = 1;
    }
    readonly = readonly || v.readonly;
    weft_dtype dt;
    int is_bool;
    if (dtype_from_format(v.format, v.itemsize, &dt, &is_bool) < 0) {
        char what[64];
        snprintf(what, sizeof what, "buffer format '%s' (%zd-byte items)",
                 v.format ? v.format : "B", v.itemsize);
        PyBuffer_Release(&v);
        return unsupported_dtype(what);
    }
    int contiguous = PyBuffer_IsContiguous(&v, 'C');
    if (mode == COPY_NEVER && !contiguous) {
        PyBuffer_Release(&v);
        return need_copy_error("the buffer is not C-contiguous");
    }
    ArrayObject *a = array_alloc(tp, ctx);
    if (!a) {
        PyBuffer_Release(&v);
        return NULL;
    }
    a->dtype = dt;
    a->is_bool = is_bool;
    if (array_set_shape(a, v.ndim, v.ndim > 0 ? v.shape : NULL) < 0) goto fail;
    if (v.ndim > 0 && !v.shape) { /* a plain 1-D byte-like export */
        a->shape[0] = v.len / v.itemsize;
        a->n = (size_t)a->shape[0];
    }
    if (mode == COPY_ALWAYS || !contiguous) {
        if (array_alloc_storage(a, 0) < 0) goto fail;
        if (a->n > 0 &&
            PyBuffer_ToContiguous(a->data, &v, (Py_ssize_t)(a->n * v.itemsize), 'C') < 0)
            goto fail;
        PyBuffer_Release(&v);
    } else {
        a->view = v;
        a->has_view = 1;
        a->data = v.len > 0 ? v.buf : NULL;
        a->wraps_caller = 1;
        a->readonly = readonly;
    }
    if (array_wrap(a) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return (PyObject *)a;
fail:
    PyBuffer_Release(&v);
    Py_DECREF(a);
    return NULL;
}

static int tuple_to_ssize(PyObject *t, Py_ssize_t *out, int max, int *n, const char *what)
{
    if (!PyTuple_Check(t)) {
        PyErr_Format(PyExc_TypeError, "__array_interface__: %s must be a tuple", what);
        return -1;
    }
    Py_ssize_t len = PyTuple_Size(t);
    if (len > max) {
        PyErr_Format(PyExc_ValueError, "__array_interface__: more than %d dimensions", max);
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        out[i] = PyLong_AsSsize_t(PyTuple_GetItem(t, i));
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    *n = (int)len;
    return 0;
}

/* From __array_interface__ (version 3): data as (address, read-only). */
static PyObject *array_from_interface(PyTypeObject *tp, ContextObject *ctx, PyObject *obj,
                                      PyObject *iface, int mode)
{
    enum { MAXDIM = 64 };
    Py_ssize_t shape[MAXDIM], strides[MAXDIM];
    int ndim = 0, nstrides = 0;
    if (!PyDict_Check(iface)) {
        PyErr_SetString(PyExc_TypeError, "__array_interface__ is not a dict");
        return NULL;
    }
    PyObject *ts = PyDict_GetItemString(iface, "typestr");
    PyObject *sh = PyDict_GetItemString(iface, "shape");
    PyObject *data = PyDict_GetItemString(iface, "data");
    PyObject *st = PyDict_GetItemString(iface, "strides");
    PyObject *descr = PyDict_GetItemString(iface, "descr");
    (void)descr;
    if (!ts || !PyUnicode_Check(ts) || !sh) {
        PyErr_SetString(PyExc_TypeError, "__array_interface__ lacks typestr or shape");
        return NULL;
    }
    if (!data || !PyTuple_Check(data) || PyTuple_Size(data) != 2) {
        PyErr_SetString(PyExc_TypeError,
                        "__array_interface__: only data=(address, read_only) is supported");
        return NULL;
    }
    const char *typestr = PyUnicode_AsUTF8AndSize(ts, NULL);
    if (!typestr) return NULL;
    weft_dtype dt;
    int is_bool;
    Py_ssize_t itemsize;
    if (dtype_from_typestr(typestr, &dt, &is_bool, &itemsize) < 0) {
        char what[64];
        snprintf(what, sizeof what, "typestr '%s'", typestr);
        return unsupported_dtype(what);
    }
    if (tuple_to_ssize(sh, shape, MAXDIM, &ndim, "shape") < 0) return NULL;
    if (st && st != Py_None) {
        if (tuple_to_ssize(st, strides, MAXDIM, &nstrides, "strides") < 0) return NULL;
        if (nstrides != ndim) {
            PyErr_SetString(PyExc_ValueError,
                            "__array_interface__: strides and shape differ in length");
            return NULL;
        }
    }
    void *ptr = PyLong_AsVoidPtr(PyTuple_GetItem(data, 0));
    if (!ptr && PyErr_Occurred()) return NULL;
    int readonly = PyObject_IsTrue(PyTuple_GetItem(data, 1));
    if (readonly < 0) return NULL;
    int contiguous =
        strides_contiguous(ndim, shape, st && st != Py_None ? strides : NULL, itemsize);
    if (mode == COPY_NEVER && !contiguous) return need_copy_error("the data is not C-contiguous");
    ArrayObject *a = array_alloc(tp, ctx);
    if (!a) return NULL;
    a->dtype = dt;
    a->is_bool = is_bool;
    if (array_set_shape(a, ndim, shape) < 0) goto fail;
    if (mode == COPY_ALWAYS || !contiguous) {
        if (array_alloc_storage(a, 0) < 0) goto fail;
        if (a->n > 0) {
            char *end;
            copy_strided(a->data, ptr, ndim, shape, contiguous ? a->strides : strides,
                         (size_t)itemsize, &end);
        }
    } else {
        a->base = Py_NewRef(obj);
        a->data = a->n > 0 ? ptr : NULL;
        a->wraps_caller = 1;
        a->readonly = readonly;
    }
    if (array_wrap(a) < 0) goto fail;
    return (PyObject *)a;
fail:
    Py_DECREF(a);
    return NULL;
}

/* numpy's masked arrays export their data without the mask: weft would
 * count the masked values (sum, max) and write the masked slots (map). */
static int is_masked_array(PyObject *obj)
{
    /* Only numpy.ma's own class, and only where numpy is imported already
     * (a masked array cannot exist otherwise). */
    PyObject *ma = PyDict_GetItemString(PyImport_GetModuleDict(), "numpy.ma"); /* borrowed */
    PyObject *cls = ma ? PyObject_GetAttrString(ma, "MaskedArray") : NULL;
    int masked = cls ? PyObject_IsInstance(obj, cls) == 1 : 0;
    Py_XDECREF(cls);
    PyErr_Clear();
    return masked;
}

static PyObject *array_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"obj", "copy", "ctx", NULL};
    PyObject *obj, *copy = Py_None, *ctxarg = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$OO:Array", kwlist, &obj, &copy, &ctxarg))
        return NULL;
    int mode;
    if (parse_copy(copy, &mode) < 0) return NULL;
    if (PyObject_TypeCheck(obj, ArrayType) && mode != COPY_ALWAYS &&
        (ctxarg == Py_None || ctxarg == ((ArrayObject *)obj)->ctx))
        return Py_NewRef(obj);
    if (is_masked_array(obj)) {
        PyErr_SetString(PyExc_TypeError,
                        "weft.Array: a numpy masked array would lose its mask (the masked "
                        "values would be computed with); pass a.filled(value) or a.compressed()");
        return NULL;
    }
    ContextObject *ctx = resolve_ctx(ctxarg);
    if (!ctx) return NULL;
    PyObject *res = NULL;
    if (PyObject_CheckBuffer(obj)) {
        res = array_from_buffer(tp, ctx, obj, mode);
    } else {
        PyObject *iface = PyObject_GetAttrString(obj, "__array_interface__");
        if (iface) {
            res = array_from_interface(tp, ctx, obj, iface, mode);
            Py_DECREF(iface);
        } else {
            PyErr_Clear();
            /* pandas' Series and DataFrame export neither, but say how. */
            int to_numpy = PyObject_HasAttrString(obj, "to_numpy");
            PyErr_Format(PyExc_TypeError,
                         "weft.Array: %R exports neither the buffer protocol nor "
                         "__array_interface__%s",
                         (PyObject *)Py_TYPE(obj),
                         to_numpy ? " (pass its .to_numpy(), a numpy array of its values)" : "");
        }
    }
    Py_DECREF(ctx);
    return res;
}

/* Array._empty(shape, typestr, zero, ctx=None): our own aligned storage. */
static PyObject *array_empty(PyObject *cls, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"shape", "typestr", "zero", "ctx", NULL};
    PyObject *shape_obj, *ctxarg = Py_None;
    const char *typestr;
    int zero = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Os|pO:_empty", kwlist, &shape_obj, &typestr, &zero,
                                     &ctxarg))
        return NULL;
    Py_ssize_t shape[64];
    int ndim;
    if (tuple_to_ssize(shape_obj, shape, 64, &ndim, "shape") < 0) return NULL;
    weft_dtype dt;
    int is_bool;
    Py_ssize_t itemsize;
    if (dtype_from_typestr(typestr, &dt, &is_bool, &itemsize) < 0) {
        char what[64];
        snprintf(what, sizeof what, "dtype '%s'", typestr);
        return unsupported_dtype(what);
    }
    ContextObject *ctx = resolve_ctx(ctxarg);
    if (!ctx) return NULL;
    ArrayObject *a = array_alloc((PyTypeObject *)cls, ctx);
    Py_DECREF(ctx);
    if (!a) return NULL;
    a->dtype = dt;
    a->is_bool = is_bool;
    if (array_set_shape(a, ndim, shape) < 0 || array_alloc_storage(a, zero) < 0 ||
        array_wrap(a) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return (PyObject *)a;
}

static int array_sync(ArrayObject *a)
{
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_array_sync(a->arr);
    Py_END_ALLOW_THREADS if (st != WEFT_OK)
    {
        raise_status(st);
        return -1;
    }
    return 0;
}

static PyObject *array_sync_method(ArrayObject *a, PyObject *unused)
{
    (void)unused;
    if (array_sync(a) < 0) return NULL;
    Py_RETURN_NONE;
}

/* a.write(src, offset=0): copies src's elements into the array, as an operation. */
static PyObject *array_write_method(ArrayObject *a, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"src", "offset", NULL};
    PyObject *src;
    Py_ssize_t offset = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|n:write", kwlist, &src, &offset)) return NULL;
    if (a->readonly) {
        PyErr_SetString(PyExc_ValueError, "weft.Array: the array is read-only");
        return NULL;
    }
    Py_buffer v;
    if (PyObject_GetBuffer(src, &v, PyBUF_RECORDS_RO) < 0) return NULL;
    weft_dtype dt;
    int is_bool;
    /* Bytes into a bool array would store values numpy's bools never hold
     * (bools into bytes are their 0 and 1, as numpy stores them). */
    if (dtype_from_format(v.format, v.itemsize, &dt, &is_bool) < 0 || dt != a->dtype ||
        (a->is_bool && !is_bool)) {
        PyBuffer_Release(&v);
        PyErr_Format(PyExc_TypeError, "weft.Array.write: the source's dtype is not %s",
                     dtype_numpy_name(a->dtype, a->is_bool));
        return NULL;
    }
    if (!PyBuffer_IsContiguous(&v, 'C')) {
        PyBuffer_Release(&v);
        PyErr_SetString(PyExc_ValueError, "weft.Array.write: the source is not C-contiguous");
        return NULL;
    }
    size_t count = (size_t)(v.len / v.itemsize);
    if (offset < 0 || (size_t)offset > a->n || count > a->n - (size_t)offset) {
        PyBuffer_Release(&v);
        PyErr_SetString(PyExc_IndexError, "weft.Array.write: the source does not fit");
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_array_write(a->arr, (size_t)offset, count, v.buf);
    Py_END_ALLOW_THREADS PyBuffer_Release(&v);
    if (st != WEFT_OK) return raise_status(st);
    Py_RETURN_NONE;
}

/* After writing through an exported view: weft's copies on devices are stale.
 * The C API has no call for "the host storage changed", so the storage is
 * written onto itself with weft_array_write, which waits for devices first. */
static PyObject *array_mark_host_modified(ArrayObject *a, PyObject *unused)
{
    (void)unused;
    if (a->readonly) {
        PyErr_SetString(PyExc_ValueError, "weft.Array: the array is read-only");
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_array_write(a->arr, 0, a->n, a->data);
    Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    Py_RETURN_NONE;
}

static int array_getbuffer(ArrayObject *a, Py_buffer *v, int flags)
{
    if ((flags & PyBUF_WRITABLE) && a->readonly) {
        PyErr_SetString(PyExc_BufferError, "weft.Array: the array is read-only");
        return -1;
    }
    if (array_sync(a) < 0) return -1;
    size_t itemsize = weft_dtype_size(a->dtype);
    v->buf = a->data;
    v->obj = Py_NewRef((PyObject *)a);
    v->len = (Py_ssize_t)(a->n * itemsize);
    v->readonly = a->readonly;
    v->itemsize = (Py_ssize_t)itemsize;
    v->format = (flags & PyBUF_FORMAT) ? (char *)dtype_format(a->dtype, a->is_bool) : NULL;
    v->ndim = a->ndim;
    v->shape = (flags & PyBUF_ND) == PyBUF_ND ? a->shape : NULL;
    v->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? a->strides : NULL;
    v->suboffsets = NULL;
    v->internal = NULL;
    if (!(flags & PyBUF_ND) && a->ndim > 1) v->ndim = 1;
    return 0;
}

static void array_releasebuffer(ArrayObject *a, Py_buffer *v)
{
    (void)a;
    (void)v;
}

static PyObject *shape_tuple(const ArrayObject *a)
{
    PyObject *t = PyTuple_New(a->ndim);
    if (!t) return NULL;
    for (int i = 0; i < a->ndim; i++) {
        PyObject *d = PyLong_FromSsize_t(a->shape[i]);
        if (!d) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SetItem(t, i, d);
    }
    return t;
}

static PyObject *array_get_interface(ArrayObject *a, void *unused)
{
    (void)unused;
    if (array_sync(a) < 0) return NULL;
    char ts[8];
    typestr_of(a->dtype, a->is_bool, ts);
    PyObject *shape = shape_tuple(a);
    if (!shape) return NULL;
    return Py_BuildValue("{s:i,s:N,s:s,s:(N,O),s:O}", "version", 3, "shape", shape, "typestr", ts,
                         "data", PyLong_FromVoidPtr(a->data), a->readonly ? Py_True : Py_False,
                         "strides", Py_None);
}

/* DLPack export: the manager context is the Array, referenced until the
 * consumer calls the deleter (from any thread: it takes the GIL). */
static void dl_release_array(void *manager)
{
    if (!manager || !Py_IsInitialized()) return;
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF((PyObject *)manager);
    PyGILState_Release(g);
}

static void dl_deleter_legacy(weft_DLManagedTensor *m)
{
    dl_release_array(m->manager_ctx);
    free(m);
}

static void dl_deleter_versioned(weft_DLManagedTensorVersioned *m)
{
    dl_release_array(m->manager_ctx);
    free(m);
}

static void capsule_destructor_legacy(PyObject *cap)
{
    if (PyCapsule_IsValid(cap, "used_dltensor")) return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    weft_DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    if (m && m->deleter)
        m->deleter(m);
    else
        PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

static void capsule_destructor_versioned(PyObject *cap)
{
    if (PyCapsule_IsValid(cap, "used_dltensor_versioned")) return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    weft_DLManagedTensorVersioned *m = PyCapsule_GetPointer(cap, "dltensor_versioned");
    if (m && m->deleter)
        m->deleter(m);
    else
        PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

static void fill_dltensor(ArrayObject *a, weft_DLTensor *t, int64_t *shape, int64_t *strides)
{
    char kind;
    int size = dtype_kind_size(a->dtype, &kind);
    t->data = a->data;
    t->device.device_type = WEFT_kDLCPU;
    t->device.device_id = 0;
    t->ndim = a->ndim;
    t->dtype.code = a->is_bool    ? WEFT_kDLBool
                    : kind == 'f' ? WEFT_kDLFloat
                    : kind == 'i' ? WEFT_kDLInt
                                  : WEFT_kDLUInt;
    t->dtype.bits = (uint8_t)(size * 8);
    t->dtype.lanes = 1;
    for (int i = 0; i < a->ndim; i++) {
        shape[i] = a->shape[i];
        strides[i] = a->strides[i] / size;
    }
    t->shape = a->ndim ? shape : NULL;
    t->strides = a->ndim ? strides : NULL;
    t->byte_offset = 0;
}

static PyObject *array_dlpack_capsule(ArrayObject *a, int versioned)
{
    size_t extra = sizeof(int64_t) * 2 * (size_t)(a->ndim ? a->ndim : 1);
    if (versioned) {
        weft_DLManagedTensorVersioned *m = malloc(sizeof *m + extra);
        if (!m) return PyErr_NoMemory();
        int64_t *shape = (int64_t *)(m + 1);
        m->version.major = WEFT_DLPACK_MAJOR;
        m->version.minor = WEFT_DLPACK_MINOR;
        m->manager_ctx = Py_NewRef((PyObject *)a);
        m->deleter = dl_deleter_versioned;
        m->flags = a->readonly ? WEFT_DLPACK_FLAG_READ_ONLY : 0;
        fill_dltensor(a, &m->dl_tensor, shape, shape + (a->ndim ? a->ndim : 1));
        PyObject *cap = PyCapsule_New(m, "dltensor_versioned", capsule_destructor_versioned);
        if (!cap) m->deleter(m);
        return cap;
    }
    weft_DLManagedTensor *m = malloc(sizeof *m + extra);
    if (!m) return PyErr_NoMemory();
    int64_t *shape = (int64_t *)(m + 1);
    m->manager_ctx = Py_NewRef((PyObject *)a);
    m->deleter = dl_deleter_legacy;
    fill_dltensor(a, &m->dl_tensor, shape, shape + (a->ndim ? a->ndim : 1));
    PyObject *cap = PyCapsule_New(m, "dltensor", capsule_destructor_legacy);
    if (!cap) m->deleter(m);
    return cap;
}

static PyObject *array_dlpack(ArrayObject *a, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"stream", "max_version", "dl_device", "copy", NULL};
    PyObject *stream = Py_None, *max_version = Py_None, *dl_device = Py_None, *copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$OOOO:__dlpack__", kwlist, &stream, &max_version,
                                     &dl_device, &copy))
        return NULL;
    /* Host memory: there is no stream to order against (stream is ignored). */
    if (dl_device != Py_None) {
        int type = -1, id = -1;
        if (!PyArg_ParseTuple(dl_device, "ii", &type, &id)) return NULL;
        if (type != WEFT_kDLCPU || id != 0) {
            PyErr_SetString(PyExc_BufferError, "weft.Array: only kDLCPU device 0 is exported");
            return NULL;
        }
    }
    int versioned = 0;
    if (max_version != Py_None) {
        unsigned major = 0, minor = 0;
        if (!PyArg_ParseTuple(max_version, "II", &major, &minor)) return NULL;
        versioned = major >= 1;
    }
    int mode;
    if (parse_copy(copy, &mode) < 0) return NULL;
    if (array_sync(a) < 0) return NULL;
    if (mode == COPY_ALWAYS) {
        PyObject *ctor_args = Py_BuildValue("(O)", (PyObject *)a);
        PyObject *ctor_kw = Py_BuildValue("{s:O}", "copy", Py_True);
        PyObject *copied =
            ctor_args && ctor_kw ? PyObject_Call((PyObject *)ArrayType, ctor_args, ctor_kw) : NULL;
        Py_XDECREF(ctor_args);
        Py_XDECREF(ctor_kw);
        if (!copied) return NULL;
        PyObject *cap = array_dlpack_capsule((ArrayObject *)copied, versioned);
        Py_DECREF(copied);
        return cap;
    }
    return array_dlpack_capsule(a, versioned);
}

static PyObject *array_dlpack_device(ArrayObject *a, PyObject *unused)
{
    (void)a;
    (void)unused;
    return Py_BuildValue("(ii)", WEFT_kDLCPU, 0);
}

static PyObject *array_get_shape(ArrayObject *a, void *u)
{
    (void)u;
    return shape_tuple(a);
}
static PyObject *array_get_ndim(ArrayObject *a, void *u)
{
    (void)u;
    return PyLong_FromLong(a->ndim);
}
static PyObject *array_get_size(ArrayObject *a, void *u)
{
    (void)u;
    return PyLong_FromSize_t(a->n);
}
static PyObject *array_get_nbytes(ArrayObject *a, void *u)
{
    (void)u;
    return PyLong_FromSize_t(a->n * weft_dtype_size(a->dtype));
}
static PyObject *array_get_itemsize(ArrayObject *a, void *u)
{
    (void)u;
    return PyLong_FromSize_t(weft_dtype_size(a->dtype));
}
static PyObject *array_get_dtype(ArrayObject *a, void *u)
{
    (void)u;
    return PyUnicode_FromString(dtype_numpy_name(a->dtype, a->is_bool));
}
static PyObject *array_get_typestr(ArrayObject *a, void *u)
{
    (void)u;
    char ts[8];
    typestr_of(a->dtype, a->is_bool, ts);
    return PyUnicode_FromString(ts);
}
static PyObject *array_get_readonly(ArrayObject *a, void *u)
{
    (void)u;
    return PyBool_FromLong(a->readonly);
}
static PyObject *array_get_wraps(ArrayObject *a, void *u)
{
    (void)u;
    return PyBool_FromLong(a->wraps_caller);
}
static PyObject *array_get_aligned(ArrayObject *a, void *u)
{
    (void)u;
    return PyBool_FromLong((uintptr_t)a->data % weft_array_wrap_alignment() == 0);
}
static PyObject *array_get_ctx(ArrayObject *a, void *u)
{
    (void)u;
    return Py_NewRef(a->ctx);
}
static PyObject *array_get_address(ArrayObject *a, void *u)
{
    (void)u;
    return PyLong_FromVoidPtr(a->data);
}

static Py_ssize_t array_len(ArrayObject *a)
{
    if (a->ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d weft.Array");
        return -1;
    }
    return a->shape[0];
}

static PyObject *array_repr(ArrayObject *a)
{
    PyObject *shape = shape_tuple(a);
    if (!shape) return NULL;
    PyObject *r = PyUnicode_FromFormat(
        "weft.Array(shape=%R, dtype=%s%s%s)", shape, dtype_numpy_name(a->dtype, a->is_bool),
        a->wraps_caller ? ", wraps caller's memory" : "", a->readonly ? ", read-only" : "");
    Py_DECREF(shape);
    return r;
}

static PyMethodDef array_methods[] = {
    {"_empty", (PyCFunction)(void (*)(void))array_empty, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     NULL},
    {"sync", (PyCFunction)array_sync_method, METH_NOARGS,
     "Make the host memory current (waits for operations writing the array)."},
    {"write", (PyCFunction)(void (*)(void))array_write_method, METH_VARARGS | METH_KEYWORDS,
     "write(src, offset=0): copy a buffer's elements into the array, in its turn."},
    {"mark_host_modified", (PyCFunction)array_mark_host_modified, METH_NOARGS,
     "Tell weft the host memory was written through an exported view."},
    {"__dlpack__", (PyCFunction)(void (*)(void))array_dlpack, METH_VARARGS | METH_KEYWORDS,
     "__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None)"},
    {"__dlpack_device__", (PyCFunction)array_dlpack_device, METH_NOARGS, "(kDLCPU, 0)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef array_getset[] = {
    {"__array_interface__", (getter)array_get_interface, NULL, NULL, NULL},
    {"shape", (getter)array_get_shape, NULL, NULL, NULL},
    {"ndim", (getter)array_get_ndim, NULL, NULL, NULL},
    {"size", (getter)array_get_size, NULL, NULL, NULL},
    {"nbytes", (getter)array_get_nbytes, NULL, NULL, NULL},
    {"itemsize", (getter)array_get_itemsize, NULL, NULL, NULL},
    {"dtype", (getter)array_get_dtype, NULL, "numpy's name of the dtype", NULL},
    {"typestr", (getter)array_get_typestr, NULL, NULL, NULL},
    {"readonly", (getter)array_get_readonly, NULL, NULL, NULL},
    {"wraps_memory", (getter)array_get_wraps, NULL,
     "True when the array uses the exporter's memory (no copy was made)", NULL},
    {"aligned", (getter)array_get_aligned, NULL,
     "True when the memory meets weft_array_wrap_alignment() (devices that share host memory "
     "use it in place)",
     NULL},
    {"ctx", (getter)array_get_ctx, NULL, NULL, NULL},
    {"_address", (getter)array_get_address, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef array_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ArrayObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}};

static PyType_Slot array_slots[] = {
    {Py_tp_new, array_new},
    {Py_tp_members, array_members},
    {Py_tp_dealloc, array_dealloc},
    {Py_tp_methods, array_methods},
    {Py_tp_getset, array_getset},
    {Py_tp_repr, array_repr},
    {Py_sq_length, array_len},
    {Py_bf_getbuffer, array_getbuffer},
    {Py_bf_releasebuffer, array_releasebuffer},
    {Py_tp_doc, "Array(obj, *, copy=None, ctx=None)\n\nA weft array over the memory of obj "
                "(buffer protocol or __array_interface__), without a copy when obj is "
                "C-contiguous and of a weft dtype. copy=False raises where a copy would be "
                "needed; copy=True always copies."},
    {0, NULL}};

static PyType_Spec array_spec = {"weft.Array", sizeof(ArrayObject), 0, Py_TPFLAGS_DEFAULT,
                                 array_slots};

/* ------------------------------------------------------------------------ */
/* Op: one weft_future, what its operation writes into, and what it uses. */

enum { RES_NONE, RES_SCALAR, RES_INDEX, RES_BOOL, RES_OBJECT, RES_COUNT };

typedef struct {
    PyObject_HEAD weft_future *f;
    PyObject *ctx;
    PyObject *keep;   /* arrays, strings: alive until the operation is done */
    PyObject *result; /* RES_OBJECT's result */
    int kind;
    weft_scalar scalar;
    size_t count; /* RES_COUNT: groups, or elements kept */
    int waited;
    int claimed;            /* someone completes what this Op stands for (_claim) */
    struct done_link *link; /* the registered _on_done callable, until claimed */
    weft_status st;
    PyObject *detail;
} OpObject;

static void link_drop(struct done_link *l);

static OpObject *op_new(ContextObject *ctx, int kind, PyObject *keep, PyObject *result)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(OpType, Py_tp_alloc);
    OpObject *op = (OpObject *)alloc(OpType, 0);
    if (!op) return NULL;
    op->f = NULL;
    op->ctx = Py_NewRef((PyObject *)ctx);
    op->keep = Py_XNewRef(keep);
    op->result = Py_XNewRef(result);
    op->kind = kind;
    memset(&op->scalar, 0, sizeof op->scalar);
    op->count = 0;
    op->waited = 0;
    op->claimed = 0;
    op->link = NULL;
    op->st = WEFT_OK;
    op->detail = NULL;
    return op;
}

/* op_new for a fresh tuple of what the operation uses: takes keep's
 * reference, and gives NULL when the tuple could not be made. */
static OpObject *op_keeping(ContextObject *ctx, int kind, PyObject *keep, PyObject *result)
{
    OpObject *op = keep ? op_new(ctx, kind, keep, result) : NULL;
    Py_XDECREF(keep);
    return op;
}

static void op_dealloc(OpObject *op)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)op);
    link_drop(op->link); /* the callback, if it is still to run, keeps its callable */
    if (op->f) {
        weft_future *f = op->f;
        int waited = op->waited;
        op->f = NULL;
        /* What the operation writes into lives here: it must be done first. */
        Py_BEGIN_ALLOW_THREADS if (!waited) weft_future_wait(f);
        weft_future_release(f);
        Py_END_ALLOW_THREADS
    }
    Py_XDECREF(op->keep);
    Py_XDECREF(op->result);
    Py_XDECREF(op->detail);
    Py_XDECREF(op->ctx);
    freefunc fr = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    fr(op);
    Py_DECREF(tp);
}

static PyObject *scalar_to_py(const weft_scalar *s, int kind)
{
    if (kind == RES_INDEX) return PyLong_FromUnsignedLongLong(s->index);
    if (kind == RES_BOOL) return PyBool_FromLong(s->value.i32 != 0);
    switch (s->dtype) {
    case WEFT_F32:
        return PyFloat_FromDouble(s->value.f32);
    case WEFT_F64:
        return PyFloat_FromDouble(s->value.f64);
    case WEFT_I32:
        return PyLong_FromLong(s->value.i32);
    case WEFT_U32:
        return PyLong_FromUnsignedLong(s->value.u32);
    case WEFT_I64:
        return PyLong_FromLongLong(s->value.i64);
    case WEFT_U64:
        return PyLong_FromUnsignedLongLong(s->value.u64);
    case WEFT_U8:
        return PyLong_FromLong(s->value.u8);
    default:
        return PyFloat_FromDouble(weft_scalar_as_double(s));
    }
}

static PyObject *op_result(OpObject *op)
{
    if (op->st != WEFT_OK) {
        const char *detail = op->detail ? PyUnicode_AsUTF8AndSize(op->detail, NULL) : "";
        return raise_status_detail(op->st, detail ? detail : "");
    }
    switch (op->kind) {
    case RES_NONE:
        Py_RETURN_NONE;
    case RES_OBJECT:
        return Py_NewRef(op->result ? op->result : Py_None);
    case RES_COUNT:
        return PyLong_FromSize_t(op->count);
    default:
        return scalar_to_py(&op->scalar, op->kind);
    }
}

/* Records the outcome once the future is done (GIL held). */
static void op_record(OpObject *op, weft_status st, const char *detail)
{
    if (op->waited) return;
    op->st = st;
    op->waited = 1;
    if (st != WEFT_OK)
        op->detail = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    if (!op->detail) PyErr_Clear();
    Py_CLEAR(op->keep); /* the arrays may go */
}

static PyObject *op_wait(OpObject *op, PyObject *unused)
{
    (void)unused;
    if (!op->waited && op->f) {
        weft_future_state state = WEFT_FUTURE_PENDING;
        weft_status st = weft_future_status(op->f, &state, NULL);
        if (st == WEFT_OK && state == WEFT_FUTURE_DONE) {
            st = weft_future_wait(op->f); /* at once: the GIL stays here */
        } else {
            Py_BEGIN_ALLOW_THREADS st = weft_future_wait(op->f);
            Py_END_ALLOW_THREADS
        }
        op_record(op, st, weft_last_error());
    }
    return op_result(op);
}

static PyObject *op_done(OpObject *op, PyObject *unused)
{
    (void)unused;
    if (op->waited || !op->f) Py_RETURN_TRUE;
    weft_future_state state;
    weft_status res;
    weft_status st = weft_future_status(op->f, &state, &res);
    if (st != WEFT_OK) return raise_status(st);
    return PyBool_FromLong(state == WEFT_FUTURE_DONE);
}

/* Set at interpreter exit (weft._weft._shutdown, from atexit): a callback
 * that comes later must not take the GIL, which a finalizing interpreter
 * answers by ending the calling thread, here weft's callback thread. */
static atomic_int python_exiting;

/* Callbacks registered and still to call into Python, which _shutdown lets
 * finish (a while) before callbacks stop calling. Counted per process: a
 * fork child never runs its parent's (weft drops them there), so it starts a
 * generation of its own, and the parent's that settle there count nowhere. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pending_cond = PTHREAD_COND_INITIALIZER;
static int pending_callbacks;
static unsigned pending_generation;

static unsigned pending_enter(void)
{
    pthread_mutex_lock(&pending_lock);
    pending_callbacks++;
    unsigned generation = pending_generation;
    pthread_mutex_unlock(&pending_lock);
    return generation;
}

static void pending_leave(unsigned generation)
{
    pthread_mutex_lock(&pending_lock);
    if (generation == pending_generation && --pending_callbacks == 0)
        pthread_cond_broadcast(&pending_cond);
    pthread_mutex_unlock(&pending_lock);
}

/* pthread_atfork's child handler: a thread of the parent may have held the
 * lock. */
static void pending_forked(void)
{
    pthread_mutex_init(&pending_lock, NULL);
    pthread_cond_init(&pending_cond, NULL);
    pending_callbacks = 0;
    pending_generation++;
}

/* What an Op and its callback on weft's callback thread share. Whoever
 * moves state off LINK_PENDING first decides who calls into Python: the
 * callback (LINK_CALLING) or nobody, because a waiter claimed the Op and
 * completes it on its own thread (LINK_CLAIMED). Then the callback drops its
 * reference without the GIL, and the waiter never waits for that thread: the
 * hand-off to it and back (two thread wake-ups on the critical path) is what
 * a future cost over a plain wait. */
enum { LINK_PENDING, LINK_CALLING, LINK_CLAIMED };
struct done_link {
    atomic_int refs; /* the Op's and the callback's */
    atomic_int state;
    PyObject *callable;  /* owned; dropped by the side that decided (GIL held) */
    unsigned generation; /* of the pending count it is in */
};

static atomic_long links_alive; /* for the tests: none is left behind */

/* Without the GIL: the link is plain memory. */
static void link_drop(struct done_link *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        free(l);
        atomic_fetch_sub(&links_alive, 1);
    }
}

/* Runs on weft's callback thread (weft_future_on_done), which holds no weft
 * lock: taking the GIL there cannot invert a lock order with a Python thread
 * that holds the GIL and calls weft. */
static void op_done_callback(void *user, weft_status status)
{
    (void)status; /* the callable asks the Op, which records the detail too */
    struct done_link *l = user;
    if (atomic_load(&python_exiting)) return; /* the references are left: no GIL to drop them */
    int expected = LINK_PENDING;
    if (atomic_compare_exchange_strong(&l->state, &expected, LINK_CALLING)) {
        PyGILState_STATE g = PyGILState_Ensure();
        PyObject *r = PyObject_CallNoArgs(l->callable);
        if (!r) PyErr_WriteUnraisable(l->callable);
        Py_XDECREF(r);
        Py_CLEAR(l->callable);
        PyGILState_Release(g);
    }
    unsigned generation = l->generation;
    link_drop(l);
    pending_leave(generation);
}

/* _on_done(callable) -> bool: callable() will run once the operation is
 * done, on weft's callback thread with the GIL held, unless the Op is claimed
 * first (_claim): True. False when the operation is done already: nothing is
 * registered, the caller completes it (no thread is woken for that). Once per
 * Op. */
static PyObject *op_on_done(OpObject *op, PyObject *callable)
{
    if (!PyCallable_Check(callable)) {
        PyErr_SetString(PyExc_TypeError, "_on_done takes a callable");
        return NULL;
    }
    if (op->link || op->claimed) {
        PyErr_SetString(PyExc_RuntimeError, "_on_done: the Op has its callback or was claimed");
        return NULL;
    }
    weft_future_state state = WEFT_FUTURE_DONE; /* no future: completed at submission */
    weft_status st = op->f ? weft_future_status(op->f, &state, NULL) : WEFT_OK;
    if (st != WEFT_OK) return raise_status(st);
    if (state == WEFT_FUTURE_DONE) Py_RETURN_FALSE;
    struct done_link *l = malloc(sizeof *l);
    if (!l) return PyErr_NoMemory();
    atomic_fetch_add(&links_alive, 1);
    atomic_init(&l->refs, 2);
    atomic_init(&l->state, LINK_PENDING);
    l->callable = Py_NewRef(callable);
    l->generation = pending_enter();
    st = weft_future_on_done(op->f, op_done_callback, l);
    if (st != WEFT_OK) {
        pending_leave(l->generation);
        Py_DECREF(callable);
        free(l);
        atomic_fetch_sub(&links_alive, 1);
        return raise_status(st);
    }
    op->link = l;
    Py_RETURN_TRUE;
}

/* _claim() -> bool: True for the first caller, which then completes what
 * the Op stands for (wait(), then the Python future); the callback of
 * _on_done, if it has not started, does not call into Python and is taken
 * back from weft when the operation is still running (no thread is woken for
 * it). GIL held throughout: claims from Python threads are ordered. */
static PyObject *op_claim(OpObject *op, PyObject *unused)
{
    (void)unused;
    if (op->claimed) Py_RETURN_FALSE;
    op->claimed = 1;
    struct done_link *l = op->link;
    op->link = NULL;
    int expected = LINK_PENDING;
    if (l && atomic_compare_exchange_strong(&l->state, &expected, LINK_CLAIMED)) {
        int cancelled = 0;
        weft_future_on_done_cancel(op->f, op_done_callback, l, &cancelled);
        Py_CLEAR(l->callable);
        if (cancelled) { /* the callback's share */
            pending_leave(l->generation);
            link_drop(l);
        }
    }
    link_drop(l);
    Py_RETURN_TRUE;
}

/* _unclaim(): the claimer's wait was interrupted (Ctrl-C): the Op is
 * unclaimed, so that _on_done may be called again and a later caller
 * completes it. */
static PyObject *op_unclaim(OpObject *op, PyObject *unused)
{
    (void)unused;
    op->claimed = 0;
    Py_RETURN_NONE;
}

static PyMethodDef op_methods[] = {
    {"wait", (PyCFunction)op_wait, METH_NOARGS,
     "Wait (GIL released) and return the result, or raise WeftError."},
    {"done", (PyCFunction)op_done, METH_NOARGS, "Non-blocking: is the operation done?"},
    {"_on_done", (PyCFunction)op_on_done, METH_O,
     "_on_done(callable) -> bool: call it (GIL held, on weft's callback thread) once done; "
     "False: done already, nothing registered."},
    {"_unclaim", (PyCFunction)op_unclaim, METH_NOARGS,
     "_unclaim(): after an interrupted wait, the Op may be claimed again."},
    {"_claim", (PyCFunction)op_claim, METH_NOARGS,
     "_claim() -> bool: True once, for whoever completes the Op's future; the "
     "_on_done callable is then not called."},
    {NULL, NULL, 0, NULL}};

static PyType_Slot op_slots[] = {{Py_tp_dealloc, op_dealloc},
                                 {Py_tp_methods, op_methods},
                                 {Py_tp_doc, "One queued weft operation (a weft_future)."},
                                 {0, NULL}};

static PyType_Spec op_spec = {"weft._weft.Op", sizeof(OpObject), 0, Py_TPFLAGS_DEFAULT, op_slots};

/* _wait_any(ops): waits (GIL released) until one is done; its index. */
static PyObject *mod_wait_any(PyObject *m, PyObject *seq)
{
    (void)m;
    PyObject *fast = PySequence_Fast(seq, "_wait_any takes a sequence of Op");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Size(fast);
    weft_future **fs = PyMem_Malloc(sizeof(weft_future *) * (size_t)(n ? n : 1));
    if (!fs) {
        Py_DECREF(fast);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PySequence_GetItem(fast, i);
        Py_XDECREF(o); /* the sequence keeps it */
        if (!o || !PyObject_TypeCheck(o, OpType) || !((OpObject *)o)->f) {
            PyMem_Free(fs);
            Py_DECREF(fast);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "_wait_any: not a live Op");
            return NULL;
        }
        fs[i] = ((OpObject *)o)->f;
    }
    size_t index = (size_t)-1;
    Py_BEGIN_ALLOW_THREADS weft_future_wait_any(fs, (size_t)n, &index);
    Py_END_ALLOW_THREADS PyMem_Free(fs);
    Py_DECREF(fast);
    if (index == (size_t)-1) return raise_status(WEFT_ERR_INVALID_ARG);
    return PyLong_FromSize_t(index);
}

/* ------------------------------------------------------------------------ */
/* Operations */

static int check_array(PyObject *o, ContextObject *ctx, const char *what)
{
    if (!PyObject_TypeCheck(o, ArrayType)) {
        PyErr_Format(PyExc_TypeError, "%s must be a weft.Array", what);
        return -1;
    }
    if (((ArrayObject *)o)->ctx != (PyObject *)ctx) {
        PyErr_Format(PyExc_ValueError, "%s belongs to another weft.Context", what);
        return -1;
    }
    return 0;
}

/* A scalar binding from a Python number or a 0-d buffer (a numpy scalar). */
static int bind_scalar(PyObject *v, weft_bind *b)
{
    if (PyBool_Check(v)) {
        b->dtype = WEFT_I32;
        b->value.i32 = v == Py_True;
        return 0;
    }
    if (PyFloat_Check(v)) {
        b->dtype = WEFT_F64;
        b->value.f64 = PyFloat_AsDouble(v);
        return 0;
    }
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (!overflow) {
            b->dtype = WEFT_I64;
            b->value.i64 = x;
            return 0;
        }
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        b->dtype = WEFT_U64;
        b->value.u64 = u;
        return 0;
    }
    if (PyObject_CheckBuffer(v)) {
        Py_buffer buf;
        if (PyObject_GetBuffer(v, &buf, PyBUF_RECORDS_RO) < 0) return -1;
        weft_dtype dt;
        int is_bool;
        int ok = buf.ndim == 0 && dtype_from_format(buf.format, buf.itemsize, &dt, &is_bool) == 0;
        if (ok) {
            b->dtype = dt;
            memcpy(&b->value, buf.buf, (size_t)buf.itemsize);
        }
        PyBuffer_Release(&buf);
        if (ok) return 0;
    }
    PyErr_Format(PyExc_TypeError,
                 "cannot bind %R: a binding is a weft.Array, a Python number or a numpy scalar "
                 "of a weft dtype",
                 (PyObject *)Py_TYPE(v));
    return -1;
}

/* binds: a list of (name, value) pairs, kept alive by the caller's Op. */
static weft_bind *make_binds(ContextObject *ctx, PyObject *list, size_t *nbinds)
{
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "binds must be a list of (name, value)");
        return NULL;
    }
    Py_ssize_t n = PyList_Size(list);
    weft_bind *b = PyMem_Calloc((size_t)(n ? n : 1), sizeof *b);
    if (!b) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GetItem(list, i);
        if (!PyTuple_Check(pair) || PyTuple_Size(pair) != 2 ||
            !PyUnicode_Check(PyTuple_GetItem(pair, 0))) {
            PyErr_SetString(PyExc_TypeError, "binds must be a list of (name, value)");
            goto fail;
        }
        b[i].name = PyUnicode_AsUTF8AndSize(PyTuple_GetItem(pair, 0), NULL);
        if (!b[i].name) goto fail;
        PyObject *v = PyTuple_GetItem(pair, 1);
        if (PyObject_TypeCheck(v, ArrayType)) {
            if (check_array(v, ctx, b[i].name) < 0) goto fail;
            b[i].array = ((ArrayObject *)v)->arr;
        } else {
            b[i].array = NULL;
            if (bind_scalar(v, &b[i]) < 0) goto fail;
        }
    }
    *nbinds = (size_t)n;
    return b;
fail:
    PyMem_Free(b);
    return NULL;
}

/* The end of every operation: wait=True gives the result, else the Op. */
static PyObject *op_submitted(OpObject *op, weft_status st, int wait)
{
    if (st != WEFT_OK) {
        op->f = NULL;
        PyObject *r = raise_status(st);
        Py_DECREF(op);
        return r;
    }
    if (wait) {
        op->waited = 1;
        PyObject *r = op_result(op);
        Py_DECREF(op);
        return r;
    }
    return (PyObject *)op;
}

static PyObject *mod_map(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *expr, *binds;
    int wait;
    if (!PyArg_ParseTuple(args, "O!UO!p:_map", ContextType, &ctxo, &expr, &PyList_Type, &binds,
                          &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    const char *text = PyUnicode_AsUTF8AndSize(expr, NULL);
    if (!text) return NULL;
    size_t nb;
    weft_bind *b = make_binds(ctx, binds, &nb);
    if (!b) return NULL;
    OpObject *op = op_keeping(ctx, RES_NONE, PyTuple_Pack(2, expr, binds), NULL);
    if (!op) {
        PyMem_Free(b);
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_map(ctx->ctx, text, b, nb, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS PyMem_Free(b);
    return op_submitted(op, st, wait);
}

static int reduce_kind(int rop)
{
    if (rop == WEFT_ARGMIN || rop == WEFT_ARGMAX) return RES_INDEX;
    if (rop == WEFT_ANY || rop == WEFT_ALL) return RES_BOOL;
    return RES_SCALAR;
}

static PyObject *mod_reduce(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *x;
    int rop, wait;
    if (!PyArg_ParseTuple(args, "O!iOp:_reduce", ContextType, &ctxo, &rop, &x, &wait)) return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    if (check_array(x, ctx, "x") < 0) return NULL;
    OpObject *op = op_new(ctx, reduce_kind(rop), x, NULL);
    if (!op) return NULL;
    weft_array *arr = ((ArrayObject *)x)->arr;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st =
        weft_reduce(ctx->ctx, (weft_reduce_op)rop, arr, &op->scalar, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

/* _mean(ctx, x, wait): weft_mean, a Python float */
static PyObject *mod_mean(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *x;
    int wait;
    if (!PyArg_ParseTuple(args, "O!Op:_mean", ContextType, &ctxo, &x, &wait)) return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    if (check_array(x, ctx, "x") < 0) return NULL;
    OpObject *op = op_new(ctx, RES_SCALAR, x, NULL);
    if (!op) return NULL;
    op->scalar.dtype = WEFT_F64;
    weft_array *arr = ((ArrayObject *)x)->arr;
    double *out = &op->scalar.value.f64;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_mean(ctx->ctx, arr, out, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

static PyObject *mod_reduce_expr(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *expr, *binds;
    int rop, wait;
    if (!PyArg_ParseTuple(args, "O!iUO!p:_reduce_expr", ContextType, &ctxo, &rop, &expr,
                          &PyList_Type, &binds, &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    const char *text = PyUnicode_AsUTF8AndSize(expr, NULL);
    if (!text) return NULL;
    size_t nb;
    weft_bind *b = make_binds(ctx, binds, &nb);
    if (!b) return NULL;
    OpObject *op = op_keeping(ctx, reduce_kind(rop), PyTuple_Pack(2, expr, binds), NULL);
    if (!op) {
        PyMem_Free(b);
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_reduce_expr(ctx->ctx, (weft_reduce_op)rop, text, b, nb,
                                                 &op->scalar, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS PyMem_Free(b);
    return op_submitted(op, st, wait);
}

static PyObject *mod_scan(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *x, *y;
    int rop, exclusive, wait;
    if (!PyArg_ParseTuple(args, "O!ipOOp:_scan", ContextType, &ctxo, &rop, &exclusive, &x, &y,
                          &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    if (check_array(x, ctx, "x") < 0 || check_array(y, ctx, "out") < 0) return NULL;
    if (((ArrayObject *)y)->readonly) {
        PyErr_SetString(PyExc_ValueError, "scan: out is read-only");
        return NULL;
    }
    OpObject *op = op_keeping(ctx, RES_OBJECT, PyTuple_Pack(2, x, y), y);
    if (!op) return NULL;
    weft_array *xa = ((ArrayObject *)x)->arr, *ya = ((ArrayObject *)y)->arr;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st =
        weft_scan(ctx->ctx, (weft_reduce_op)rop, exclusive, xa, ya, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

/* ------------------------------------------------------------------------ */
/* Data primitives (docs/primitives.md): the Python layer allocates outputs. */

/* An array argument, None allowed where optional; writable where written. */
static int prim_array(PyObject *o, ContextObject *ctx, const char *what, int optional, int written,
                      weft_array **out)
{
    *out = NULL;
    if (optional && o == Py_None) return 0;
    if (check_array(o, ctx, what) < 0) return -1;
    if (written && ((ArrayObject *)o)->readonly) {
        PyErr_Format(PyExc_ValueError, "%s is read-only", what);
        return -1;
    }
    *out = ((ArrayObject *)o)->arr;
    return 0;
}

/* _sort(ctx, keys, values, flags, wait) and _argsort(ctx, keys, indices, flags, wait) */
static PyObject *prim_sort(PyObject *args, int arg)
{
    PyObject *ctxo, *k, *v;
    unsigned flags;
    int wait;
    if (!PyArg_ParseTuple(args, "O!OOIp", ContextType, &ctxo, &k, &v, &flags, &wait)) return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_array *ka, *va;
    if (prim_array(k, ctx, "keys", 0, !arg, &ka) < 0 ||
        prim_array(v, ctx, arg ? "indices" : "values", !arg, 1, &va) < 0)
        return NULL;
    OpObject *op = op_keeping(ctx, RES_NONE, PyTuple_Pack(2, k, v), NULL);
    if (!op) return NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = arg ? weft_argsort(ctx->ctx, ka, va, flags, wait ? NULL : &op->f)
                                    : weft_sort(ctx->ctx, ka, va, flags, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

static PyObject *mod_sort(PyObject *m, PyObject *args)
{
    (void)m;
    return prim_sort(args, 0);
}

static PyObject *mod_argsort(PyObject *m, PyObject *args)
{
    (void)m;
    return prim_sort(args, 1);
}

/* _histogram(ctx, x, lo, hi, counts, wait) */
static PyObject *mod_histogram(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *x, *c;
    double lo, hi;
    int wait;
    if (!PyArg_ParseTuple(args, "O!OddOp", ContextType, &ctxo, &x, &lo, &hi, &c, &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_array *xa, *ca;
    if (prim_array(x, ctx, "x", 0, 0, &xa) < 0 || prim_array(c, ctx, "counts", 0, 1, &ca) < 0)
        return NULL;
    OpObject *op = op_keeping(ctx, RES_NONE, PyTuple_Pack(2, x, c), NULL);
    if (!op) return NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_histogram(ctx->ctx, xa, lo, hi, ca, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

/* _bincount(ctx, indices, weights, out, wait) and _scatter_add(ctx, indices, values, out, wait) */
static PyObject *prim_counts(PyObject *args, int scatter)
{
    PyObject *ctxo, *i, *w, *o;
    int wait;
    if (!PyArg_ParseTuple(args, "O!OOOp", ContextType, &ctxo, &i, &w, &o, &wait)) return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_array *ia, *wa, *oa;
    if (prim_array(i, ctx, "indices", 0, 0, &ia) < 0 ||
        prim_array(w, ctx, scatter ? "values" : "weights", !scatter, 0, &wa) < 0 ||
        prim_array(o, ctx, "out", 0, 1, &oa) < 0)
        return NULL;
    OpObject *op = op_keeping(ctx, RES_NONE, PyTuple_Pack(3, i, w, o), NULL);
    if (!op) return NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = scatter
                                    ? weft_scatter_add(ctx->ctx, ia, wa, oa, wait ? NULL : &op->f)
                                    : weft_bincount(ctx->ctx, ia, wa, oa, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

static PyObject *mod_bincount(PyObject *m, PyObject *args)
{
    (void)m;
    return prim_counts(args, 0);
}

static PyObject *mod_scatter_add(PyObject *m, PyObject *args)
{
    (void)m;
    return prim_counts(args, 1);
}

/* _random(ctx, a, dist, seed, offset, wait) */
static PyObject *mod_random(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *a;
    int dist, wait;
    unsigned long long seed, offset;
    if (!PyArg_ParseTuple(args, "O!OiKKp", ContextType, &ctxo, &a, &dist, &seed, &offset, &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_array *aa;
    if (prim_array(a, ctx, "out", 0, 1, &aa) < 0) return NULL;
    OpObject *op = op_new(ctx, RES_NONE, a, NULL);
    if (!op) return NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_random(ctx->ctx, aa, dist, seed, offset, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

/* _group(ctx, op, sorted_runs, keys, values, out_keys, out_values, wait) -> the group count */
static PyObject *mod_group(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *k, *v, *ok, *ov;
    int rop, runs, wait;
    if (!PyArg_ParseTuple(args, "O!ipOOOOp", ContextType, &ctxo, &rop, &runs, &k, &v, &ok, &ov,
                          &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_array *ka, *va, *oka, *ova;
    if (prim_array(k, ctx, "keys", 0, 0, &ka) < 0 || prim_array(v, ctx, "values", 1, 0, &va) < 0 ||
        prim_array(ok, ctx, "out_keys", 0, 1, &oka) < 0 ||
        prim_array(ov, ctx, "out_values", 0, 1, &ova) < 0)
        return NULL;
    OpObject *op = op_keeping(ctx, RES_COUNT, PyTuple_Pack(4, k, v, ok, ov), NULL);
    if (!op) return NULL;
    weft_status st;
    weft_reduce_op r = (weft_reduce_op)rop;
    Py_BEGIN_ALLOW_THREADS st =
        runs ? weft_reduce_by_key(ctx->ctx, r, ka, va, oka, ova, &op->count, wait ? NULL : &op->f)
             : weft_group_by(ctx->ctx, r, ka, va, oka, ova, &op->count, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS return op_submitted(op, st, wait);
}

/* _filter(ctx, cond, binds, inputs, outputs, wait) -> how many were kept */
static PyObject *mod_filter(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *cond, *binds, *ins, *outs;
    int wait;
    if (!PyArg_ParseTuple(args, "O!UO!O!O!p", ContextType, &ctxo, &cond, &PyList_Type, &binds,
                          &PyList_Type, &ins, &PyList_Type, &outs, &wait))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    const char *text = PyUnicode_AsUTF8AndSize(cond, NULL);
    if (!text) return NULL;
    Py_ssize_t n = PyList_Size(ins);
    if (PyList_Size(outs) != n) {
        PyErr_SetString(PyExc_ValueError, "filter: as many outputs as inputs");
        return NULL;
    }
    weft_array **arrays = PyMem_Calloc((size_t)(2 * n + 1), sizeof *arrays);
    if (!arrays) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++)
        if (prim_array(PyList_GetItem(ins, i), ctx, "an input", 0, 0, &arrays[i]) < 0 ||
            prim_array(PyList_GetItem(outs, i), ctx, "an output", 0, 1, &arrays[n + i]) < 0) {
            PyMem_Free(arrays);
            return NULL;
        }
    size_t nb;
    weft_bind *b = make_binds(ctx, binds, &nb);
    if (!b) {
        PyMem_Free(arrays);
        return NULL;
    }
    OpObject *op = op_keeping(ctx, RES_COUNT, PyTuple_Pack(4, cond, binds, ins, outs), NULL);
    if (!op) {
        PyMem_Free(b);
        PyMem_Free(arrays);
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_filter(ctx->ctx, text, b, nb, arrays, arrays + n, (size_t)n,
                                            &op->count, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS PyMem_Free(b);
    PyMem_Free(arrays);
    return op_submitted(op, st, wait);
}

/* ------------------------------------------------------------------------ */
/* CSV (docs/csv.md): whole-file jobs, and a reader window by window */

/* A list of str as a C array of borrowed UTF-8 (the list keeps them). */
static const char **str_array(PyObject *list, size_t *n, const char *what)
{
    *n = 0;
    if (list == Py_None) return NULL;
    if (!PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "%s must be a list of str", what);
        return NULL;
    }
    Py_ssize_t len = PyList_Size(list);
    const char **a = PyMem_Calloc((size_t)(len ? len : 1), sizeof *a);
    if (!a) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *o = PyList_GetItem(list, i);
        Py_ssize_t size = 0;
        a[i] = PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &size) : NULL;
        if (a[i] && strlen(a[i]) != (size_t)size) { /* C would see the string cut short */
            PyErr_Format(PyExc_ValueError, "%s: item %zd holds a NUL character", what, i);
            a[i] = NULL;
        }
        if (!a[i]) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s must be a list of str", what);
            PyMem_Free(a);
            return NULL;
        }
    }
    *n = (size_t)len;
    return a;
}

/* options: (delimiter, header, window_bytes, types or None, int_missing_fill,
 * int_missing_value, fsync) */
static int csv_options(PyObject *t, weft_csv_options *o)
{
    weft_csv_options_init(o);
    int delim, header, fill, fsync_;
    Py_ssize_t window;
    long long missing;
    PyObject *types;
    if (!PyArg_ParseTuple(t, "CpnOpLp", &delim, &header, &window, &types, &fill, &missing, &fsync_))
        return -1;
    if (delim <= 0 || delim > 127) {
        PyErr_SetString(PyExc_ValueError, "the delimiter is one ASCII character");
        return -1;
    }
    o->delimiter = (char)delim;
    o->header = header;
    o->window_bytes = (size_t)window;
    o->types = types == Py_None ? NULL : PyUnicode_AsUTF8AndSize(types, NULL);
    if (types != Py_None && !o->types) return -1;
    o->int_missing_fill = fill;
    o->int_missing_value = missing;
    o->fsync = fsync_;
    return 0;
}

/* dialect: None, or (skip_lines, comment, bad_rows, out_delimiter, quoting,
 * crlf[, na_values]); comment and out_delimiter are one ASCII character or ""
 * (none / the input's); na_values a list of str, whose pointers *na holds
 * (PyMem_Free it) while the list lives. */
static int csv_dialect(PyObject *t, weft_csv_dialect *d, const char ***na)
{
    weft_csv_dialect_init(d);
    *na = NULL;
    if (t == Py_None) return 0;
    PyObject *na_list = Py_None;
    Py_ssize_t skip;
    const char *comment, *out_delim;
    Py_ssize_t ncomment, nout;
    int bad, quoting, crlf;
    if (!PyArg_ParseTuple(t, "ns#is#ip|O", &skip, &comment, &ncomment, &bad, &out_delim, &nout,
                          &quoting, &crlf, &na_list))
        return -1;
    if (skip < 0) {
        PyErr_SetString(PyExc_ValueError, "skip_rows is not negative");
        return -1;
    }
    if (ncomment > 1 || (ncomment == 1 && (unsigned char)comment[0] > 127) || nout > 1 ||
        (nout == 1 && (unsigned char)out_delim[0] > 127)) {
        PyErr_SetString(PyExc_ValueError, "comment and out_delimiter are one ASCII character");
        return -1;
    }
    if (bad < WEFT_CSV_BAD_ERROR || bad > WEFT_CSV_BAD_PAD || quoting < WEFT_CSV_QUOTE_KEEP ||
        quoting > WEFT_CSV_QUOTE_NONNUMERIC) {
        PyErr_SetString(PyExc_ValueError, "bad_rows or quoting out of range");
        return -1;
    }
    d->skip_lines = (size_t)skip;
    d->comment = ncomment ? comment[0] : 0;
    d->bad_rows = (weft_csv_bad_rows)bad;
    d->out_delimiter = nout ? out_delim[0] : 0;
    d->quoting = (weft_csv_quoting)quoting;
    d->crlf = crlf;
    *na = str_array(na_list, &d->n_na_values, "na_values");
    if (!*na && PyErr_Occurred()) return -1;
    d->na_values = *na;
    return 0;
}

static PyObject *csv_stats_dict(const weft_csv_stats *st)
{
    return Py_BuildValue(
        "{sKsKsKsKsdsdsdsdsdsdsK}", "rows", (unsigned long long)st->rows, "windows",
        (unsigned long long)st->windows, "bytes_read", (unsigned long long)st->bytes_read,
        "bytes_written", (unsigned long long)st->bytes_written, "seconds", st->seconds,
        "scan_seconds", st->scan_seconds, "parse_seconds", st->parse_seconds, "compute_seconds",
        st->compute_seconds, "format_seconds", st->format_seconds, "wait_seconds", st->wait_seconds,
        "rows_skipped", (unsigned long long)st->rows_skipped);
}

/* _csv_run(ctx, input, output or None, statements, select, drop, reductions
 * [(op, expr)], options[, dialect]) -> (stats dict, [reduction results]) */
static PyObject *mod_csv_run(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *outo, *stmts, *sel, *drop, *reds, *opts, *dial = Py_None;
    const char *input;
    if (!PyArg_ParseTuple(args, "O!sOOOOO!O!|O:_csv_run", ContextType, &ctxo, &input, &outo, &stmts,
                          &sel, &drop, &PyList_Type, &reds, &PyTuple_Type, &opts, &dial))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    const char *output = outo == Py_None ? NULL : PyUnicode_AsUTF8AndSize(outo, NULL);
    if (outo != Py_None && !output) return NULL;
    weft_csv_options o;
    if (csv_options(opts, &o) < 0) return NULL;
    weft_csv_job job = {0};
    const char **a_st = NULL, **a_sel = NULL, **a_drop = NULL, **a_na = NULL;
    weft_csv_reduction *r = NULL;
    PyObject *result = NULL;
    weft_csv_dialect d;
    if (csv_dialect(dial, &d, &a_na) < 0) goto done;
    a_st = str_array(stmts, &job.nstatements, "statements");
    if (!a_st && PyErr_Occurred()) goto done;
    a_sel = str_array(sel, &job.nselect, "select");
    if (!a_sel && PyErr_Occurred()) goto done;
    a_drop = str_array(drop, &job.ndrop, "drop");
    if (!a_drop && PyErr_Occurred()) goto done;
    Py_ssize_t nr = PyList_Size(reds);
    r = PyMem_Calloc((size_t)(nr ? nr : 1), sizeof *r);
    if (!r) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nr; i++) {
        int rop;
        const char *expr;
        if (!PyArg_ParseTuple(PyList_GetItem(reds, i), "is", &rop, &expr)) goto done;
        r[i].op = (weft_reduce_op)rop;
        r[i].expr = expr;
    }
    job.statements = a_st;
    job.select = a_sel;
    job.drop = a_drop;
    job.reductions = r;
    job.nreductions = (size_t)nr;
    weft_csv_stats stats;
    memset(&stats, 0, sizeof stats);
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_csv_run_dialect(ctx->ctx, input, output, &o, &d, &job, &stats);
    Py_END_ALLOW_THREADS if (st != WEFT_OK)
    {
        raise_status(st);
        goto done;
    }
    PyObject *values = PyList_New(nr);
    PyObject *sd = values ? csv_stats_dict(&stats) : NULL;
    for (Py_ssize_t i = 0; sd && i < nr; i++) {
        PyObject *v = scalar_to_py(&r[i].result, reduce_kind((int)r[i].op));
        if (!v) {
            Py_CLEAR(sd);
            break;
        }
        PyList_SetItem(values, i, v);
    }
    if (sd)
        result = Py_BuildValue("(NN)", sd, values);
    else
        Py_XDECREF(values);
done:
    PyMem_Free(a_st);
    PyMem_Free(a_sel);
    PyMem_Free(a_drop);
    PyMem_Free(a_na);
    PyMem_Free(r);
    return result;
}

typedef struct {
    PyObject_HEAD weft_csv_reader *reader;
    PyObject *ctx;
} CsvReaderObject;

static PyTypeObject *CsvReaderType;

static void csv_reader_dealloc(CsvReaderObject *r)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)r);
    if (r->reader) {
        weft_csv_reader *reader = r->reader;
        r->reader = NULL;
        Py_BEGIN_ALLOW_THREADS weft_csv_close(reader);
        Py_END_ALLOW_THREADS
    }
    Py_XDECREF(r->ctx);
    freefunc fr = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    fr(r);
    Py_DECREF(tp);
}

static int reader_live(CsvReaderObject *r)
{
    if (r->reader) return 0;
    PyErr_SetString(PyExc_ValueError, "the CSV reader is closed");
    return -1;
}

static PyObject *csv_reader_close(CsvReaderObject *r, PyObject *unused)
{
    (void)unused;
    if (r->reader) {
        weft_csv_reader *reader = r->reader;
        r->reader = NULL;
        weft_status st;
        Py_BEGIN_ALLOW_THREADS st = weft_csv_close(reader);
        Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    }
    Py_RETURN_NONE;
}

static PyObject *csv_reader_columns(CsvReaderObject *r, PyObject *unused)
{
    (void)unused;
    if (reader_live(r) < 0) return NULL;
    size_t n = 0;
    weft_status st = weft_csv_column_count(r->reader, &n);
    if (st != WEFT_OK) return raise_status(st);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *name = weft_csv_column_name(r->reader, i);
        PyObject *s =
            PyUnicode_DecodeUTF8(name ? name : "", (Py_ssize_t)strlen(name ? name : ""), "replace");
        if (!s) {
            Py_CLEAR(list);
            break;
        }
        PyList_SetItem(list, (Py_ssize_t)i, s);
    }
    return list;
}

/* next() -> (rows, first_row); rows 0 at the end */
static PyObject *csv_reader_next(CsvReaderObject *r, PyObject *unused)
{
    (void)unused;
    if (reader_live(r) < 0) return NULL;
    size_t rows = 0;
    uint64_t first = 0;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_csv_next(r->reader, &rows, &first);
    Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    return Py_BuildValue("(nK)", (Py_ssize_t)rows, (unsigned long long)first);
}

/* column(i) -> (bytearray of the window's values, "<i8" or "<f8"): a copy,
 * since the reader's array is reused by the next window. */
static PyObject *csv_reader_column(CsvReaderObject *r, PyObject *arg)
{
    if (reader_live(r) < 0) return NULL;
    size_t col = PyLong_AsSize_t(arg);
    if (col == (size_t)-1 && PyErr_Occurred()) return NULL;
    weft_array *a = NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_csv_column(r->reader, col, &a);
    Py_END_ALLOW_THREADS if (st != WEFT_OK) return raise_status(st);
    size_t n = 0;
    weft_dtype dt = WEFT_F64;
    weft_array_size(a, &n);
    weft_array_dtype(a, &dt);
    PyObject *buf = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n * weft_dtype_size(dt)));
    if (!buf) return NULL;
    char *dst = PyByteArray_AsString(buf);
    Py_BEGIN_ALLOW_THREADS st = n ? weft_array_read(a, 0, n, dst) : WEFT_OK;
    Py_END_ALLOW_THREADS if (st != WEFT_OK)
    {
        Py_DECREF(buf);
        return raise_status(st);
    }
    return Py_BuildValue("(Ns)", buf, dt == WEFT_I64 ? "<i8" : "<f8");
}

/* field(row, column) -> bytes as in the file */
static PyObject *csv_reader_field(CsvReaderObject *r, PyObject *args)
{
    if (reader_live(r) < 0) return NULL;
    Py_ssize_t row, col;
    if (!PyArg_ParseTuple(args, "nn", &row, &col)) return NULL;
    const char *text = NULL;
    size_t len = 0;
    weft_status st = weft_csv_field(r->reader, (size_t)row, (size_t)col, &text, &len);
    if (st != WEFT_OK) return raise_status(st);
    return PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
}

static PyMethodDef csv_reader_methods[] = {
    {"close", (PyCFunction)csv_reader_close, METH_NOARGS, "weft_csv_close"},
    {"columns", (PyCFunction)csv_reader_columns, METH_NOARGS, "the column names"},
    {"next", (PyCFunction)csv_reader_next, METH_NOARGS, "weft_csv_next -> (rows, first_row)"},
    {"column", (PyCFunction)csv_reader_column, METH_O, "column(i) -> (bytearray, typestr)"},
    {"field", (PyCFunction)csv_reader_field, METH_VARARGS, "field(row, column) -> bytes"},
    {NULL, NULL, 0, NULL}};

static PyType_Slot csv_reader_slots[] = {{Py_tp_dealloc, csv_reader_dealloc},
                                         {Py_tp_methods, csv_reader_methods},
                                         {Py_tp_doc, "weft_csv_reader: a CSV file by windows."},
                                         {0, NULL}};

static PyType_Spec csv_reader_spec = {"weft._weft.CsvReader", sizeof(CsvReaderObject), 0,
                                      Py_TPFLAGS_DEFAULT, csv_reader_slots};

/* _csv_open(ctx, path, options[, dialect]) -> CsvReader */
static PyObject *mod_csv_open(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo, *opts, *dial = Py_None;
    const char *path;
    if (!PyArg_ParseTuple(args, "O!sO!|O:_csv_open", ContextType, &ctxo, &path, &PyTuple_Type,
                          &opts, &dial))
        return NULL;
    weft_csv_options o;
    if (csv_options(opts, &o) < 0) return NULL;
    weft_csv_dialect d;
    const char **a_na;
    if (csv_dialect(dial, &d, &a_na) < 0) return NULL;
    weft_csv_reader *reader = NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st =
        weft_csv_open_dialect(((ContextObject *)ctxo)->ctx, path, &o, &d, &reader);
    Py_END_ALLOW_THREADS PyMem_Free(a_na);
    if (st != WEFT_OK) return raise_status(st);
    allocfunc alloc = (allocfunc)PyType_GetSlot(CsvReaderType, Py_tp_alloc);
    CsvReaderObject *r = (CsvReaderObject *)alloc(CsvReaderType, 0);
    if (!r) {
        weft_csv_close(reader);
        return NULL;
    }
    r->reader = reader;
    r->ctx = Py_NewRef(ctxo);
    return (PyObject *)r;
}

/* ------------------------------------------------------------------------ */
/* Programs and user kernels */

typedef struct {
    PyObject_HEAD weft_program *prog;
    PyObject *ctx;
} ProgramObject;

static PyTypeObject *ProgramType;

static void program_dealloc(ProgramObject *p)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)p);
    if (p->prog) {
        weft_program *prog = p->prog;
        p->prog = NULL;
        Py_BEGIN_ALLOW_THREADS weft_program_free(prog);
        Py_END_ALLOW_THREADS
    }
    Py_XDECREF(p->ctx);
    freefunc fr = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    fr(p);
    Py_DECREF(tp);
}

static PyObject *program_get_log(ProgramObject *p, void *u)
{
    (void)u;
    const char *log = p->prog ? weft_program_build_log(p->prog) : "";
    return PyUnicode_DecodeUTF8(log ? log : "", (Py_ssize_t)strlen(log ? log : ""), "replace");
}

static PyObject *program_get_ctx(ProgramObject *p, void *u)
{
    (void)u;
    return Py_NewRef(p->ctx);
}

static PyGetSetDef program_getset[] = {
    {"build_log", (getter)program_get_log, NULL, "the compiler's log", NULL},
    {"ctx", (getter)program_get_ctx, NULL, "the context it was built for", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot program_slots[] = {
    {Py_tp_dealloc, program_dealloc},
    {Py_tp_getset, program_getset},
    {Py_tp_doc, "OpenCL C built for a context's devices (weft_program_build)."},
    {0, NULL}};

static PyType_Spec program_spec = {"weft._weft.Program", sizeof(ProgramObject), 0,
                                   Py_TPFLAGS_DEFAULT, program_slots};

/* _program(ctx, source, options): builds (GIL released) through the caches. */
static PyObject *mod_program(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *ctxo;
    const char *source, *options;
    if (!PyArg_ParseTuple(args, "O!ss:_program", ContextType, &ctxo, &source, &options))
        return NULL;
    ContextObject *ctx = (ContextObject *)ctxo;
    weft_program *prog = NULL;
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st = weft_program_build(ctx->ctx, source, options, &prog);
    Py_END_ALLOW_THREADS if (st != WEFT_OK)
    {
        PyObject *r = raise_status(st); /* the detail carries the log */
        weft_program_free(prog);
        return r;
    }
    allocfunc alloc = (allocfunc)PyType_GetSlot(ProgramType, Py_tp_alloc);
    ProgramObject *p = (ProgramObject *)alloc(ProgramType, 0);
    if (!p) {
        weft_program_free(prog);
        return NULL;
    }
    p->prog = prog;
    p->ctx = Py_NewRef(ctxo);
    return (PyObject *)p;
}

enum { ARG_SLICE, ARG_HALO, ARG_WHOLE, ARG_SCALAR, ARG_LOCAL };

/* A typed scalar: dtype >= 0 converts the Python number; -1 infers it as a
 * binding does (float f64, int i64, numpy scalars their dtype). */
static int scalar_arg(PyObject *v, int dtype, weft_arg *a)
{
    a->kind = WEFT_ARG_SCALAR;
    if (dtype < 0) {
        weft_bind b = {"", NULL, WEFT_F32, {0}};
        if (bind_scalar(v, &b) < 0) return -1;
        a->dtype = b.dtype;
        a->value = b.value;
        return 0;
    }
    a->dtype = (weft_dtype)dtype;
    if (dtype == WEFT_F32 || dtype == WEFT_F64) {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) return -1;
        if (dtype == WEFT_F32)
            a->value.f32 = (float)d;
        else
            a->value.f64 = d;
        return 0;
    }
    if (dtype == WEFT_U64) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        a->value.u64 = u;
        return 0;
    }
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    int fits = 1;
    switch (dtype) {
    case WEFT_I32:
        fits = x >= INT32_MIN && x <= INT32_MAX;
        a->value.i32 = (int32_t)x;
        break;
    case WEFT_U32:
        fits = x >= 0 && x <= (long long)UINT32_MAX;
        a->value.u32 = (uint32_t)x;
        break;
    case WEFT_I64:
        a->value.i64 = x;
        break;
    case WEFT_U8:
        fits = x >= 0 && x <= 255;
        a->value.u8 = (uint8_t)x;
        break;
    default:
        fits = 0;
    }
    if (!fits) {
        PyErr_Format(PyExc_OverflowError, "%R does not fit a %s argument", v,
                     weft_dtype_name((weft_dtype)dtype));
        return -1;
    }
    return 0;
}

/* One argument from the Python layer: (kind, value, extra). */
static int launch_arg(ContextObject *ctx, PyObject *t, weft_arg *a, Py_ssize_t i)
{
    int kind, extra_int = -1;
    PyObject *v;
    Py_ssize_t extra = 0;
    if (!PyTuple_Check(t) || !PyArg_ParseTuple(t, "iOn", &kind, &v, &extra)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "launch arguments are tuples");
        return -1;
    }
    memset(a, 0, sizeof *a);
    char what[32];
    snprintf(what, sizeof what, "argument %zd", i);
    switch (kind) {
    case ARG_SLICE:
    case ARG_HALO:
    case ARG_WHOLE:
        if (check_array(v, ctx, what) < 0) return -1;
        a->kind = kind == ARG_SLICE  ? WEFT_ARG_SLICE
                  : kind == ARG_HALO ? WEFT_ARG_HALO
                                     : WEFT_ARG_WHOLE;
        a->array = ((ArrayObject *)v)->arr;
        a->halo = (size_t)extra;
        return 0;
    case ARG_SCALAR:
        extra_int = (int)extra;
        return scalar_arg(v, extra_int, a);
    case ARG_LOCAL:
        a->kind = WEFT_ARG_LOCAL;
        a->local_bytes = (size_t)extra;
        return 0;
    default:
        PyErr_Format(PyExc_ValueError, "%s: unknown kind %d", what, kind);
        return -1;
    }
}

static int size_triple(PyObject *seq, size_t out[3], unsigned *dims, const char *what)
{
    PyObject *fast = PySequence_Fast(seq, what);
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Size(fast);
    int ok = n >= 1 && n <= 3;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *o = PySequence_GetItem(fast, i);
        size_t v = o ? PyLong_AsSize_t(o) : (size_t)-1;
        Py_XDECREF(o);
        if (v == (size_t)-1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
        out[i] = v;
    }
    Py_DECREF(fast);
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "%s has 1, 2 or 3 sizes", what);
        return -1;
    }
    for (Py_ssize_t i = n; i < 3; i++)
        out[i] = out[i] ? out[i] : 1;
    *dims = (unsigned)n;
    return 0;
}

/* _launch(program, name, sizes, local or None, args, keep, wait) */
static PyObject *mod_launch(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *po, *sizes, *local, *list, *keep;
    const char *name;
    int wait;
    if (!PyArg_ParseTuple(args, "O!sOOO!Op:_launch", ProgramType, &po, &name, &sizes, &local,
                          &PyList_Type, &list, &keep, &wait))
        return NULL;
    ProgramObject *p = (ProgramObject *)po;
    ContextObject *ctx = (ContextObject *)p->ctx;
    weft_range range = {1, {1, 1, 1}, {0, 0, 0}};
    if (size_triple(sizes, range.size, &range.dims, "range") < 0) return NULL;
    if (local != Py_None) {
        unsigned ldims;
        size_t l[3] = {0, 0, 0};
        if (size_triple(local, l, &ldims, "local") < 0) return NULL;
        if (ldims != range.dims) {
            PyErr_SetString(PyExc_ValueError, "local has as many sizes as the range");
            return NULL;
        }
        memcpy(range.local, l, sizeof l);
    }
    Py_ssize_t n = PyList_Size(list);
    weft_arg *a = PyMem_Calloc((size_t)(n ? n : 1), sizeof *a);
    if (!a) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++)
        if (launch_arg(ctx, PyList_GetItem(list, i), &a[i], i) < 0) {
            PyMem_Free(a);
            return NULL;
        }
    PyObject *held = PyTuple_Pack(3, po, list, keep);
    OpObject *op = held ? op_new(ctx, RES_NONE, held, NULL) : NULL;
    Py_XDECREF(held);
    if (!op) {
        PyMem_Free(a);
        return NULL;
    }
    weft_status st;
    Py_BEGIN_ALLOW_THREADS st =
        weft_launch(p->prog, name, &range, a, (size_t)n, NULL, NULL, wait ? NULL : &op->f);
    Py_END_ALLOW_THREADS PyMem_Free(a);
    return op_submitted(op, st, wait);
}

/* _scalar_dtype(program, name, k) -> dtype code, or None when weft cannot
 * tell (no device built the program, no argument info, no scalar dtype). */
static PyObject *mod_scalar_dtype(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *po;
    const char *name;
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "O!sn:_scalar_dtype", ProgramType, &po, &name, &k)) return NULL;
    if (k < 0) Py_RETURN_NONE;
    weft_dtype dt;
    weft_status st = weft_program_scalar_dtype(((ProgramObject *)po)->prog, name, (size_t)k, &dt);
    if (st == WEFT_OK) return PyLong_FromLong((long)dt);
    if (st == WEFT_ERR_NOMEM || st == WEFT_ERR_STATE || st == WEFT_ERR_NULL)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *mod_set_default_context(PyObject *m, PyObject *fn)
{
    (void)m;
    PyObject *old = default_ctx_fn;
    Py_INCREF(fn);
    default_ctx_fn = fn;
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

/* _shutdown(seconds): lets the callbacks still to come call into Python for
 * up to seconds (GIL released), then stops them. */
static PyObject *mod_shutdown(PyObject *m, PyObject *arg)
{
    (void)m;
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred()) return NULL;
    Py_BEGIN_ALLOW_THREADS struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double end = (double)until.tv_sec + 1e-9 * (double)until.tv_nsec + (seconds > 0 ? seconds : 0);
    until.tv_sec = (time_t)end;
    until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
    pthread_mutex_lock(&pending_lock);
    while (pending_callbacks > 0 &&
           pthread_cond_timedwait(&pending_cond, &pending_lock, &until) == 0) {
    }
    pthread_mutex_unlock(&pending_lock);
    atomic_store(&python_exiting, 1);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

/* _future_counts() -> (links, callbacks): Op callbacks not yet freed, and
 * those still to call into Python (tests: both drop to 0). */
static PyObject *mod_future_counts(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    pthread_mutex_lock(&pending_lock);
    int pending = pending_callbacks;
    pthread_mutex_unlock(&pending_lock);
    return Py_BuildValue("(li)", (long)atomic_load(&links_alive), pending);
}

static PyObject *mod_wrap_alignment(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyLong_FromSize_t(weft_array_wrap_alignment());
}

/* src/ops/expr_build.h (internal; this module links the static library):
 * every context's background builds stop, the running ones end. */
void weft_expr_builds_stop_all(void);

/* Registered with Python's atexit (weft/__init__.py), which runs before C's
 * exit() and the compiler's static destructors a first build registered
 * after weft's own handler: a script ending during that build crashed in
 * them about one run in three. */
static PyObject *mod_stop_builds(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_BEGIN_ALLOW_THREADS weft_expr_builds_stop_all();
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_stop_builds", mod_stop_builds, METH_NOARGS, "_stop_builds(): background builds end (exit)"},
    {"_map", mod_map, METH_VARARGS, "_map(ctx, expr, binds, wait)"},
    {"_reduce", mod_reduce, METH_VARARGS, "_reduce(ctx, op, x, wait)"},
    {"_reduce_expr", mod_reduce_expr, METH_VARARGS, "_reduce_expr(ctx, op, expr, binds, wait)"},
    {"_mean", mod_mean, METH_VARARGS, "_mean(ctx, x, wait) -> float (weft_mean)"},
    {"_scan", mod_scan, METH_VARARGS, "_scan(ctx, op, exclusive, x, out, wait)"},
    {"_wait_any", mod_wait_any, METH_O, "_wait_any(ops) -> index of one that is done"},
    {"_sort", mod_sort, METH_VARARGS, "_sort(ctx, keys, values, flags, wait)"},
    {"_argsort", mod_argsort, METH_VARARGS, "_argsort(ctx, keys, indices, flags, wait)"},
    {"_histogram", mod_histogram, METH_VARARGS, "_histogram(ctx, x, lo, hi, counts, wait)"},
    {"_bincount", mod_bincount, METH_VARARGS, "_bincount(ctx, indices, weights, out, wait)"},
    {"_scatter_add", mod_scatter_add, METH_VARARGS,
     "_scatter_add(ctx, indices, values, out, wait)"},
    {"_random", mod_random, METH_VARARGS, "_random(ctx, a, dist, seed, offset, wait)"},
    {"_group", mod_group, METH_VARARGS,
     "_group(ctx, op, runs, keys, values, out_keys, out_values, wait) -> count"},
    {"_filter", mod_filter, METH_VARARGS, "_filter(ctx, cond, binds, inputs, outputs, wait)"},
    {"_csv_run", mod_csv_run, METH_VARARGS,
     "_csv_run(ctx, input, output, statements, select, drop, reductions, options[, dialect])"},
    {"_csv_open", mod_csv_open, METH_VARARGS,
     "_csv_open(ctx, path, options[, dialect]) -> CsvReader"},
    {"_program", mod_program, METH_VARARGS, "_program(ctx, source, options) -> Program"},
    {"_launch", mod_launch, METH_VARARGS,
     "_launch(program, name, sizes, local, args, keep, wait) -> None or Op"},
    {"_scalar_dtype", mod_scalar_dtype, METH_VARARGS,
     "_scalar_dtype(program, name, k) -> the dtype code scalar parameter k takes, or None"},
    {"_shutdown", mod_shutdown, METH_O,
     "_shutdown(seconds): at exit, completion callbacks still to come may call into Python "
     "for up to seconds, then stop."},
    {"_future_counts", mod_future_counts, METH_NOARGS,
     "_future_counts() -> (links, callbacks): Op completion callbacks alive, and still to run."},
    {"_set_default_context", mod_set_default_context, METH_O, NULL},
    {"wrap_alignment", mod_wrap_alignment, METH_NOARGS,
     "The alignment (bytes) at which devices sharing host memory use it in place."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                                        "weft._weft",
                                        "weft's C API for Python (stable ABI).",
                                        -1,
                                        module_methods,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL};

/* weft.SizeError for WEFT_ERR_SIZE, ...: each a WeftError, and where Python
 * has a matching built-in, that too (except ValueError catches a SizeError). */
static int add_status_errors(PyObject *m)
{
    static const struct {
        weft_status status;
        const char *name;
        const char *also; /* a built-in base besides WeftError, or NULL */
    } table[] = {
        {WEFT_ERR_INVALID_ARG, "InvalidArgError", "ValueError"},
        {WEFT_ERR_NULL, "NullError", "ValueError"},
        {WEFT_ERR_DTYPE, "DtypeError", "TypeError"},
        {WEFT_ERR_SIZE, "SizeError", "ValueError"},
        {WEFT_ERR_RANGE, "RangeError", "ValueError"},
        {WEFT_ERR_NOMEM, "NoMemoryError", "MemoryError"},
        {WEFT_ERR_OPENCL, "OpenCLError", NULL},
        {WEFT_ERR_BUILD, "BuildError", NULL},
        {WEFT_ERR_NO_DEVICE, "NoDeviceError", NULL},
        {WEFT_ERR_DEVICE, "DeviceError", NULL},
        {WEFT_ERR_CACHE, "CacheError", NULL},
        {WEFT_ERR_IO, "IoError", NULL},
        {WEFT_ERR_THREAD, "ThreadError", NULL},
        {WEFT_ERR_STATE, "StateError", NULL},
        {WEFT_ERR_UNSUPPORTED, "UnsupportedError", NULL},
        {WEFT_ERR_EXPR, "ExprError", "ValueError"},
        {WEFT_ERR_DATA, "DataError", "ValueError"},
        {WEFT_ERR_DEPENDENCY, "DependencyError", NULL},
        {WEFT_ERR_CANCELLED, "CancelledError", NULL},
    };
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char qualified[64];
        snprintf(qualified, sizeof qualified, "weft.%s", table[i].name);
        PyObject *also = table[i].also && builtins
                             ? PyDict_GetItemString(builtins, table[i].also) /* borrowed */
                             : NULL;
        PyObject *bases;
        if (table[i].status == WEFT_ERR_CANCELLED) {
            /* Also concurrent.futures.CancelledError, which callers of
             * futures already catch. */
            PyObject *cf = PyImport_ImportModule("concurrent.futures");
            PyObject *ce = cf ? PyObject_GetAttrString(cf, "CancelledError") : NULL;
            Py_XDECREF(cf);
            if (!ce) return -1;
            bases = PyTuple_Pack(2, WeftError, ce);
            Py_DECREF(ce);
        } else {
            bases = also ? PyTuple_Pack(2, WeftError, also) : Py_NewRef(WeftError);
        }
        if (!bases) return -1;
        PyObject *cls = PyErr_NewException(qualified, bases, NULL);
        Py_DECREF(bases);
        if (!cls) return -1;
        status_errors[table[i].status] = cls;
        if (PyModule_AddObjectRef(m, table[i].name, cls) < 0) return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__weft(void);
PyMODINIT_FUNC PyInit__weft(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (pthread_atfork(NULL, NULL, pending_forked) != 0) {
        PyErr_NoMemory();
        goto fail;
    }
    WeftError = PyErr_NewExceptionWithDoc(
        "weft.WeftError",
        "A weft call failed: status (int), status_name ('WEFT_ERR_SIZE') and detail "
        "(weft_last_error()).",
        PyExc_RuntimeError, NULL);
    if (WeftError && add_status_errors(m) < 0) goto fail;
    ContextType = (PyTypeObject *)PyType_FromSpec(&context_spec);
    ArrayType = (PyTypeObject *)PyType_FromSpec(&array_spec);
    OpType = (PyTypeObject *)PyType_FromSpec(&op_spec);
    ProgramType = (PyTypeObject *)PyType_FromSpec(&program_spec);
    CsvReaderType = (PyTypeObject *)PyType_FromSpec(&csv_reader_spec);
    if (!WeftError || !ContextType || !ArrayType || !OpType || !ProgramType || !CsvReaderType)
        goto fail;
    if (PyModule_AddObjectRef(m, "WeftError", WeftError) < 0 ||
        PyModule_AddObjectRef(m, "Context", (PyObject *)ContextType) < 0 ||
        PyModule_AddObjectRef(m, "Array", (PyObject *)ArrayType) < 0 ||
        PyModule_AddObjectRef(m, "Op", (PyObject *)OpType) < 0 ||
        PyModule_AddObjectRef(m, "Program", (PyObject *)ProgramType) < 0)
        goto fail;
    if (PyModule_AddStringConstant(m, "version", weft_version_string()) < 0) goto fail;
    static const struct {
        const char *name;
        int value;
    } ops[] = {{"SUM", WEFT_SUM}, {"PROD", WEFT_PROD},     {"MIN", WEFT_MIN},
               {"MAX", WEFT_MAX}, {"ARGMIN", WEFT_ARGMIN}, {"ARGMAX", WEFT_ARGMAX},
               {"ANY", WEFT_ANY}, {"ALL", WEFT_ALL},       {"COUNT", (int)WEFT_COUNT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (PyModule_AddIntConstant(m, ops[i].name, ops[i].value) < 0) goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
