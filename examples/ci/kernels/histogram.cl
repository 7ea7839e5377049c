/* Integer work: each item counts how many of the whole array's bytes equal
 * its own index modulo 256 (whole: every device reads all of `data`). */
__kernel void count_matches(__global const uchar *data, const uint n, __global uint *counts)
{
    size_t g = get_global_id(0);
    uint c = 0;
    for (uint i = 0; i < n; i++)
        c += data[i] == (uchar)(g & 255);
    counts[g] = c;
}
