#!/usr/bin/env bash
# The main job: `rmmemu run` with no arguments builds the embedded demo realm, runs it on the vCPU
# and checks its attestation token; the realm's view of its measurements matches the host's.
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
"$bin" run >"$tmp/out" 2>&1; rc=$?
check "demo realm runs to completion (exit 0)" '[ $rc -eq 0 ] || { cat "$tmp/out"; false; }'
check "realm console output" 'grep -q "^Hello from inside a realm (vCPU 0)." "$tmp/out" && grep -q "^Goodbye." "$tmp/out"'
check "realm reads its config" 'grep -q "realm config: 33-bit IPA space, SHA-256 measurements, RPV \"rmmemu demo realm\"" "$tmp/out"'
host_rim=$(sed -n 's/.*built and measured (RIM \([0-9a-f]*\)).*/\1/p' "$tmp/out")
realm_rim=$(sed -n 's/^  RIM : //p' "$tmp/out")
check "the realm reads the RIM the host measured" '[ -n "$host_rim" ] && [ "$host_rim" = "$realm_rim" ]'
check "REM0 extended" 'grep -q "^  REM0: 1421047a2f9d5139f0180cd55ee4fc5c24d3eba425739cbbec62ab175baca790" "$tmp/out"'
check "token handed over and verified" 'grep -q "token verified" "$tmp/out" && grep -q "\"cca-realm-initial-measurement\": \"$realm_rim\"" "$tmp/out"'
check "everything torn down" 'grep -q "torn down: 524288 of 524288 granules UNDELEGATED" "$tmp/out"'
"$bin" >"$tmp/out2" 2>&1; rc=$?
# The same output but for the run's exit counts: a busy host may preempt the realm (an IRQ exit).
check "no arguments = run" '[ $rc -eq 0 ] && diff -q <(grep -v "REC entries" "$tmp/out") <(grep -v "REC entries" "$tmp/out2") >/dev/null'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
