#!/bin/sh
# Installs the build tree into a scratch prefix, then builds and runs a user
# program against it twice: with CMake's find_package and with pkg-config.
set -eu
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
here=$(dirname "$0")

cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH=$prefix/lib "$work/cmake-build/consumer"

libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n1)
PKG_CONFIG_PATH=$libdir cc -std=c11 "$here/main.c" -o "$work/pkgconfig-consumer" \
    $(PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs weft)
LD_LIBRARY_PATH=$(dirname "$libdir") "$work/pkgconfig-consumer"
# The README's static recipe: runs with no library path at all.
PKG_CONFIG_PATH=$libdir cc -std=c11 "$here/main.c" -o "$work/static-consumer" \
    $(PKG_CONFIG_PATH=$libdir pkg-config --cflags weft) "$(dirname "$libdir")/libweft.a" \
    $(PKG_CONFIG_PATH=$libdir pkg-config --static --libs-only-other --libs-only-l weft |
        sed 's/-lweft //')
env -u LD_LIBRARY_PATH "$work/static-consumer"
echo "consumer: find_package, pkg-config and static builds all work"
