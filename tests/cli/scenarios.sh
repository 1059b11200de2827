#!/usr/bin/env bash
# Every shipped RMI scenario passes; malformed scenario files are rejected with exit 2.
set -u
bin=$1; src=$2
"$bin" scenario "$src"/tests/scenarios/*.yaml; rc=$?
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'scenario: [unterminated\n' >"$tmp/bad.yaml"
"$bin" scenario "$tmp/bad.yaml" >"$tmp/out" 2>&1; rc2=$?
grep -q "bad.yaml:.*YAML error" "$tmp/out" || rc2=0
printf 'scenario: t\nsteps:\n  - call: GRANULE_DELEGATE\n    args: [0x1000]\n    expect: SUCCESS\n' >"$tmp/fail.yaml"
"$bin" scenario "$tmp/fail.yaml" >"$tmp/out" 2>&1; rc3=$?
[ $rc -eq 0 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 1 ]
