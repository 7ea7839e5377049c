#!/bin/sh
# Installs the build tree into a scratch prefix and runs each installed
# program with a clean environment (no LD_LIBRARY_PATH): each must find the
# installed library through its own run path, from wherever the prefix is.
set -eu
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
# A prefix with a space in it, moved after the install: the run path must be
# relative to the executable, not the prefix given at install time.
cmake --install "$build" --prefix "$work/first prefix" >/dev/null
mv "$work/first prefix" "$work/moved prefix"
bin="$work/moved prefix/bin"

check() { # what, expected output pattern, command...
    what=$1
    pattern=$2
    shift 2
    out=$(env -i "$@" 2>&1) || true
    case $out in
    *"$pattern"*) echo "installed $what: ok" ;;
    *) echo "installed $what failed: $out" >&2; exit 1 ;;
    esac
}
check weft "$(grep -m1 'project(weft VERSION' "$(dirname "$0")/../../CMakeLists.txt" |
    sed 's/.*VERSION \([0-9.]*\).*/\1/')" "$bin/weft" version
check weft-csv-gen "usage: weft-csv-gen" "$bin/weft-csv-gen"
if [ -e "$bin/weft-bench" ]; then
    check weft-bench "usage: weft bench" "$bin/weft-bench" --help
fi
