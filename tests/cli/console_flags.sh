#!/usr/bin/env bash
# Console flags: `name` and `name=0|1` are accepted wherever the console takes a flag (rec_run,
# rec_params, realm_params); `expect ERROR_REALM` means index 0 and ERROR_REALM(1) must be written.
set -u
bin=$1
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
con() { printf "$1" | "$bin" console --stop-on-error >"$tmp/o" 2>&1; }

p=0x80000000
con "rec_run $p emul_mmio=1 trap_wfi=1 ripas_reject=0\nread64 $p\n"; rc=$?
check "rec_run emul_mmio=1 trap_wfi=1 ripas_reject=0" '[ $rc -eq 0 ] && grep -q "= 0x5$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_run $p emul_mmio inject_sea trap_wfe ripas_reject\nread64 $p\n"; rc=$?
check "rec_run bare flags still work" '[ $rc -eq 0 ] && grep -q "= 0x1b$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_run $p flags=0x1f emul_mmio=0 inject_sea=0\nread64 $p\n"; rc=$?
check "rec_run name=0 clears a flag set by flags=" '[ $rc -eq 0 ] && grep -q "= 0x1c$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_run $p emul_mmio=2\n"; rc=$?
check "rec_run emul_mmio=2 refused" '[ $rc -eq 1 ] && grep -q "emul_mmio: 0 or 1" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_params $p runnable\nread64 $p\n"; rc=$?
check "rec_params bare runnable" '[ $rc -eq 0 ] && grep -q "= 0x1$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_params $p runnable=1 runnable=0\nread64 $p\n"; rc=$?
check "rec_params runnable=0" '[ $rc -eq 0 ] && grep -q "= 0x0$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "rec_params $p runnable=3\n"; rc=$?
check "rec_params runnable=3 refused" '[ $rc -eq 1 ] && grep -q "runnable: 0 or 1" "$tmp/o" || { cat "$tmp/o"; false; }'
con "realm_params $p lpa2=1 sve=1 pmu=0 sve_vl=3\nread64 $p\n"; rc=$?
check "realm_params lpa2=1 sve=1 pmu=0" '[ $rc -eq 0 ] && grep -q "= 0x3$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "realm_params $p lpa2 pmu\nread64 $p\n"; rc=$?
check "realm_params bare flags still work" '[ $rc -eq 0 ] && grep -q "= 0x5$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "realm_params $p flags=7 sve=0\nread64 $p\n"; rc=$?
check "realm_params sve=0 clears a bit set by flags=" '[ $rc -eq 0 ] && grep -q "= 0x5$" "$tmp/o" || { cat "$tmp/o"; false; }'
con "realm_params $p pmu=yes\n"; rc=$?
check "realm_params pmu=yes refused" '[ $rc -eq 1 ] && grep -q "pmu: 0 or 1" "$tmp/o" || { cat "$tmp/o"; false; }'

# expect: a status without an index is index 0, except ERROR_RTT (any level).
con "inject GRANULE_DELEGATE 0x102\ndelegate $p\nexpect ERROR_REALM\n"; rc=$?
check "expect ERROR_REALM does not match ERROR_REALM(1)" '[ $rc -eq 1 ] && grep -q "expected RMI_ERROR_REALM, got RMI_ERROR_REALM(index 1)" "$tmp/o"'
con "inject GRANULE_DELEGATE 0x102\ndelegate $p\nexpect ERROR_REALM(1)\n"; rc=$?
check "expect ERROR_REALM(1)" '[ $rc -eq 0 ]'
con "inject GRANULE_DELEGATE 0x204\ndelegate $p\nexpect ERROR_RTT\nexpect ERROR_RTT(2)\n"; rc=$?
check "expect ERROR_RTT matches any level" '[ $rc -eq 0 ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
