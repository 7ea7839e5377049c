#!/bin/sh
# Quick start, step 1: install what is missing, build weft, and run the main
# job: the device listing, a partitioned map and reduce timed against a plain
# C loop (on PoCL, or on the thread pool where there is no OpenCL), and the
# quick benchmark of every primitive against its baselines.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/weft info
echo
./build/weft demo
echo
# The primitives against a C loop, OpenMP and raw OpenCL (under a minute).
./build/weft bench --quick || echo "weft bench unavailable (needs OpenMP and OpenCL at build time)"

