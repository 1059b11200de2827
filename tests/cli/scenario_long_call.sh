#!/usr/bin/env bash
# A scenario `call:` line that does not fit the console's line is refused with file:line and exit 2,
# whatever its length (it used to overflow a stack buffer from 1,025 characters on).
set -u
bin=$1
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

name=$(head -c 1000 /dev/zero | tr '\0' 'A')
printf 'scenario: long call\nsteps:\n  - call: %s\n    args: [1]\n' "$name" >"$tmp/f.yaml"
"$bin" scenario "$tmp/f.yaml" >"$tmp/o" 2>&1; rc=$?
check "call of 1000 characters fits and reaches the console" '[ $rc -eq 1 ] && grep -q "f.yaml:3: unknown command" "$tmp/o"'
for n in 1022 1025 1100 4096 200000; do
    name=$(head -c "$n" /dev/zero | tr '\0' 'A')
    printf 'scenario: long call\nsteps:\n  - call: %s\n    args: [1]\n    expect: SUCCESS\n' "$name" >"$tmp/l.yaml"
    "$bin" scenario "$tmp/l.yaml" >"$tmp/o" 2>&1; rc=$?
    check "call of $n characters with an argument: exit 2 with file:line" \
        '[ $rc -eq 2 ] && grep -q "l.yaml:3: step 1: the call line does not fit" "$tmp/o" || { head -c 300 "$tmp/o"; echo " rc=$rc"; false; }'
    [ "$n" -lt 1024 ] && continue    # without the argument it fits (1,023 characters at most)
    printf 'scenario: long call\nsteps:\n  - call: %s\n' "$name" >"$tmp/n.yaml"
    "$bin" scenario "$tmp/n.yaml" >"$tmp/o" 2>&1; rc=$?
    check "call of $n characters without arguments: exit 2 with file:line" \
        '[ $rc -eq 2 ] && grep -q "n.yaml:3: step 1: the call line does not fit" "$tmp/o" || { head -c 300 "$tmp/o"; echo " rc=$rc"; false; }'
done
# Many arguments push the line over the limit as well.
args=$(for i in $(seq 1 300); do printf '0x%016x, ' "$i"; done)
printf 'scenario: many args\nsteps:\n  - call: GRANULE_DELEGATE\n    args: [%s1]\n' "$args" >"$tmp/m.yaml"
"$bin" scenario "$tmp/m.yaml" >"$tmp/o" 2>&1; rc=$?
check "300 arguments: exit 2 with file:line" '[ $rc -eq 2 ] && grep -q "m.yaml:3: step 1: the call line does not fit" "$tmp/o" || { head -c 300 "$tmp/o"; false; }'
# A long expect value is refused the same way, not truncated.
long=$(head -c 2000 /dev/zero | tr '\0' '9')
printf 'scenario: long expect\nsteps:\n  - call: RMI_VERSION\n    args: [0x10000]\n    expect: %s\n' "$long" >"$tmp/e.yaml"
"$bin" scenario "$tmp/e.yaml" >"$tmp/o" 2>&1; rc=$?
check "2000-character expect: exit 2 with file:line" '[ $rc -eq 2 ] && grep -q "e.yaml:3: step 1: the expect line does not fit" "$tmp/o" || { head -c 300 "$tmp/o"; false; }'
# Short ones still work.
printf 'scenario: short\nsteps:\n  - call: RMI_VERSION\n    args: [0x10000]\n    expect: SUCCESS\n' >"$tmp/s.yaml"
"$bin" scenario "$tmp/s.yaml" >"$tmp/o" 2>&1; rc=$?
check "a short call passes" '[ $rc -eq 0 ] && grep -q "^PASS" "$tmp/o"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
