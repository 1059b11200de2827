#!/usr/bin/env bash
# realm_smc steps that exit to the host write their RmiRecExit into the RecRun of the REC's last
# REC_ENTER, as REC_ENTER would: `exit $run` then shows ripas_base/top and the PSCI registers.
set -u
bin=$1
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/setup.rmi" <<'EOS'
set rd 0x88000000
set rtt 0x88001000
set params 0x88009000
set rec0 0x8800a000
set rec1 0x8800b000
set aux 0x88010000
set aux1 0x88020000
set recp 0x8800c000
set run 0x8800d000
set hc 0x8800e000
delegate $rd
delegate $rtt 8
realm_params $params s2sz=33 rtt_level_start=2 rtt_num_start=8 rtt_base=$rtt hash=sha256 num_bps=1 num_wps=1
REALM_CREATE $rd $params
expect SUCCESS
RTT_INIT_RIPAS $rd 0x80000000 0x80400000
expect SUCCESS
delegate 0x88030000
RTT_CREATE $rd 0x88030000 0x80000000 3
expect SUCCESS
delegate 0x88031000
fill $hc 4096 0
write64 $hc 0x2a
write64 $hc+8 0x1111
write64 $hc+16 0x2222
DATA_CREATE $rd 0x88031000 0x80000000 $hc 0
expect SUCCESS
delegate $rec0
delegate $aux 16
rec_params $recp runnable=1 mpidr=0 pc=0x80000000 num_aux=16 aux=$aux
REC_CREATE $rd $rec0 $recp
expect SUCCESS
delegate $rec1
delegate $aux1 16
rec_params $recp runnable=0 mpidr=1 num_aux=16 aux=$aux1
REC_CREATE $rd $rec1 $recp
expect SUCCESS
REALM_ACTIVATE $rd
expect SUCCESS
EOS

con() { cat "$tmp/setup.rmi" - | "$bin" console --stop-on-error >"$tmp/o" 2>&1; }

printf 'realm_smc $rec0 RSI_IPA_STATE_SET 0x80200000 0x80400000 0 0\n' | con; rc=$?
check "no REC_ENTER yet: the output says there is no RecRun" \
    '[ $rc -eq 0 ] && grep -q "no RecRun known for this REC" "$tmp/o" || { tail -5 "$tmp/o"; false; }'

printf 'rec_run $run\nREC_ENTER $rec0 $run\nexpect SUCCESS\nrealm_smc $rec0 RSI_IPA_STATE_SET 0x80200000 0x80400000 0 0\nexit $run\nread64 $run+0xD10\n' | con; rc=$?
check "RIPAS change: exit written with ripas_base/top/value" \
    '[ $rc -eq 0 ] && grep -q "written to RecRun 0x8800d000" "$tmp/o" && grep -q "exit_reason=4 (RMI_EXIT_RIPAS_CHANGE) .*ripas=\[0x80200000, 0x80400000)" "$tmp/o" && grep -q "\[0x8800dd10\] = 0x0$" "$tmp/o" || { tail -8 "$tmp/o"; false; }'

printf 'rec_run $run\nREC_ENTER $rec0 $run\nrealm_smc $rec0 PSCI_CPU_ON 1 0x80000000 0x1234\nexit $run\nread64 $run+0xA00\nread64 $run+0xA08\nread64 $run+0xA10\n' | con; rc=$?
check "PSCI CPU_ON: exit gprs[0] = FID, gprs[1] = target MPIDR, the rest 0" \
    '[ $rc -eq 0 ] && grep -q "exit_reason=3 (RMI_EXIT_PSCI)" "$tmp/o" && grep -q "\[0x8800da00\] = 0xc4000003$" "$tmp/o" && grep -q "\[0x8800da08\] = 0x1$" "$tmp/o" && grep -q "\[0x8800da10\] = 0x0$" "$tmp/o" || { tail -8 "$tmp/o"; false; }'

printf 'rec_run $run\nREC_ENTER $rec0 $run\nrealm_smc $rec0 RSI_HOST_CALL 0x80000000\nexit $run\nread64 $run+0xE00\nread64 $run+0xA00\nread64 $run+0xA08\n' | con; rc=$?
check "HOST_CALL: exit imm and gprs from the realm's RsiHostCall" \
    '[ $rc -eq 0 ] && grep -q "exit_reason=5 (RMI_EXIT_HOST_CALL)" "$tmp/o" && grep -q "\[0x8800de00\] = 0x2a$" "$tmp/o" && grep -q "\[0x8800da00\] = 0x1111$" "$tmp/o" && grep -q "\[0x8800da08\] = 0x2222$" "$tmp/o" || { tail -8 "$tmp/o"; false; }'

printf 'rec_run $run\nREC_ENTER $rec0 $run\nrealm_smc $rec0 PSCI_SYSTEM_OFF\nexit $run\nread64 $run+0xA00\nREC_ENTER $rec0 $run\nexpect ERROR_REALM(1)\n' | con; rc=$?
check "PSCI SYSTEM_OFF: exit written, gprs[0] = FID" \
    '[ $rc -eq 0 ] && grep -q "exit_reason=3 (RMI_EXIT_PSCI)" "$tmp/o" && grep -q "\[0x8800da00\] = 0x84000008$" "$tmp/o" || { tail -8 "$tmp/o"; false; }'

printf 'rec_run $run\nREC_ENTER $rec0 $run\nrealm_smc $rec0 RSI_VERSION 0x10000\nexit $run\n' | con; rc=$?
check "a call the RMM answers itself leaves the RecRun as REC_ENTER wrote it" \
    '[ $rc -eq 0 ] && grep -q "exit_reason=1 (RMI_EXIT_IRQ)" "$tmp/o" || { tail -8 "$tmp/o"; false; }'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
