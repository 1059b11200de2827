#!/usr/bin/env bash
# Build one configuration: scripts/build.sh [release|asan]  -> build/ or build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
    release) dir=build; opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    asan)    dir=build-asan; opts=(-DCMAKE_BUILD_TYPE=Debug -DRMMEMU_SANITIZE=ON) ;;
    *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null || cmake --build "$dir" -j1
