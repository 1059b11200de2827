#!/usr/bin/env bash
# rmmemu run with a chaotic realm (tests/realm/chaos.c): pseudo-random RSI, PSCI, MMIO, scratch
# memory and host-call sequences, seeded by the Realm Personalization Value, on 2 vCPUs (1 and the
# host refusing RIPAS changes, or with REC entries ended by forced IRQ exits, too). Whatever the realm does, rmmemu must end the run cleanly: exit
# status 0, "stopped: PSCI SYSTEM_OFF" (the realm's own last call), the realm's final checks pass
# (its services still answer, its memory is intact, no unexpected exception), and after the
# teardown every granule the run used is UNDELEGATED again (from the JSON trace's state changes).
set -u
bin=$1
payload=$(cd "$(dirname "$bin")" && pwd)/realm/chaos.bin
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }

# run NAME RPV VCPUS [EXTRA-RUN-KEYS [OPTION...]]: one chaotic run and its checks
run() {
    local name=$1 rpv=$2 vcpus=$3 extra=${4:-}
    shift 4 2>/dev/null || shift $#
    printf 'realm:\n  rpv: "%s"\n  vcpus: %s\nmemory:\n  size: 64M\nkernel: %s\n%s' "$rpv" "$vcpus" "$payload" "$extra" >"$tmp/$name.yaml"
    timeout 120 "$bin" run "$@" --trace-json "$tmp/$name.json" "$tmp/$name.yaml" >"$tmp/$name.out" 2>"$tmp/$name.err"; rc=$?
    local show="{ echo \"exit status \$rc\"; tail -5 \"$tmp/$name.out\"; grep -v '^{' \"$tmp/$name.err\" | tail -5; false; }"
    check "$name: exit status 0, stopped by the realm's SYSTEM_OFF" "[ \$rc -eq 0 ] && grep -q 'stopped: PSCI SYSTEM_OFF' \"$tmp/$name.err\" || $show"
    check "$name: the chaos ran and the realm's final checks pass" "grep -q '^chaos: seed' \"$tmp/$name.out\" && grep -q '^chaos: rsi [1-9]' \"$tmp/$name.out\" && grep -q '^DONE pass=6 fail=0' \"$tmp/$name.out\" && ! grep -q 'UNEXPECTED EXCEPTION' \"$tmp/$name.out\" || $show"
    # The last state of every granule a state change named must be UNDELEGATED.
    local left
    left=$(sed -n 's/^{"event":"granule","addr":"\([^"]*\)","from":"[^"]*","to":"\([^"]*\)"}$/\1 \2/p' "$tmp/$name.json" |
        awk '{ s[$1] = $2 } END { n = 0; t = 0; for (a in s) { t++; if (s[a] != "UNDELEGATED") n++ } print n, t }')
    check "$name: every granule UNDELEGATED after the teardown ($left: left, used)" "[ \"\${left%% *}\" = 0 ] && [ \"\${left#* }\" -gt 100 ]"
    check "$name: the realm made SMCs of every kind" "grep -q '\"realm_smc\",\"name\":\"RSI_IPA_STATE_SET\"' \"$tmp/$name.json\" && grep -q '\"realm_smc\",\"name\":\"PSCI_' \"$tmp/$name.json\" && grep -q '\"realm_smc\",\"name\":\"unknown\"' \"$tmp/$name.json\""
}

for s in 1 2 3 4; do
    run "seed$s" "chaos seed $s" 2
done
run uni "one vCPU" 1
run reject "host rejects RIPAS changes" 2 $'run:\n  ripas_change: reject\n'
run irq "forced IRQ exits" 2 "" --inject-irq 200:5
check "the host rejected RIPAS changes" 'grep -q "rejected (run.ripas_change)" "$tmp/reject.err"'
# Different RPVs, different runs; the same RPV, the same run.
check "seeds give different sequences" '[ "$(grep "^chaos: rsi" "$tmp/seed1.out")" != "$(grep "^chaos: rsi" "$tmp/seed2.out")" ]'
"$bin" run "$tmp/uni.yaml" >"$tmp/again.out" 2>/dev/null
check "a seed's run is reproducible (1 vCPU)" 'diff <(grep "^chaos:" "$tmp/uni.out") <(grep "^chaos:" "$tmp/again.out") >/dev/null'
echo "realm_chaos: $pass passed, $fail failed"
[ $fail -eq 0 ]
