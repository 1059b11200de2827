#!/usr/bin/env bash
# Every test: install what is missing, build (scripts/build.sh) and run the whole suite in the normal
# build, a Release build (what users build), gcc's ASan+UBSan build and clang's ASan+UBSan build,
# then the libFuzzer targets briefly (scripts/fuzz.sh), then the concurrency tests (RECs on several
# threads, kicks, the watchdog) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# clang and its sanitizer runtimes (only recommended by Debian's clang, so named here).
if ! command -v clang >/dev/null 2>&1 ||
   ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "install ok installed"; then
    echo "rmmemu: installing clang libclang-rt-dev for the clang build" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
fi
status=0
for kind in release release-ndebug asan clang; do
    bash scripts/build.sh "$kind"
    case "$kind" in release) dir=build ;; release-ndebug) dir=build-release ;; *) dir=build-$kind ;; esac
    echo "=== tests ($kind) ==="
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" || status=1
done
# The libFuzzer targets (tests/fuzz/, docs/fuzzing.md): every checked-in seed once, then each target
# fuzzed for an equal share of about a minute (at least 3 s each).
bash scripts/build.sh fuzz
echo "=== fuzz targets (replay of the seed corpora, then fuzzing) ==="
ntargets=$(bash scripts/fuzz.sh list | wc -l)
per=$(( ntargets > 0 ? 60 / ntargets : 0 )); [ "$per" -ge 3 ] || per=3
RMMEMU_FUZZ_NO_BUILD=1 bash scripts/fuzz.sh replay || status=1
RMMEMU_FUZZ_NO_BUILD=1 RMMEMU_FUZZ_FRESH=1 bash scripts/fuzz.sh all "$per" || status=1
bash scripts/build.sh tsan
echo "=== concurrency tests (tsan) ==="
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" -R '^test_emu_(smp|multi|basic)$' || status=1
exit $status
