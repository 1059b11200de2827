#!/usr/bin/env bash
# rmmemu run CONFIG: a bare-metal realm payload (tests/realm/hello.c, built in this build) is built
# into a realm the way KVM + kvmtool do and runs on the vCPU: its console reaches stdout, it ends
# with PSCI SYSTEM_OFF, and everything is torn down.
set -u
bin=$1; src=$2
payload=$(dirname "$bin")/realm/hello.bin
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
for bits in 0 34 40 44; do
    printf 'realm:\n  ipa_bits: %s\n  vcpus: 2\nmemory:\n  size: 64M\nkernel: %s\n' "$bits" "$payload" >"$tmp/r.yaml"
    "$bin" run "$tmp/r.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
    check "ipa_bits $bits: runs to SYSTEM_OFF" '[ $rc -eq 0 ] && grep -q "^hello from realm cpu 0" "$tmp/out" && grep -q "stopped: PSCI SYSTEM_OFF" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; false; }'
done
"$bin" run --report "$tmp/r.html" --trace-json "$tmp/t.json" "$tmp/r.yaml" >/dev/null 2>&1; rc=$?
check "report of a running realm" '[ $rc -eq 0 ] && grep -q "REC exit: RMI_EXIT_SYNC" "$tmp/r.html" && grep -q "\"event\":\"rec_exit\"" "$tmp/t.json"'
printf 'realm:\n  vcpus: 1\nmemory:\n  size: 64M\nkernel: %s\nrun:\n  max_exits: 5\n' "$payload" >"$tmp/m.yaml"
"$bin" run "$tmp/m.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "exit budget: exit 1 with the reason" '[ $rc -eq 1 ] && grep -q "exit budget" "$tmp/err"'
"$bin" run "$tmp/nonexistent.yaml" >/dev/null 2>&1; rc=$?
check "missing config: exit 2" '[ $rc -eq 2 ]'
"$bin" run --inject-irq 5:2 "$tmp/r.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "forced IRQ exits: the realm still completes, 5 IRQ exits counted" '[ $rc -eq 0 ] && grep -q "irq 5," "$tmp/err" || { cat "$tmp/err"; false; }'
"$bin" run --inject-sea 1:10 "$tmp/r.yaml" >"$tmp/out" 2>"$tmp/err"
check "injected SEA reaches the realm's vector (EC 0x25, FSC 0x10)" 'grep -Eq "UNEXPECTED EXCEPTION kind [0-9]+ ESR 0x96[0-9a-f]{4}10 " "$tmp/out" || { cat "$tmp/out"; false; }'
"$bin" run --inject-irq x "$tmp/r.yaml" >/dev/null 2>&1; rc=$?
check "bad --inject-irq: exit 2" '[ $rc -eq 2 ]'
# The KVM v12 uAPI flow (implicit realm creation, populate from a buffer, activation on first run)
# issues the same RMI sequence: same RIM, same run.
printf 'realm:\n  vcpus: 2\nmemory:\n  size: 64M\nkernel: %s\nrun:\n  uapi: v12\n' "$payload" >"$tmp/v12.yaml"
"$bin" run "$tmp/v12.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
printf 'realm:\n  vcpus: 2\nmemory:\n  size: 64M\nkernel: %s\n' "$payload" >"$tmp/v10.yaml"
rim10=$("$bin" run "$tmp/v10.yaml" 2>&1 >/dev/null | sed -n 's/.*built and measured (RIM \([0-9a-f]*\)).*/\1/p')
rim12=$(sed -n 's/.*RIM (measured up to the activation on the first run) \([0-9a-f]*\)$/\1/p' "$tmp/err")
check "uapi v12: runs to SYSTEM_OFF" '[ $rc -eq 0 ] && grep -q "^hello from realm cpu 0" "$tmp/out" && grep -q "stopped: PSCI SYSTEM_OFF" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; false; }'
check "uapi v12: the same RIM as the v10 flow" '[ -n "$rim12" ] && [ "$rim10" = "$rim12" ] || { echo "v10 $rim10 v12 $rim12"; false; }'
printf 'kernel: %s\nrun:\n  uapi: v11\n' "$payload" >"$tmp/b.yaml"
"$bin" run "$tmp/b.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "uapi v11: refused (exit 2, line)" '[ $rc -eq 2 ] && grep -q "b.yaml:3: run.uapi: v10 or v12" "$tmp/err"'
# run.ripas_change: reject: the realm's requests (tests/realm/rsi.c: one page to EMPTY, then RAM;
# then two pages to EMPTY and back)
# are refused; the realm sees no progress (RMM 1.0 reports REJECT for changes to RAM only).
printf 'memory:\n  size: 64M\nkernel: %s\nrun:\n  ripas_change: reject\n' "$(dirname "$bin")/realm/rsi.bin" >"$tmp/rj.yaml"
"$bin" run "$tmp/rj.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "ripas_change reject: all six requests refused, the realm sees it" '[ $rc -eq 0 ] && [ $(grep -c "rejected (run.ripas_change)" "$tmp/err") -eq 6 ] && grep -q "^FAIL ipa state set ram: 0 " "$tmp/out" && ! grep -q "^PASS ipa state set ram" "$tmp/out" || { cat "$tmp/out" "$tmp/err"; false; }'
sed -i 's/reject$/accept/' "$tmp/rj.yaml"
"$bin" run "$tmp/rj.yaml" >"$tmp/out" 2>"$tmp/err"
check "ripas_change accept (the default): granted" 'grep -q "^PASS ipa state set ram" "$tmp/out" && grep -q "^PASS empty access -> SEA" "$tmp/out"'
# The token hand-over host call works for any configured realm; configured platform claims and seed
# reach the token, which the host verifies with that platform's CPAK.
demo=$(dirname "$bin")/realm/demo.bin
hx() { printf "$1%.0s" $(seq 32); }
cat >"$tmp/c.yaml" <<YAML
realm:
  rpv: "claims test"
