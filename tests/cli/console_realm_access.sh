#!/usr/bin/env bash
# realm_access: the REC loads or stores at an IPA (stage-1 MMU off) through its stage 2. Mapped
# RAM is accessed with no exit; a stage-2 fault gives the REC exit the RMM makes (DEN0137 1.0,
# TF-RMM handle_data_abort): unprotected IPA -> emulatable RMI_EXIT_SYNC (ISV, SAS, SF, WnR, FSC,
# FAR[11:0], HPFAR, the data of a write in gprs[0]) completed by REC_ENTER with emul_mmio;
# protected IPA -> RMI_EXIT_SYNC with EC/SET/FnV/EA/FSC only, FAR 0, not emulatable;
# RIPAS EMPTY -> an SEA injected into the realm, no exit.
set -u
bin=$1
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A realm with IPA space 2^33 (protected below 0x100000000): DATA at 0x80000000 (0x2a, 0x1111),
# RIPAS RAM up to 0x80400000 and EMPTY above; at the unprotected IPA 0x100001000 a host page
# ($ns), the rest of that 2 MiB unmapped (level-3 RTT) and nothing below level 2 beyond it.
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
set src 0x8800e000
set ns 0x88040000
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
fill $src 4096 0
write64 $src 0x2a
write64 $src+8 0x1111
DATA_CREATE $rd 0x88031000 0x80000000 $src 0
expect SUCCESS
delegate 0x88032000
RTT_CREATE $rd 0x88032000 0x100000000 3
expect SUCCESS
fill $ns 4096 0
RTT_MAP_UNPROTECTED $rd 0x100001000 3 $ns+0xd8
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
rec_run $run
REC_ENTER $rec0 $run
expect SUCCESS
EOS

con() { cat "$tmp/setup.rmi" - | "$bin" console --stop-on-error >"$tmp/o" 2>&1; }
# con_err LINE: the setup succeeds and LINE alone fails (exit status 1).
con_err() { printf '%s\n' "$1" | cat "$tmp/setup.rmi" - | "$bin" console >"$tmp/o" 2>&1; }
has() { grep -q -- "$1" "$tmp/o" || { echo "  missing: $1"; tail -8 "$tmp/o"; false; }; }

printf 'realm_access $rec0 0x80000000 read 8\necho got $val\nrealm_access $rec0 0x80000008 read 4 rt=3\nrealm_regs $rec0\n' | con; rc=$?
check "read of DATA: value, destination register, PC advanced, no exit" \
    '[ $rc -eq 0 ] && has "LDR X0, \[0x80000000\] -> read 0x2a (DATA PA 0x88031000)" && has "^got 0x2a$" && has "LDR W3, \[0x80000008\] -> read 0x1111" && has "pc=0x80000008 " && has " x3=0x1111"'

printf 'realm_access $rec0 0x80000010 write 4 0xdeadbeef\nrealm_access $rec0 0x80000012 read 2 rt=7\nrealm_read $rd 0x80000010 8\nrealm_access $rec0 0x80000010 write 1 0x11\nrealm_access $rec0 0x80000010 read 8\n' | con; rc=$?
check "write then read back (DATA granule changed)" \
    '[ $rc -eq 0 ] && has "STR W0, \[0x80000010\] -> wrote 0xdeadbeef" && has "LDRH W7, \[0x80000012\] -> read 0xdead" && has "^  efbeadde00000000$" && has "STRB W0, .* wrote 0x11" && has "LDR X0, \[0x80000010\] -> read 0xdeadbe11"'

printf 'realm_access $rec0 0x100001008 write 8 0x1234567890\nread64 $ns+8\nwrite8 $ns+0x10 0xab\nrealm_access $rec0 0x100001010 read 1\n' | con; rc=$?
check "unprotected IPA mapped by the host: access to its NS page, no exit" \
    '[ $rc -eq 0 ] && has "STR X0, \[0x100001008\] -> wrote 0x1234567890 (non-secure PA 0x88040008)" && has "\[0x88040008\] = 0x1234567890$" && has "LDRB W0, \[0x100001010\] -> read 0xab"'

