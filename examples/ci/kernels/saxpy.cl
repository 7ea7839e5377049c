/* y = a*x + y over this device's piece (slices start at the global offset). */
__kernel void saxpy(const float a, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
}