memory:
  size: 64M
kernel: $demo
platform:
  attest:
    seed: "$(hx 3c)"
    claims:
      implementation_id: "$(hx ab)"
      lifecycle: 0x3003
      verification_service: "https://verifier.example/cca"
      sw_components:
        - { type: BL2, version: "2.9", measurement: "$(hx 11)" }
        - { type: RMM, version: "1.0-rel0", measurement: "$(hx 22)" }
YAML
"$bin" run "$tmp/c.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "configured claims: token verified with the configured CPAK" '[ $rc -eq 0 ] && grep -q "token verified" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; false; }'
check "configured claims appear in the token" 'grep -q "\"cca-platform-lifecycle\": 12291" "$tmp/err" && grep -q "https://verifier.example/cca" "$tmp/err" && grep -q "\"component-type\": \"BL2\"" "$tmp/err" && grep -q "$(hx ab)" "$tmp/err" && grep -q "$(hx 22)" "$tmp/err" && ! grep -q AP_BL31 "$tmp/err"'
printf 'platform:\n  attest:\n    claims:\n      sw_components:\n        - { version: "1" }\nkernel: %s\n' "$demo" >"$tmp/b.yaml"
"$bin" run "$tmp/b.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "claims: a component without a type is refused (exit 2, line)" '[ $rc -eq 2 ] && grep -q "b.yaml:5: platform.attest.claims.sw_components: every entry needs a type" "$tmp/err" || { cat "$tmp/err"; false; }'
printf 'platform:\n  attest:\n    claims:\n      lifecycle: 0x10000\nkernel: %s\n' "$demo" >"$tmp/b.yaml"
"$bin" run "$tmp/b.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "claims: lifecycle out of range refused (exit 2)" '[ $rc -eq 2 ] && grep -q "b.yaml:4: platform.attest.claims.lifecycle" "$tmp/err"'
# The vCPU's CPU model (Cortex-A72) has a 44-bit PA range: RMI_FEATURES offers S2SZ 44 with it, so
# wider realms are refused before anything is built, and DRAM above 2^44 cannot be used.
printf 'realm:\n  ipa_bits: 46\n  vcpus: 1\nmemory:\n  size: 64M\nkernel: %s\n' "$payload" >"$tmp/w.yaml"
"$bin" run "$tmp/w.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "46-bit IPA with the vCPU: refused (exit 2, S2SZ 44)" '[ $rc -eq 2 ] && grep -q "46-bit IPA space is wider than the platform offers (RMI_FEATURES S2SZ 44" "$tmp/err" || { cat "$tmp/err"; false; }'
"$bin" run --dram 0x100000000000:64M "$tmp/r.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "DRAM above 2^44 with the vCPU: refused (exit 2)" '[ $rc -eq 2 ] && grep -q "below 2^44 only" "$tmp/err" || { cat "$tmp/err"; false; }'
# Machine layout options on the command line replace the configuration's platform.
"$bin" run --dram 0x80000000:512M >"$tmp/err" 2>&1; rc=$?
check "run --dram replaces the configured (embedded demo) DRAM" '[ $rc -eq 0 ] && grep -q "torn down: 131072 of 131072 granules" "$tmp/err" || { cat "$tmp/err"; false; }'
printf 'platform:\n  dram: ["0x200000000:512M"]\nrealm:\n  vcpus: 1\nmemory:\n  size: 64M\nkernel: %s\n' "$payload" >"$tmp/pd.yaml"
"$bin" run --pa-bits 44 --trace "$tmp/pd.yaml" >/dev/null 2>"$tmp/err"; rc=$?
check "run --pa-bits keeps the configured DRAM" '[ $rc -eq 0 ] && grep -q "RMI_GRANULE_DELEGATE(addr=0x2000" "$tmp/err" || { tail -5 "$tmp/err"; false; }'
# Ctrl-C (SIGINT) or SIGTERM during a run: the realm (a branch to itself) is stopped at a REC exit,
# reported and torn down; the report is complete; exit 128 + signal.
printf '\x00\x00\x00\x14' >"$tmp/spin.bin"
printf 'realm:\n  vcpus: 1\nmemory:\n  size: 64M\nkernel: %s\n' "$tmp/spin.bin" >"$tmp/spin.yaml"
# (the signal is sent once the realm runs: "running it:" printed)
running() { for _ in $(seq 300); do grep -q "running it:" "$tmp/err" && return 0; sleep 0.1; done; return 1; }
"$bin" run --report "$tmp/spin.html" "$tmp/spin.yaml" >/dev/null 2>"$tmp/err" & pid=$!
running; sleep 0.2; kill -INT $pid; wait $pid; rc=$?
check "SIGINT: the run stops, exit 130" '[ $rc -eq 130 ] && grep -q "the realm stopped: interrupted" "$tmp/err" || { cat "$tmp/err"; false; }'
check "SIGINT: the report is complete" 'python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$tmp/spin.html"'
"$bin" run "$tmp/spin.yaml" >/dev/null 2>"$tmp/err" & pid=$!
running; sleep 0.2; kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM: the run stops, exit 143" '[ $rc -eq 143 ] && grep -q "the realm stopped: interrupted" "$tmp/err" || { cat "$tmp/err"; false; }'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