# Unprotected, unmapped (level-3 RTT): LDR W5 -> ESR EC=0x24 ISV SAS=2 SF=0 WnR=0 FSC=7.
cat >"$tmp/mmio_read.rmi" <<'EOS'
realm_regs $rec0
set pc0 $pc
realm_access $rec0 0x100002014 read 4 rt=5
exit $run
read64 $run+0xA00
rec_run $run emul_mmio x0=0x1122334455667788
REC_ENTER $rec0 $run
expect SUCCESS
realm_regs $rec0
set d $pc-$pc0
echo pc_delta $d
REC_ENTER $rec0 $run
expect ERROR_REC
EOS
con <"$tmp/mmio_read.rmi"; rc=$?
check "unprotected read: emulatable exit (ISV=1, SAS=word, WnR=0), FAR[11:0], HPFAR" \
    '[ $rc -eq 0 ] && has "LDR W5, \[0x100002014\] -> stage-2 fault  \[REC exit to host: RMI_EXIT_SYNC esr=0x91800007 far=0x14 hpfar=0x1000020\]" && has "exit_reason=0 (RMI_EXIT_SYNC) esr=0x91800007 far=0x14 hpfar=0x1000020 " && has "\[0x8800da00\] = 0x0$"'
check "REC_ENTER emul_mmio: gprs[0] (masked to the access size) lands in W5, PC + 4; only once" \
    '[ $rc -eq 0 ] && has " x5=0x55667788 " && has "^pc_delta 0x4$"'

printf 'realm_access $rec0 0x100002008 read 8\nrec_run $run emul_mmio x0=0x1122334455667788\nREC_ENTER $rec0 $run\nrealm_regs $rec0\nrealm_access $rec0 0x100200000 read 2 rt=31\nexit $run\n' | con; rc=$?
check "64-bit read (SF=1) into X0; read into WZR at an IPA with no level-3 RTT (FSC level 2)" \
    '[ $rc -eq 0 ] && has "esr=0x91c08007 far=0x8 hpfar=0x1000020" && has "  x0=0x1122334455667788 " && has "LDRH WZR, \[0x100200000\] -> stage-2 fault .*esr=0x91400006 far=0x0 hpfar=0x1002000\]"'

printf 'realm_regs $rec0\nset pc0 $pc\nrealm_access $rec0 0x100002018 write 2 0xbeef rt=9\nexit $run\nread64 $run+0xA00\nrec_run $run emul_mmio x0=0x5555\nREC_ENTER $rec0 $run\nexpect SUCCESS\nrealm_regs $rec0\nset d $pc-$pc0\necho pc_delta $d\n' | con; rc=$?
check "unprotected write: WnR=1, the written value in gprs[0]; emul_mmio completes it (PC + 4, W9 kept)" \
    '[ $rc -eq 0 ] && has "STRH W9, \[0x100002018\] -> stage-2 fault .*esr=0x91400047 far=0x18 hpfar=0x1000020 gprs\[0\]=0xbeef\]" && has "\[0x8800da00\] = 0xbeef$" && has " x9=0xbeef" && has "^pc_delta 0x4$"'

printf 'realm_access $rec0 0x100002000 read 4\nrealm_access $rec0 0x80000000 read 4\n' | con; rc=$?
check "an exit not resumed by REC_ENTER: the REC cannot access memory" \
    '[ $rc -eq 1 ] && has "has exited to the host with a synchronous exception that no REC_ENTER has resumed yet"'

printf 'rec_run $run inject_sea\nrealm_access $rec0 0x100002000 write 4 7\nREC_ENTER $rec0 $run\nexpect SUCCESS\n' | con; rc=$?
check "REC_ENTER inject_sea accepted after an unprotected-IPA abort" '[ $rc -eq 0 ]'

# Protected IPA with RIPAS RAM and no DATA: only EC/SET/FnV/EA/FSC, FAR 0, no write value; the
# abort is not emulatable (spec: emul_mmio -> RMI_ERROR_REC) and no SEA may be injected for it.
cat >"$tmp/prot.rmi" <<'EOS'
realm_regs $rec0
set pc0 $pc
realm_access $rec0 0x80001010 write 4 0x99 rt=2
exit $run
read64 $run+0xA00
rec_run $run emul_mmio
REC_ENTER $rec0 $run
expect ERROR_REC
rec_run $run inject_sea
REC_ENTER $rec0 $run
expect ERROR_REC
rec_run $run
REC_ENTER $rec0 $run
expect SUCCESS
realm_regs $rec0
set d $pc-$pc0
echo pc_delta $d
realm_access $rec0 0x80200000 read 8
EOS
con <"$tmp/prot.rmi"; rc=$?
check "protected IPA, RIPAS RAM, unmapped: restricted ESR (no ISV/SAS/WnR), FAR 0, HPFAR, gprs[0] 0" \
    '[ $rc -eq 0 ] && has "STR W2, \[0x80001010\] -> stage-2 fault  \[REC exit to host: RMI_EXIT_SYNC esr=0x90000007 far=0x0 hpfar=0x800010\]" && has "exit_reason=0 (RMI_EXIT_SYNC) esr=0x90000007 far=0x0 hpfar=0x800010 " && has "\[0x8800da00\] = 0x0$"'
