#!/usr/bin/env bash
# `exit PA` decodes the RmiRecExit half of a RecRun granule field by field (clang's UBSan reported
# the pointer arithmetic it used: an index past the end of its 2 KiB copy).
set -u
bin=$1
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

run=0x80000000
cat >"$tmp/s.rmi" <<EOS
write64 $run+0x800 4
write64 $run+0x900 0x92000046
write64 $run+0x908 0x123
write64 $run+0x910 0x8000100
write64 $run+0xC10 5
write64 $run+0xC18 0x1122334455
write64 $run+0xD00 0x80200000
write64 $run+0xD08 0x80400000
exit $run
echo reason=\$exit_reason
EOS
"$bin" console --stop-on-error "$tmp/s.rmi" >"$tmp/o" 2>&1; rc=$?
check "exit decodes every field" '[ $rc -eq 0 ] && grep -q "exit_reason=4 (RMI_EXIT_RIPAS_CHANGE) esr=0x92000046 far=0x123 hpfar=0x8000100 cntv_ctl=0x5 cntv_cval=0x1122334455 ripas=\[0x80200000, 0x80400000)" "$tmp/o" || { cat "$tmp/o"; false; }'
check "exit sets \$exit_reason" 'grep -q "^reason=0x4$" "$tmp/o"'
printf 'exit 0x40000000\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "exit of a non-DRAM address fails" '[ $rc -eq 1 ] && grep -q "address is not DRAM" "$tmp/o"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
