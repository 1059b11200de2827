#!/usr/bin/env bash
# Build one configuration: scripts/build.sh [KIND], warnings as errors (RMMEMU_WERROR) in every kind.
#   release         build/          RelWithDebInfo (the demo's and the main test build)
#   release-ndebug  build-release/  Release (-O3, NDEBUG: what a plain 'cmake -DCMAKE_BUILD_TYPE=Release' gives)
#   asan            build-asan/     Debug, AddressSanitizer + UndefinedBehaviorSanitizer (gcc)
#   clang           build-clang/    Debug, AddressSanitizer + UndefinedBehaviorSanitizer built with clang
#   tsan            build-tsan/     RelWithDebInfo, ThreadSanitizer
#   fuzz            build-fuzz/     RelWithDebInfo, clang, the libFuzzer targets only (RMMEMU_FUZZ:
#                                   ASan + UBSan + coverage; run them with scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
cc=()
targets=()
case "$kind" in
    release)        dir=build;         opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    release-ndebug) dir=build-release; opts=(-DCMAKE_BUILD_TYPE=Release) ;;
    asan)           dir=build-asan;    opts=(-DCMAKE_BUILD_TYPE=Debug -DRMMEMU_SANITIZE=ON) ;;
    clang)          dir=build-clang;   opts=(-DCMAKE_BUILD_TYPE=Debug -DRMMEMU_SANITIZE=ON); cc=(CC=clang) ;;
    tsan)           dir=build-tsan;    opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRMMEMU_TSAN=ON) ;;
    fuzz)           dir=build-fuzz;    opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRMMEMU_FUZZ=ON); cc=(CC=clang)
                    targets=(--target fuzz_targets) ;;
    *) echo "usage: $0 [release|release-ndebug|asan|clang|tsan|fuzz]" >&2; exit 2 ;;
esac
env "${cc[@]}" cmake -S . -B "$dir" "${opts[@]}" -DRMMEMU_WERROR=ON >/dev/null
cmake --build "$dir" "${targets[@]}" -j"$(nproc)" >/dev/null || cmake --build "$dir" "${targets[@]}" -j1
