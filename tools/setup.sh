#!/bin/sh
# Quick start, step 1: install what is missing, build weft, and run the main
# job: the device listing and a partitioned map and reduce timed against a
# plain C loop (on PoCL, or on the thread pool where there is no OpenCL).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/weft info
echo
./build/weft demo
