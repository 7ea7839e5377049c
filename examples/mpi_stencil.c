/* A 1-D heat equation over MPI ranks: each step exchanges one ghost element
 * with each neighbour (begun, then ended after the interior work is queued)
 * and applies a three-point stencil to the rank's block, on its devices or
 * its pool. The ends of the rod are held at 0. Rank 0 checks the gathered
 * result against the same steps in one process, bit for bit.
 *   mpirun -np 3 ./example_mpi_stencil [elements] [steps] */
#include <weft_mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stencil_source[] =
    "#pragma OPENCL FP_CONTRACT OFF\n"
    "__kernel void heat(__global const float *x, __global const float *left,\n"
    "                   __global const float *right, __global float *y, const int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    float l = i > 0 ? x[i - 1] : left[0], r = i < n - 1 ? x[i + 1] : right[0];\n"
    "    y[i] = x[i] + 0.25f * (l - 2.0f * x[i] + r);\n"
    "}\n";

static float step_of(float l, float c, float r)
{
    return c + 0.25f * (l - 2.0f * c + r);
}

/* The same sweep in C, for rows [begin, end). */
static void heat_host(const weft_host_call *call)
{
    const float *x = call->args[0], *left = call->args[1], *right = call->args[2];
    float *y = call->args[3];
    int n = *(const int *)call->args[4];
    for (size_t i = call->begin; i < call->end; i++) {
        float l = i > 0 ? x[i - 1] : left[0], r = (int)i < n - 1 ? x[i + 1] : right[0];
        y[i] = step_of(l, x[i], r);
    }
}

static void initial(float *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        u[i] = (i > n / 3 && i < n / 2) ? 1.0f : 0.0f;
}

static weft_status run(weft_ctx *ctx, size_t n, int steps, const float *u0, float *out)
{
    weft_dist *x = NULL, *y = NULL;
    weft_dist_halo *hx = NULL, *hy = NULL;
    weft_program *program = NULL;
    weft_status st = weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F32, n, NULL, u0, 0, &x);
    if (st == WEFT_OK) st = weft_dist_create_like(x, WEFT_F32, &y);
    if (st == WEFT_OK) st = weft_dist_halo_create(x, 1, &hx);
    if (st == WEFT_OK) st = weft_dist_halo_create(y, 1, &hy);
    /* Without OpenCL the build fails and the host function runs every piece. */
    if (st == WEFT_OK && weft_program_build(ctx, stencil_source, NULL, &program) != WEFT_OK) {
        weft_program_free(program);
        program = NULL;
    }
    size_t offset = 0, count = 0;
    if (st == WEFT_OK) st = weft_dist_local_range(x, &offset, &count);
    for (int s = 0; st == WEFT_OK && s < steps; s++) {
        st = weft_dist_halo_begin(hx);
        /* Interior work that needs no ghosts would be queued here. */
        if (st == WEFT_OK) st = weft_dist_halo_end(hx);
        if (st == WEFT_OK && count > 0) {
            weft_arg args[] = {weft_arg_whole(weft_dist_local(x)),
                               weft_arg_whole(weft_dist_halo_left(hx)),
                               weft_arg_whole(weft_dist_halo_right(hx)),
                               weft_arg_slice(weft_dist_local(y)), weft_arg_i32((int32_t)count)};
            weft_range range = {1, {count, 1, 1}, {0, 0, 0}};
            st = program ? weft_launch(program, "heat", &range, args, 5, heat_host, NULL, NULL)
                         : WEFT_ERR_UNSUPPORTED;
            if (!program) { /* no OpenCL at all: the host function alone */
                weft_ctx_finish(ctx);
                float *xs = malloc(count * sizeof *xs), *ys = malloc(count * sizeof *ys);
                float l = 0, r = 0;
                st = xs && ys ? weft_array_read(weft_dist_local(x), 0, count, xs) : WEFT_ERR_NOMEM;
                if (st == WEFT_OK) st = weft_array_read(weft_dist_halo_left(hx), 0, 1, &l);
                if (st == WEFT_OK) st = weft_array_read(weft_dist_halo_right(hx), 0, 1, &r);
                for (size_t i = 0; st == WEFT_OK && i < count; i++)
                    ys[i] = step_of(i > 0 ? xs[i - 1] : l, xs[i], i + 1 < count ? xs[i + 1] : r);
                if (st == WEFT_OK) st = weft_array_write(weft_dist_local(y), 0, count, ys);
                free(xs);
                free(ys);
            }
        }
        weft_dist *t = x;
        x = y;
        y = t;
        weft_dist_halo *th = hx;
        hx = hy;
        hy = th;
    }
    if (st == WEFT_OK) st = weft_dist_gather(x, 0, out);
    weft_program_free(program);
    weft_dist_halo_free(hx);
    weft_dist_halo_free(hy);
    weft_dist_free(x);
    weft_dist_free(y);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
    int steps = argc > 2 ? atoi(argv[2]) : 50;
    float *u = malloc(n * sizeof *u), *out = malloc(n * sizeof *out),
          *ref = malloc(n * sizeof *ref);
    initial(u, n);
    weft_ctx *ctx = NULL;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = run(ctx, n, steps, u, out);
    int bad = st != WEFT_OK;
    if (bad) fprintf(stderr, "rank %d: %s %s\n", rank, weft_mpi_last_error(), weft_last_error());
    if (!bad && rank == 0) {
        memcpy(ref, u, n * sizeof *u);
        for (int s = 0; s < steps; s++) {
            float prev = 0;
            for (size_t i = 0; i < n; i++) {
                float c = ref[i];
                ref[i] = step_of(prev, c, i + 1 < n ? ref[i + 1] : 0.0f);
                prev = c;
            }
        }
        bad = memcmp(ref, out, n * sizeof *out) != 0;
        printf("mpi_stencil: %zu elements, %d steps: %s one process\n", n, steps,
               bad ? "DIFFERS from" : "the same bits as");
    }
    weft_ctx_free(ctx);
    free(u);
    free(out);
    free(ref);
    MPI_Finalize();
    return bad;
}
