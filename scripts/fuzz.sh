#!/usr/bin/env bash
# Run the libFuzzer targets (tests/fuzz/fuzz_<name>.c, docs/fuzzing.md), built by
# 'scripts/build.sh fuzz' into build-fuzz/ (done here first, incrementally).
#
#   scripts/fuzz.sh list                 the targets' names
#   scripts/fuzz.sh NAME [SECONDS]       fuzz one target for SECONDS (default 60)
#   scripts/fuzz.sh all [SECONDS]        fuzz every target for SECONDS each (default 60)
#   scripts/fuzz.sh replay [NAME...]     run every checked-in seed once (all targets by default)
#
# A run starts from the checked-in seeds tests/fuzz/corpus/NAME/ copied into
# build-fuzz/corpus-work/NAME/, where new inputs go (it is kept between runs; RMMEMU_FUZZ_FRESH=1
# starts it afresh): the source tree is never written. Each input may take at most 1 s
# (RMMEMU_FUZZ_TIMEOUT) and 2 GiB of RSS. A crash, a hang, a leak, a sanitizer report or a broken
# invariant (the targets abort) fails the run: the input is saved under build-fuzz/artifacts/ and
# the command that reproduces it is printed. libFuzzer's limit is wall-clock time: an input that
# timed out is run again three times, and if it then stays within the limit the machine was busy,
# which is reported and fuzzing goes on. Exit status: 0 all good, 1 a target failed, 2 usage.
# RMMEMU_FUZZ_NO_BUILD=1 skips the build step (scripts/test.sh has just built).
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$src/build-fuzz
timeout_s=${RMMEMU_FUZZ_TIMEOUT:-1}
rss_mb=2048

usage() {
    echo "usage: $0 list | NAME [SECONDS] | all [SECONDS] | replay [NAME...]" >&2
    exit 2
}

targets() {
    local f
    for f in "$src"/tests/fuzz/fuzz_*.c; do
        [ -e "$f" ] || continue
        f=${f##*/fuzz_}
        echo "${f%.c}"
    done
}

known() {
    [ -e "$src/tests/fuzz/fuzz_$1.c" ] || { echo "fuzz.sh: no target '$1' (tests/fuzz/fuzz_$1.c); targets: $(targets | tr '\n' ' ')" >&2; exit 2; }
}

build() {
    [ "${RMMEMU_FUZZ_NO_BUILD:-0}" = 1 ] && return 0
    bash "$src/scripts/build.sh" fuzz || { echo "fuzz.sh: building build-fuzz failed" >&2; exit 1; }
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp:print_suppressions=0}

# What to say when a target failed: the report's head, the saved input and how to run it again.
report_failure() {  # NAME LOG
    local name=$1 log=$2 art
    echo "--- fuzz_$name FAILED; the report (full log: ${log#$src/}):"
    grep -m1 -n -E "^==[0-9]+==ERROR|runtime error|rmmemu fuzz:|ALARM: working on the last Unit|^==[0-9]+== ERROR: libFuzzer|out-of-memory" "$log" |
        cut -d: -f1 | { read -r line && sed -n "${line},$((line + 40))p" "$log"; } || tail -40 "$log"
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ -n "$art" ]; then
        echo "--- failing input: ${art#$src/}"
        echo "--- reproduce:     ${build#$src/}/fuzz/fuzz_$name ${art#$src/}"
        echo "    with the library's output: RMMEMU_FUZZ_VERBOSE=1 ${build#$src/}/fuzz/fuzz_$name ${art#$src/}"
    else
        local running
        running=$(grep "^Running: " "$log" | tail -1 | sed 's/^Running: //')
        [ -n "$running" ] && echo "--- failing input: ${running#$src/}" &&
            echo "--- reproduce:     ${build#$src/}/fuzz/fuzz_$name ${running#$src/}"
    fi
}

# A timeout artifact that runs well within the limit three times in a row was the machine being
# busy (libFuzzer's limit is wall-clock time), not a hang: 0 then. Prints how long the re-runs took.
timeout_is_flaky() {  # NAME ARTIFACT
    local bin=$build/fuzz/fuzz_$1 i out ms=""
    for i in 1 2 3; do
        out=$("$bin" -timeout="$timeout_s" -rss_limit_mb=$rss_mb "$2" 2>&1) || return 1
        ms="$ms $(echo "$out" | sed -n 's/^Executed .* in \([0-9]*\) ms$/\1/p') ms"
    done
    echo "fuzz_$1: the timeout input re-ran in${ms}: counted as a busy machine, not a hang (kept: ${2#$src/})"
}

