#!/bin/sh
# An example CI job for a project with OpenCL kernels: check on PoCL (no GPU
# needed) that every kernel builds, runs, and gives the same answer on two
# devices, with compiled kernels kept between jobs. Copy it, point KERNELS at
# your .cl files, and keep $WEFT_CACHE_DIR as a CI cache/artifact.
#
# Needs: weft built or installed (WEFT=path to the weft tool), and Debian's
# pocl-opencl-icd and ocl-icd-libopencl1 packages.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
WEFT=${WEFT:-weft}
KERNELS=${KERNELS:-$here/kernels}
export WEFT_CACHE_DIR=${WEFT_CACHE_DIR:-$here/.weft-cache}   # keep this between jobs
export POCL_DEVICES=${POCL_DEVICES:-"pthread pthread"}         # two CPU devices to compare

"$WEFT" info                          # what OpenCL sees, and why anything was set aside
"$WEFT" precompile "$KERNELS"/*.cl    # compile once; later jobs load binaries
"$WEFT" cache stats

# Each kernel: run on every device and compare the outputs (exit 1 on a mismatch).
"$WEFT" run "$KERNELS/saxpy.cl" --kernel saxpy --range 1000000 \
    --arg f32:2.5 --arg 'f32[*]=random' --arg 'f32[*]=ramp' --check --repeat 5 --bytes 12
"$WEFT" run "$KERNELS/histogram.cl" --kernel count_matches --range 256 \
    --arg 'whole:u8[100000]=random' --arg u32:100000 --arg 'u32[*]' --check --repeat 3
echo "ci job: every kernel built, ran and agreed across devices"
