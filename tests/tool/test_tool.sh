#!/bin/sh
# The weft tool on the current device setup: each command's exit code, its
# JSON keys, and its errors on bad arguments.
set -u
WEFT=$1
DIR=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
opencl=1
"$WEFT" info --json >"$work/info.json" || { echo "info failed"; exit 1; }
grep -q '"devices": \[' "$work/info.json" || { echo "info: no devices key"; exit 1; }
grep -q '"kind": "cpu"' "$work/info.json" || opencl=0
fail=0
expect() { # expected-exit-code description command...
    want=$1
    what=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"
        cat "$work/out" "$work/err"
        fail=1
    fi
}
has() { # file pattern description
    grep -q "$2" "$1" || { echo "FAIL: $3: no \"$2\" in:"; cat "$1"; fail=1; }
}
K=$DIR/../../examples/ci/kernels
expect 0 "help" "$WEFT" --help
expect 2 "unknown command" "$WEFT" frobnicate
expect 0 "--version" "$WEFT" --version
has "$work/out" "^[0-9][0-9.]*$" "--version prints the version"
expect 0 "help" "$WEFT" help
has "$work/out" "usage: weft" "help prints the usage"
expect 0 "help run" "$WEFT" help run
has "$work/out" "weft run" "help run prints run's usage"
expect 0 "run --help" "$WEFT" run --help
expect 2 "run without --range" "$WEFT" run "$K/saxpy.cl" --kernel saxpy
expect 2 "run bad dtype" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg 'q16[4]'
has "$work/err" "unknown dtype" "bad dtype message"
expect 2 "run bad size" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 0
expect 2 "run missing file" "$WEFT" run "$work/none.cl" --kernel saxpy --range 8
expect 2 "precompile nothing" "$WEFT" precompile
# Scalars and fills that do not fit their dtype, malformed specs, and ranges
# whose item count overflows are usage errors, caught before any device runs.
for spec in i32:1e300 i32:nan i32:inf i32:2147483648 i32:-2147483649 i32:1.5 u8:256 u8:-1 \
    u32:-1 u32:4294967296 u64:18446744073709551616 i64:9223372036854775808 f32:1e300 \
    f32:3.5e38 f64:1e400 'i32[4]=1e300' 'u8[*]=-1' 'i32[*]=nan' slice:f32:1 whole:f32:1 \
    halo:1:f32:1; do
    expect 2 "run --arg $spec" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg "$spec"
    grep -qF -- "\"$spec\"" "$work/err" || { echo "FAIL: --arg $spec: not named in:"; cat "$work/err"; fail=1; }
done
has "$work/err" "no slice/whole/halo prefix" "prefixed scalar message"
expect 2 "run --arg i32:1e300" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg i32:1e300
has "$work/err" "out of the range of i32" "out-of-range scalar message"
expect 2 "run range overflow" "$WEFT" run "$K/saxpy.cl" --kernel saxpy \
    --range 4294967296,4294967296 --arg f32:1 --arg 'f32[*]' --arg 'f32[*]'
has "$work/err" "range overflows" "range overflow message"
expect 0 "cache stats" "$WEFT" cache stats --json
has "$work/out" '"binaries":' "cache stats json"
# A read-only command changes nothing: not even the directory is created.
expect 0 "cache stats, no dir" env WEFT_CACHE_DIR="$work/absent/cache" "$WEFT" cache stats
has "$work/out" '0 program binaries' "cache stats of a missing dir"
[ -e "$work/absent" ] && { echo "FAIL: cache stats created $work/absent"; fail=1; }
# clear removes weft's files and nothing else, however alike their names.
mkdir -p "$work/clear" && echo notes >"$work/clear/calibration-notes.txt" &&
    printf 'x%.0s' $(seq 40) >"$work/clear/$(printf 'a%.0s' $(seq 64)).bin"
expect 0 "cache clear" env WEFT_CACHE_DIR="$work/clear" "$WEFT" cache clear
has "$work/out" 'removed 0 files' "cache clear of files not weft's"
[ "$(ls "$work/clear" | wc -l)" -eq 2 ] || { echo "FAIL: cache clear removed a file not weft's"; fail=1; }
# A directory named acts on it, not the default; a stray word is refused
# (it cleared the default directory, exit 0).
mkdir -p "$work/named" "$work/default"
: >"$work/named/calibration-tmp.1.2" && : >"$work/default/calibration-tmp.1.2"
expect 0 "cache clear DIR" env WEFT_CACHE_DIR="$work/default" "$WEFT" cache clear "$work/named"
has "$work/out" "from $work/named" "cache clear names the directory it cleared"
[ -e "$work/default/calibration-tmp.1.2" ] || { echo "FAIL: cache clear DIR cleared the default"; fail=1; }
expect 2 "cache clear, two words" "$WEFT" cache clear "$work/named" extra
has "$work/err" 'unexpected argument "extra"' "cache clear stray argument"
expect 2 "cache stats --bogus" "$WEFT" cache stats --bogus
expect 2 "bench prims --only nonesuch" "$WEFT" bench prims --only nonesuch
has "$work/err" 'no case' "bench prims unknown case"
if [ $opencl -eq 1 ]; then
    # An argument too big to allocate says so (it printed an earlier call's detail).
    # (AddressSanitizer's allocator aborts on such a size unless told to fail it.)
    expect 3 "run huge argument" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" \
        "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg f32:2 \
        --arg 'f32[1048576000000]=random' --arg 'f32[*]=1'
    has "$work/err" 'cannot allocate argument 1: 1048576000000 f32 elements' "huge argument message"
    expect 0 "run --check" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 5000 --arg f32:2 \
        --arg 'f32[*]=random' --arg 'f32[*]=1' --check --json --repeat 3
    has "$work/out" '"agree": true' "run check json"
    has "$work/out" '"kernel_s": {"median":' "run kernel time"
    has "$work/out" '"cache_hit":' "run cache hit"
    has "$work/out" '"against": "reference (-cl-opt-disable)"' "run check names the reference"
    # --check compares with a reference build (-cl-opt-disable), so even one
    # device is checked against something: a kernel that an optimising build
    # computes differently is caught.
    cat >"$work/odd.cl" <<'EOF'