check "protected abort: emul_mmio and inject_sea refused (RMI_ERROR_REC); a plain REC_ENTER resumes at the access" \
    '[ $rc -eq 0 ] && has "^pc_delta 0x0$" && has "LDR X0, \[0x80200000\] -> stage-2 fault .*esr=0x90000006 far=0x0 hpfar=0x802000\]"'

# RIPAS EMPTY: the realm takes an SEA at its EL1 (EC 0x25, ISS kept, FSC 0x10, EA), no exit.
cat >"$tmp/empty.rmi" <<'EOS'
realm_regs $rec0
set pc0 $pc
realm_access $rec0 0x80400008 read 8
realm_regs $rec0
set d $elr_el1-$pc0
echo elr_ok $d
exit $run
EOS
con <"$tmp/empty.rmi"; rc=$?
check "RIPAS EMPTY: SEA injected (ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1, PC = VBAR_EL1 + 0x200), no REC exit" \
    '[ $rc -eq 0 ] && has "LDR X0, \[0x80400008\] -> stage-2 fault at RIPAS EMPTY: the RMM injects a synchronous external abort, no REC exit" && has "pc=0x200 pstate=0x3c5 esr_el1=0x97c08210 far_el1=0x80400008 " && has "spsr_el1=0x3c5 vbar_el1=0x0" && has "^elr_ok 0x0$" && has "exit_reason=1 (RMI_EXIT_IRQ)"'

# Bad arguments: a clear error, nothing done.
bad() {
    want=$2
    con_err "$1"; rc=$?
    check "refused: $1" '[ $rc -eq 1 ] && has "error: stdin:[0-9]*: $want"'
}
bad 'realm_access $rec0 0x80000000 read 3' 'realm_access: SIZE must be 1, 2, 4 or 8 (got 3)'
bad 'realm_access $rec0 0x200000000 read 4' "IPA 0x200000000 is outside the realm's IPA space"
bad 'realm_access $rec0 0x80000002 read 4' 'IPA 0x80000002 is not aligned to 4 bytes'
bad 'realm_access 0x88070000 0x80000000 read 4' '0x88070000 is not a REC that can run now'
bad 'realm_access $rd 0x80000000 read 4' '0x88000000 is not a REC that can run now'
bad 'realm_access $rec1 0x80000000 read 4' 'REC 0x8800b000 cannot run: REC_ENTER would refuse it'
bad 'realm_access $rec0 0x80000000 read 4 5' 'realm_access: a read takes no VALUE'
bad 'realm_access $rec0 0x80000000 write 4' 'realm_access: a write needs a VALUE'
bad 'realm_access $rec0 0x80000000 write 1 0x100' 'realm_access: value 0x100 does not fit in 1 byte(s)'
bad 'realm_access $rec0 0x80000000 peek 4' 'usage: realm_access REC IPA read|write SIZE \[VALUE\] \[rt=N\]'
bad 'realm_access $rec0 0x80000000 read 4 rt=32' 'realm_access: rt=32: registers are 0..31'
bad 'realm_regs $rd' '0x88000000 is not a REC that can run now'

printf 'RTT_MAP_UNPROTECTED $rd 0x100003000 3 $rtt+0xd8\nexpect SUCCESS\nrealm_access $rec0 0x100003000 read 4\n' | con; rc=$?
check "unprotected IPA mapped to a delegated granule: refused (granule protection fault not modelled)" \
    '[ $rc -eq 1 ] && has "maps PA 0x88001000, which is not non-secure DRAM"'

printf 'realm_access $rec0 0x80000000 read 8\ninvariants\n' | con; rc=$?
check "the RMM invariants hold after the accesses" '[ $rc -eq 0 ] && has "invariants hold"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
