#!/bin/sh
# Quick start, step 1: install what is missing, build weft, and run the main
# job: the device listing, a partitioned map and reduce timed against a plain
# C loop (on PoCL, or on the thread pool where there is no OpenCL), and the
# quick benchmark of every primitive against its baselines. Also installs the
# Python package into the venv build-python/venv (docs/python.md).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
# The benchmarks too: weft bench runs weft-bench (below).
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
# The Python package: Debian's python3 with its numpy and pytest, and
# scikit-build-core from PyPI (Debian 12 has none).
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
[ -x build-python/venv/bin/python ] || $py -m venv --system-site-packages build-python/venv
build-python/venv/bin/python -c 'import scikit_build_core' 2>/dev/null ||
    build-python/venv/bin/pip install -q 'scikit-build-core>=0.8'
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" build-python/venv/bin/pip install -q --no-build-isolation \
    --config-settings=build-dir="$PWD/build-python/cmake" ./python
build-python/venv/bin/python -c 'import weft; print("weft for Python", weft.__version__, "in build-python/venv")'
./build/weft info
echo
./build/weft demo
echo
# The primitives against a C loop, OpenMP and raw OpenCL (under a minute).
./build/weft bench --quick || echo "weft bench unavailable (needs OpenMP and OpenCL at build time)"