__kernel void opt(__global float *y)
{
#ifdef __OPTIMIZE__
    y[get_global_id(0)] = 1.0f;
#else
    y[get_global_id(0)] = 2.0f;
#endif
}
__kernel void piece_size(__global uint *y) { y[get_global_id(0)] = get_global_size(0); }
EOF
    echo '__kernel void index(__global uint *y) { y[get_global_id(0)] = get_global_id(0); }' \
        >"$work/index.cl"
    expect 1 "run --check, optimised build differs" "$WEFT" run "$work/odd.cl" --kernel opt \
        --range 64 --arg 'f32[*]' --check --repeat 1
    has "$work/out" "device 1 vs reference (-cl-opt-disable): argument 0, 64 f32 elements, max rel diff 0.5, 64 differ" \
        "check names what differs"
    has "$work/out" "some DIFFER" "check summary on a mismatch"
    # A kernel that asks for the launch's geometry (get_global_size) is kept
    # whole on one device, so the devices give the reference's answer, and
    # the check says the kernel was not split.
    ndev=$(grep -o '"kind": "cpu", [^}]*"selected": true' "$work/info.json" | wc -l)
    if [ "$ndev" -ge 2 ]; then
        expect 0 "run --check, a kernel kept whole" "$WEFT" run "$work/odd.cl" --kernel piece_size \
            --range 64 --arg 'u32[*]' --check --repeat 1
        has "$work/out" "devices ($ndev, the kernel kept whole on device 1) vs reference (-cl-opt-disable): argument 0, 64 u32 elements, compared bitwise, agree" \
            "check says the kernel was kept whole"
        # A kernel that splits is compared split: the check's first launch
        # keeps one device's answer, so the split run launches again.
        expect 0 "run --check, a kernel that splits" "$WEFT" run "$work/index.cl" --kernel index \
            --range 1048576 --arg 'u32[*]' --check --repeat 1
        grep -q -e "devices split ($ndev) vs reference" -e "devices ($ndev, the launch placed on device" "$work/out" ||
            { echo "FAIL: a kernel that splits said otherwise:"; cat "$work/out"; fail=1; }
        # Bytes all zero: on copying devices the check cannot decide and runs
        # again, which is said as such, not as a kernel kept whole.
        echo '__kernel void ucopy(__global uchar *y, __global const uchar *x) { int i = get_global_id(0); y[i] = x[i] == 0 ? 255 : x[i]; }' \
            >"$work/ucopy.cl"
        expect 0 "run --check, bytes at zero" "$WEFT" run "$work/ucopy.cl" --kernel ucopy \
            --range 1048576 --arg 'u8[*]' --arg 'u8[*]' --check --repeat 1
        grep -q -e "devices split ($ndev) vs reference" -e "devices ($ndev, checked again" "$work/out" ||
            { echo "FAIL: an undecided check said otherwise:"; cat "$work/out"; fail=1; }
    else
        expect 0 "run --check, one device" "$WEFT" run "$work/odd.cl" --kernel piece_size \
            --range 64 --arg 'u32[*]' --check --repeat 1
        has "$work/out" "check: 1 comparison of 1 device (one device: nothing was split) with the reference: all agree" \
            "one device: one comparison, said so"
        grep -q "devices split" "$work/out" && { echo "FAIL: a split run claimed with one device"; fail=1; }
    fi
    # --expect: golden files, right and wrong (saxpy with another scalar).
    for a in 2 3; do
        expect 0 "run save golden $a" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 1000 \
            --arg f32:$a --arg 'f32[*]=ramp' --arg 'f32[*]=1' --save "2:$work/golden$a.bin" --repeat 1
    done
    expect 0 "run --expect right" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 1000 \
        --arg f32:2 --arg 'f32[*]=ramp' --arg 'f32[*]=1' --expect "2:$work/golden2.bin" --repeat 1
    has "$work/out" "device 1 vs expected $work/golden2.bin: argument 2, 1000 f32 elements, max rel diff 0, agree" \
        "expect compares with the file"
    expect 1 "run --expect wrong" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 1000 \
        --arg f32:2 --arg 'f32[*]=ramp' --arg 'f32[*]=1' --expect "2:$work/golden3.bin" --repeat 1 --json
    has "$work/out" '"agree": false' "expect mismatch json"
    has "$work/out" '"differ": 999, "first": 1' "expect mismatch counted"
    expect 2 "run --expect wrong size" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 999 \
        --arg f32:2 --arg 'f32[*]=ramp' --arg 'f32[*]=1' --expect "2:$work/golden2.bin" --repeat 1
    has "$work/err" "has 4000 bytes, argument 2 holds 3996" "expect size message"
    expect 2 "run --expect a scalar" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 1000 \
        --arg f32:2 --arg 'f32[*]=ramp' --arg 'f32[*]=1' --expect "0:$work/golden2.bin" --repeat 1
    expect 3 "run kernel not in file" "$WEFT" run "$K/saxpy.cl" --kernel nope --range 8 --arg f32:1
    has "$work/err" 'no kernel named' "missing kernel message"
    expect 3 "run argument count" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg f32:1
    has "$work/err" 'takes 3 arguments' "argument count message"
    expect 0 "precompile" "$WEFT" precompile "$K/saxpy.cl" "$K/histogram.cl"
    expect 0 "run save" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 16 --arg f32:1 \
        --arg 'f32[*]=ramp' --arg 'f32[*]=1' --save "2:$work/y.bin" --repeat 1
    [ "$(wc -c <"$work/y.bin")" -eq 64 ] || { echo "FAIL: --save wrote $(wc -c <"$work/y.bin") bytes"; fail=1; }
    # Scalars reach the kernel exactly, extremes included.
    cat >"$work/store.cl" <<'EOF'
