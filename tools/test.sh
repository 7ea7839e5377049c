#!/bin/sh
# Quick start, step 2: install what is missing, build, and run the whole test
# suite on every device setup (PoCL, two PoCL devices, zero-copy off, GPU
# kernel variants, no OpenCL). --werror also makes every warning an error (CI).
set -eu
cd "$(dirname "$0")/.."
werror=OFF
[ "${1:-}" = "--werror" ] && werror=ON
sh tools/install-deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DWEFT_WERROR=$werror >/dev/null
cmake --build build-test -j"$(nproc)"
cd build-test
ctest -j"$(nproc)" --output-on-failure --timeout 600
