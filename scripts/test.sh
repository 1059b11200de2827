#!/usr/bin/env bash
# Every test: install what is missing, build normal and ASan+UBSan configurations, run the suite in
# both, then the concurrency tests (RECs on several threads, kicks, the watchdog) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
status=0
for kind in release asan; do
    bash scripts/build.sh "$kind"
    dir=build; [ "$kind" = asan ] && dir=build-asan
    echo "=== tests ($kind) ==="
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" || status=1
done
bash scripts/build.sh tsan
echo "=== concurrency tests (tsan) ==="
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" -R '^test_emu_(smp|multi|basic)$' || status=1
exit $status