__kernel void store_int(const int v, __global int *out) { out[0] = v; }
__kernel void store_ulong(const ulong v, __global ulong *out) { out[0] = v; }
__kernel void uses_local(__global float *y, __local float *t)
{
    t[get_local_id(0)] = 1.0f;
    y[get_global_id(0)] = t[get_local_id(0)];
}
EOF
    expect 0 "run i32 minimum" "$WEFT" run "$work/store.cl" --kernel store_int --range 1 \
        --arg i32:-2147483648 --arg 'i32[1]' --save "1:$work/int.bin" --repeat 1
    [ "$(od -An -td4 "$work/int.bin" | tr -d ' ')" = "-2147483648" ] ||
        { echo "FAIL: i32:-2147483648 reached the kernel as $(od -An -td4 "$work/int.bin")"; fail=1; }
    expect 0 "run u64 maximum" "$WEFT" run "$work/store.cl" --kernel store_ulong --range 1 \
        --arg u64:18446744073709551615 --arg 'u64[1]' --save "1:$work/ulong.bin" --repeat 1
    [ "$(od -An -tu8 "$work/ulong.bin" | tr -d ' ')" = "18446744073709551615" ] ||
        { echo "FAIL: u64 maximum reached the kernel as $(od -An -tu8 "$work/ulong.bin")"; fail=1; }
    # More local memory or a larger work-group than the device has: an error, not an abort.
    expect 3 "run local memory above the device" "$WEFT" run "$work/store.cl" --kernel uses_local \
        --range 64 --local 64 --arg 'f32[*]' --arg local:1073741824 --repeat 1
    has "$work/err" "argument 1 asks for 1073741824 bytes of local memory" "local memory message"
    expect 3 "run work-group above the device" "$WEFT" run "$work/store.cl" --kernel uses_local \
        --range 65536 --local 65536 --arg 'f32[*]' --arg local:256 --repeat 1
    has "$work/err" "local size 65536" "work-group size message"
    expect 0 "peak" "$WEFT" peak --json --device cl:0
    has "$work/out" '"gflops_f32":' "peak json"
    has "$work/out" '"raw_launch_us": [0-9]' "peak raw OpenCL launch"
    has "$work/out" '"raw_pipelined_us": [0-9]' "peak raw OpenCL pipelined launch"
else
    expect 4 "run without OpenCL" "$WEFT" run "$K/saxpy.cl" --kernel saxpy --range 8 --arg f32:1
    has "$work/err" 'no OpenCL device' "no OpenCL message"
    expect 0 "peak on the pool" "$WEFT" peak --json
    has "$work/out" '"read_gbs":' "peak json"
fi
# Every primitive against its plain loop, on tiny sizes: the results agree.
expect 0 "bench prims" "$WEFT" bench prims --json --n 5001 --rows 3001 --runs 1
has "$work/out" '"op": "group_by sum 1000 keys f32", "n": 3001' "bench prims json"
has "$work/out" '"op": "scan i64 (pool)"' "bench prims scans"
if grep -q '"same": false' "$work/out"; then
    echo "FAIL: bench prims: weft and the plain loop differ:"
    cat "$work/out"
    fail=1
fi
expect 2 "bench prims bad option" "$WEFT" bench prims --frob
[ $fail -eq 0 ] && echo "tool: all checks passed (opencl=$opencl)"
exit $fail
