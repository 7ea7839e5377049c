#!/bin/sh
# Quick start, step 2 (and what CI runs): install what is missing, then build
# and run every check. Stages, in order (name one or more to run only those):
#   unit      the test suite on every device setup (PoCL, two PoCL devices,
#             zero-copy off, GPU kernel variants, no OpenCL), plus the
#             installed-consumer and exported-symbol checks
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer over the suite on
#             the PoCL and no-OpenCL setups
#   tsan      ThreadSanitizer over the pool, futures, stress, op and CSV tests (no OpenCL),
#             and over operations sharing PoCL devices
#   fuzz      each libFuzzer target for a bounded time over tests/fuzz/corpus
#   valgrind  memcheck over the no-OpenCL suite
#   noopencl  a build without OpenCL at all (WEFT_WITH_OPENCL=OFF) and its suite
#   python    pip install ./python into a venv (build-python/venv), then its
#             pytest suite on PoCL (partitioned), on the defaults, and without
#             OpenCL (OCL_ICD_VENDORS=/nonexistent)
# --werror makes every warning an error (CI).
set -eu
cd "$(dirname "$0")/.."
werror=OFF
stages=""
for arg in "$@"; do
    case $arg in
    --werror) werror=ON ;;
    unit | asan | tsan | fuzz | valgrind | noopencl | python) stages="$stages $arg" ;;
    *) echo "test.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done
[ -z "$stages" ] && stages="unit noopencl python asan tsan fuzz valgrind"
jobs=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-40}

sh tools/install-deps.sh --test

stage() { printf '\n==== %s (%s)\n' "$1" "$(date +%T)"; }

# The tests and examples are off in a plain build: every stage turns them on
# (the benchmarks only where named: they need OpenMP and take long to build).
configure() { # dir, extra cmake args...
    dir=$1
    shift
    cmake -S . -B "$dir" -DWEFT_WERROR=$werror -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_EXAMPLES=ON \
        "$@" >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
}

