#!/usr/bin/env bash
# cmake --install of the build into a scratch prefix, then an out-of-tree program
# (tests/install/example.c) built against the installed copy twice, with pkg-config and with
# find_package(rmmemu), and run: it builds, runs and tears down a realm through librmmemu.so.
# The installed CLI runs too. Sanitizer builds have no install rules: SKIP (77).
set -euo pipefail
bin=$1 src=$2
build=$(cd "$(dirname "$bin")" && pwd)
if grep -Eq '^RMMEMU_(SANITIZE|TSAN|FUZZ):BOOL=ON' "$build/CMakeCache.txt"; then
    echo "install: a sanitizer build installs nothing (SKIP)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
libdir=$(sed -n 's/^libdir=\${prefix}\///p' "$tmp/prefix"/lib*/pkgconfig/rmmemu.pc)
[ -n "$libdir" ] || fail "no rmmemu.pc"
for f in include/rmmemu/rmmemu.h include/rmmemu/host.h include/rmmemu/rmi_defs.h bin/rmmemu \
         "$libdir/librmmemu.so" "$libdir/cmake/rmmemu/rmmemuConfig.cmake"; do
    [ -e "$tmp/prefix/$f" ] || fail "$f not installed"
done
# The installed tree must not need the build or source tree (the engine comes along if bundled).
"$tmp/prefix/bin/rmmemu" version | grep -q "Unicorn 2.1.1" || fail "installed rmmemu version"
ldd "$tmp/prefix/$libdir/librmmemu.so" | grep -q "not found" && fail "librmmemu.so has unresolved libraries"
ldd "$tmp/prefix/$libdir/librmmemu.so" | grep unicorn | grep -q "$build\|$src" &&
    fail "librmmemu.so loads the engine from the build or source tree"

# 1. pkg-config
PKG_CONFIG_PATH="$tmp/prefix/$libdir/pkgconfig" pkg-config --exists rmmemu || fail "pkg-config rmmemu"
cc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/example-pc" "$src/tests/install/example.c" \
    $(PKG_CONFIG_PATH="$tmp/prefix/$libdir/pkgconfig" pkg-config --cflags --libs rmmemu) || fail "pkg-config build"
"$tmp/example-pc" >"$tmp/pc.out" || { cat "$tmp/pc.out"; fail "the pkg-config build's example"; }
grep -q "example: OK" "$tmp/pc.out" || fail "pkg-config example output"

# 2. find_package
cmake -S "$src/tests/install" -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cmake.log" ||
    { cat "$tmp/cmake.log"; fail "find_package configure"; }
cmake --build "$tmp/b" >"$tmp/build.log" || { cat "$tmp/build.log"; fail "find_package build"; }
"$tmp/b/example" >"$tmp/cm.out" || { cat "$tmp/cm.out"; fail "the find_package build's example"; }
grep -q "example: OK" "$tmp/cm.out" || fail "find_package example output"
cmp -s "$tmp/pc.out" "$tmp/cm.out" || fail "the two builds' outputs differ"
cat "$tmp/cm.out"
echo "install: OK (prefix with bin/, include/rmmemu/, $libdir/{librmmemu.so,pkgconfig,cmake}; pkg-config and find_package)"
