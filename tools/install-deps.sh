#!/bin/sh
# Installs what weft needs on Debian 12, if it is missing: the library's build,
# and the Python package's (python3-dev for the extension, venv, numpy and
# pytest; scikit-build-core, not packaged in Debian 12, is pip-installed into
# the package's venv by setup.sh and test.sh). With --test, also what the
# full test run needs (clang's libFuzzer, valgrind). Idempotent: does
# nothing (and needs no root) when everything is there.
set -eu

PACKAGES="build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers \
ocl-icd-libopencl1 pocl-opencl-icd libcmocka-dev clinfo libopenmpi-dev openmpi-bin \
python3-dev python3-venv python3-pip python3-numpy python3-pytest"
# python3-pandas, python3-statsmodels and distro-info-data: the CSV corpus test
# (tests/csv_corpus) compares weft csv with pandas on the datasets they ship.
# librandom123-dev: tests/test_random.c checks weft's Philox against Random123.
[ "${1:-}" = "--test" ] && PACKAGES="$PACKAGES clang libclang-rt-14-dev valgrind util-linux \
python3-pandas python3-statsmodels distro-info-data librandom123-dev"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "weft: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "weft: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