# fuzz NAME SECONDS
fuzz() {
    local name=$1 secs=$2 bin=$build/fuzz/fuzz_$1 work=$build/corpus-work/$1 log=$build/logs/fuzz_$1.log
    [ -x "$bin" ] || { echo "fuzz.sh: $bin was not built" >&2; return 1; }
    [ "${RMMEMU_FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
    mkdir -p "$work" "$build/artifacts" "$build/logs"
    [ -d "$src/tests/fuzz/corpus/$name" ] && cp -p "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
    local t0=$SECONDS rc stats left=$secs restarts=0 art
    while :; do
        "$bin" -max_total_time="$left" -timeout="$timeout_s" -rss_limit_mb=$rss_mb \
            -artifact_prefix="$build/artifacts/${name}-" -print_final_stats=1 "$work" >"$log" 2>&1
        rc=$?
        stats=$(grep -E "^#[0-9]+" "$log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 execs, /')
        [ $rc -eq 0 ] && break
        # A timeout that does not reproduce: go on fuzzing for the time left (at most 3 times).
        art=$(sed -n 's/.*Test unit written to \(.*timeout-.*\)$/\1/p' "$log" | tail -1)
        left=$((secs - (SECONDS - t0)))
        if [ -n "$art" ] && [ $restarts -lt 3 ] && timeout_is_flaky "$name" "$art"; then
            restarts=$((restarts + 1))
            [ $left -ge 1 ] && continue
            rc=0
            break
        fi
        break
    done
    if [ $rc -ne 0 ]; then
        echo "fuzz_$name: FAILED after $((SECONDS - t0)) s (exit $rc): $stats"
        report_failure "$name" "$log"
        return 1
    fi
    echo "fuzz_$name: ok, $((SECONDS - t0)) s: $stats"
}

# replay NAME: every seed once, as files (libFuzzer adds nothing to a corpus then). A seed that
# times out but re-runs within the limit (timeout_is_flaky) does not stop the replay.
replay() {
    local name=$1 bin=$build/fuzz/fuzz_$1 log=$build/logs/replay_$1.log dir=$src/tests/fuzz/corpus/$1
    [ -x "$bin" ] || { echo "fuzz.sh: $bin was not built" >&2; return 1; }
    mkdir -p "$build/logs" "$build/artifacts"
    local seeds=("$dir"/*) rest times="" rc i failed
    if [ ! -e "${seeds[0]}" ]; then
        echo "fuzz_$name: no seeds in tests/fuzz/corpus/$name/"
        return 0
    fi
    rest=("${seeds[@]}")
    while [ ${#rest[@]} -gt 0 ]; do
        "$bin" -timeout="$timeout_s" -rss_limit_mb=$rss_mb -artifact_prefix="$build/artifacts/replay-${name}-" \
            "${rest[@]}" >"$log" 2>&1
        rc=$?
        times="$times$(sed -n 's/^Executed \(.*\) in \([0-9]*\) ms$/\2 ms, \1/p' "$log")"$'\n'
        [ $rc -eq 0 ] && break
        failed=$(grep "^Running: " "$log" | tail -1 | sed 's/^Running: //')
        if grep -q "ERROR: libFuzzer: timeout" "$log" && [ -n "$failed" ] && timeout_is_flaky "$name" "$failed"; then
            for i in "${!rest[@]}"; do
                if [ "${rest[$i]}" = "$failed" ]; then
                    rest=("${rest[@]:$((i + 1))}")
                    continue 2
                fi
            done
        fi
        echo "fuzz_$name: replay FAILED (exit $rc)"
        report_failure "$name" "$log"
        return 1
    done
    local slowest
    slowest=$(echo "$times" | sort -n | tail -1)
    echo "fuzz_$name: replay ok, ${#seeds[@]} seeds (slowest: ${slowest//$src\//})"
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
    list) targets ;;
    replay)
        names=("$@"); [ ${#names[@]} -gt 0 ] || mapfile -t names < <(targets)
        for n in "${names[@]}"; do known "$n"; done
        build
        status=0
        for n in "${names[@]}"; do replay "$n" || status=1; done
        exit $status ;;
    all)
        secs=${1:-60}
        [[ $secs =~ ^[0-9]+$ ]] || usage
        build
        status=0
        for n in $(targets); do fuzz "$n" "$secs" || status=1; done
        exit $status ;;
    -h|--help|help) usage ;;
    *)
        known "$cmd"
        secs=${1:-60}
        [[ $secs =~ ^[0-9]+$ ]] || usage
        build
        fuzz "$cmd" "$secs" ;;
esac
