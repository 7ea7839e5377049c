/* Run once per device at discovery: a device that cannot build and run this
 * correctly is set aside rather than trusted with real work. */
__kernel void smoke(__global uint *out)
{
    const uint i = get_global_id(0);
    out[i] = i * 3u + 1u;
}