for s in $stages; do
    case $s in
    unit)
        stage "unit tests"
        configure build-test -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON
        (cd build-test && ctest -j"$jobs" --output-on-failure --timeout 600)
        ;;
    asan)
        stage "AddressSanitizer + UndefinedBehaviorSanitizer"
        configure build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_SANITIZE=address,undefined \
            -DWEFT_BUILD_BENCH=OFF
        # LeakSanitizer's thread-stopping tracer sometimes dies (signal 11) while
        # PoCL's threads are exiting at process exit, after every test passed;
        # a failure is rerun once, so only a failure that happens twice counts.
        (cd build-asan &&
            ASAN_OPTIONS=detect_leaks=1:use_sigaltstack=0 LSAN_OPTIONS=suppressions=$PWD/../tests/lsan.supp \
                ctest -j"$jobs" -L '^(pocl|nocl)$' -E 'alloc_fail' --repeat until-pass:2 \
                --output-on-failure --timeout 600)
        ;;
    tsan)
        stage "ThreadSanitizer"
        configure build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_SANITIZE=thread \
            -DWEFT_BUILD_BENCH=OFF
        # Newer kernels randomise more address bits than GCC 12's TSan maps: run unrandomised.
        norand=""
        setarch "$(uname -m)" -R true 2>/dev/null && norand="setarch $(uname -m) -R"
        (cd build-tsan && TSAN_OPTIONS=halt_on_error=1 $norand \
            ctest -j"$jobs" -L nocl -R 'pool|futures|future_callback|tasks|stress|launch|expr|reduce|ops|ctx_adversarial|alias|lifecycle|handles|csv' \
            --output-on-failure --timeout 600)
        # Operations enqueue on one PoCL device from two threads at once.
        (cd build-tsan && TSAN_OPTIONS=halt_on_error=1 $norand \
            ctest -j"$jobs" -L pocl -R 'queued_ops|user_kernels|lifecycle' --output-on-failure --timeout 600)
        ;;
    fuzz)
        stage "fuzzing, ${FUZZ_SECONDS}s per target"
        CC=clang configure build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_FUZZ=ON \
            -DWEFT_SANITIZE=address,undefined -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF
        for target in expr cache argspec devices number_text expr_diff; do
            corpus=build-fuzz/corpus-$target
            rm -rf "$corpus" && mkdir -p "$corpus" && cp tests/fuzz/corpus/$target/* "$corpus"/
            # fuzz_expr_diff compares the pool with PoCL: it needs the platform.
            vendors=OCL_ICD_VENDORS=/nonexistent
            [ "$target" = expr_diff ] && vendors=
            # The fuzzer's own status counts too: an abort it did not catch
            # (a mismatch reported as the run ended) left no crash file.
            rc=0
            (cd build-fuzz && env $vendors LSAN_OPTIONS=suppressions=$PWD/../tests/lsan.supp \
                ./tests/fuzz/fuzz_$target \
                -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 "../$corpus" >"fuzz-$target.log" 2>&1) || rc=$?
            grep -E 'DONE|stat::number_of_executed_units|ERROR|Test unit written|fuzz_expr_diff:' \
                "build-fuzz/fuzz-$target.log" || true
            if [ "$rc" -ne 0 ]; then
                echo "fuzz_$target found a failure (exit $rc): build-fuzz/fuzz-$target.log" >&2
                exit 1
            fi
            # Any one of them is a failure (ls of the three patterns failed
            # unless all three matched, and a crash went unreported).
            for found in build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-*; do
                if [ -e "$found" ]; then
                    echo "fuzz_$target found a failure: $found" >&2
                    exit 1
                fi
            done
        done
        ;;
    noopencl)
        stage "built without OpenCL"
        configure build-noopencl -DCMAKE_BUILD_TYPE=Release -DWEFT_WITH_OPENCL=OFF \
            -DWEFT_BUILD_BENCH=OFF
        (cd build-noopencl && ctest -j"$jobs" --output-on-failure --timeout 600)
        ;;
    python)
        stage "Python package"
        # The same install as tools/setup.sh: Debian's python3 with its numpy
        # and pytest, scikit-build-core from PyPI, the package built from this
        # checkout's CMake project.
        py=python3
        [ -x /usr/bin/python3 ] && py=/usr/bin/python3
        venv=build-python/venv
        [ -x $venv/bin/python ] || $py -m venv --system-site-packages $venv
        $venv/bin/python -c 'import scikit_build_core' 2>/dev/null ||
            $venv/bin/pip install -q 'scikit-build-core>=0.8'
        CMAKE_BUILD_PARALLEL_LEVEL=$jobs $venv/bin/pip install -q --no-build-isolation \
            --config-settings=build-dir="$PWD/build-python/cmake" --config-settings=cmake.define.WEFT_WERROR=$werror ./python
        export WEFT_CACHE_DIR=$PWD/build-python/weft-cache
        WEFT_SMALL_ELEMENTS=0 $venv/bin/python -m pytest -q -p no:cacheprovider python/tests
        $venv/bin/python -m pytest -q -p no:cacheprovider python/tests
        OCL_ICD_VENDORS=/nonexistent $venv/bin/python -m pytest -q -p no:cacheprovider python/tests
        unset WEFT_CACHE_DIR
        ;;
    valgrind)
        stage "valgrind memcheck (no OpenCL)"
        configure build-test -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON
        empty=$PWD/build-test/tests/empty-icd-vendors
        for t in build-test/tests/test_*; do
            name=$(basename "$t")
            # Fork children are left out: they _exit while threads they
            # started may still hold what they free next (test_lifecycle's).
            # test_stress is timed, test_alloc_fail brings its own malloc, and
            # test_expr_diff checks the pool against C's own conversions, which
            # valgrind emulates (int64 to float through double: two roundings).
            case $name in test_stress | test_alloc_fail | test_expr_diff) continue ;; esac
            OCL_ICD_VENDORS=$empty WEFT_CACHE_DIR=$PWD/build-test/tests/test-cache \
                valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                --child-silent-after-fork=yes \
                --suppressions=tests/valgrind.supp "$t" >/dev/null 2>build-test/valgrind-$name.txt ||
                { echo "valgrind: $name failed" >&2; cat build-test/valgrind-$name.txt >&2; exit 1; }
            echo "valgrind: $name clean"
        done
        ;;
    esac
done
stage "all checks passed"
