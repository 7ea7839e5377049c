/* A 2D 5-point Jacobi stencil, iterated to convergence, with the grid's rows
 * split over the devices: each device reads one halo row from each neighbour
 * and writes only its own rows. Edges are held fixed (top edge 1, others 0). */
#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char jacobi_source[] =
    "__kernel void jacobi(__global const float *in, __global float *out, const int nx,\n"
    "                     const int ny)\n"
    "{\n"
    "    int x = get_global_id(0), y = get_global_id(1);\n"
    "    __global const float *c = in + y * nx;\n"
    "    float v = c[x];\n"
    "    if (x > 0 && y > 0 && x < nx - 1 && y < ny - 1)\n"
    "        v = 0.25f * (c[x - 1] + c[x + 1] + c[x - nx] + c[x + nx]);\n"
    "    out[y * nx + x] = v;\n"
    "}\n";

/* The same sweep in C, for rows [begin, end), indexing the whole grid. */
static void jacobi_host(const weft_host_call *call)
{
    const float *in = call->args[0];
    float *out = call->args[1];
    int nx = *(const int *)call->args[2], ny = *(const int *)call->args[3];
    for (size_t y = call->begin; y < call->end; y++)
        for (int x = 0; x < nx; x++) {
            const float *c = in + y * (size_t)nx;
            float v = c[x];
            if (x > 0 && y > 0 && x < nx - 1 && (int)y < ny - 1)
                v = 0.25f * (c[x - 1] + c[x + 1] + c[x - nx] + c[x + nx]);
            out[y * (size_t)nx + x] = v;
        }
}

static void jacobi_initial(float *grid, int nx, int ny)
{
    memset(grid, 0, sizeof(float) * (size_t)nx * ny);
    for (int x = 0; x < nx; x++)
        grid[x] = 1.0f;
}

/* Sweeps until no cell changes by more than tol (checked every `check`
 * sweeps) or max_sweeps; leaves the grid in `grid`, returns sweeps done. */
static weft_status jacobi_solve(weft_ctx *ctx, float *grid, int nx, int ny, float tol, int check,
                                int max_sweeps, int *sweeps)
{
    size_t cells = (size_t)nx * ny;
    weft_program *program = NULL;
    weft_array *a = NULL, *b = NULL;
    float *prev = malloc(cells * sizeof *prev);
    weft_status st = prev ? weft_program_build(ctx, jacobi_source, NULL, &program) : WEFT_ERR_NOMEM;
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F32, cells, grid, &a);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_F32, cells, &b);
    weft_range range = {2, {(size_t)nx, (size_t)ny, 1}, {0, 0, 0}};
    *sweeps = 0;
    while (st == WEFT_OK && *sweeps < max_sweeps) {
        weft_arg args[] = {weft_arg_halo(a, 1), weft_arg_slice(b), weft_arg_i32(nx),
                           weft_arg_i32(ny)};
        st = weft_launch(program, "jacobi", &range, args, 4, jacobi_host, NULL, NULL);
        weft_array *t = a; /* the new grid is next sweep's input */
        a = b;
        b = t;
        ++*sweeps;
        if (st != WEFT_OK || *sweeps % check != 0) continue;
        /* b holds the grid one sweep before a: compare them */
        st = weft_array_read(b, 0, cells, prev);
        if (st == WEFT_OK) st = weft_array_read(a, 0, cells, grid);
        float change = 0;
        for (size_t i = 0; i < cells && st == WEFT_OK; i++)
            change = fmaxf(change, fabsf(grid[i] - prev[i]));
        if (change <= tol) break;
    }
    if (st == WEFT_OK) st = weft_array_read(a, 0, cells, grid);
    weft_array_free(a);
    weft_array_free(b);
    weft_program_free(program);
    free(prev);
    return st;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void)
{
    enum { NX = 256, NY = 256 };
    float *grid = malloc(sizeof(float) * NX * NY);
    jacobi_initial(grid, NX, NY);
    weft_ctx *ctx;
    int sweeps = 0;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = jacobi_solve(ctx, grid, NX, NY, 1e-5f, 50, 100000, &sweeps);
    if (st != WEFT_OK)
        fprintf(stderr, "jacobi: %s\n", weft_last_error());
    else
        printf("converged after %d sweeps; centre = %.5f\n", sweeps, grid[NY / 2 * NX + NX / 2]);
    weft_ctx_free(ctx);
    free(grid);
    return st == WEFT_OK ? 0 : 1;
}
#endif
