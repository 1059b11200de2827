#!/usr/bin/env bash
# Interrupts the KVM way through `rmmemu run`: tests/realm/gic.c programs the host's virtual GICv3
# (distributor and redistributor over MMIO at the unprotected alias), sleeps in WFI until its virtual
# timer fires (five ticks), takes the physical timer, sends itself an SGI (ICC_SGI1R_EL1 exit) and
# reads console input from the PL011 with its interrupt; the input comes from a pipe on stdin.
set -u
bin=$1
payload=$(dirname "$bin")/realm/gic.bin
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
cat >"$tmp/gic.yaml" <<YAML
realm:
  vcpus: 1
memory:
  size: 64M
kernel: $payload
devices:
  uart: 0x01000000
  uart_spi: 1
  gic_dist: 0x08000000
  gic_redist: 0x080A0000
YAML
printf 'gic' | "$bin" run "$tmp/gic.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "runs to SYSTEM_OFF" '[ $rc -eq 0 ] && grep -q "stopped: PSCI SYSTEM_OFF" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; false; }'
check "every check in the realm passed" 'grep -q "^DONE pass=[0-9]* fail=0" "$tmp/out" && ! grep -q "^FAIL" "$tmp/out" || { cat "$tmp/out"; false; }'
check "timers, SGI and console input" 'grep -q "^gic: .*(vtimer 5, ptimer 1, sgi 1, uart [0-9]*), input .gic.$" "$tmp/out" || { cat "$tmp/out"; false; }'
# Input that ends (EOF) before the realm reads it all is not an error: here none at all; the
# realm's wait for input is bounded by its own WFI count, and it reports what it got.
"$bin" run "$tmp/gic.yaml" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
check "no input: still runs to SYSTEM_OFF, only the input check fails" '[ $rc -eq 0 ] && grep -q "^FAIL PL011 RX with its interrupt" "$tmp/out" && grep -q "^PASS SGI 3 taken" "$tmp/out" || { cat "$tmp/out" "$tmp/err"; false; }'
echo "run_gic: $pass passed, $fail failed"
[ $fail -eq 0 ]
