#!/usr/bin/env bash
# The CLI: the demo runs to completion, console scripts drive RMI, bad input fails cleanly.
set -u
bin=$1; src=$2
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$bin" tour >"$tmp/demo.out" 2>&1; rc=$?
check "demo exits 0" '[ $rc -eq 0 ]'
check "demo completes" 'grep -q "demo complete" "$tmp/demo.out"'
check "demo ends with all granules undelegated" 'grep -q "UNDELEGATED=524288 DELEGATED=0 RD=0" "$tmp/demo.out"'
check "demo shows protection fault" 'grep -q "granule protection fault" "$tmp/demo.out"'
"$bin" >/dev/null 2>&1; rc=$?
check "no arguments runs the demo" '[ $rc -eq 0 ]'
"$bin" tour --trace >/dev/null 2>"$tmp/trace"; rc=$?
check "trace run exits 0" '[ $rc -eq 0 ]'
check "trace decodes calls" 'grep -q "RMI_REALM_CREATE(rd=0x88000000, params_ptr=0x80001000) -> RMI_SUCCESS" "$tmp/trace"'
check "trace shows state changes" 'grep -q "granule 0x88000000: DELEGATED -> RD" "$tmp/trace"'

for f in "$src"/tests/scenarios/*.rmi; do
    [ -e "$f" ] || continue
    "$bin" console --stop-on-error "$f" >"$tmp/s.out" 2>&1; rc=$?
    check "scenario $(basename "$f")" '[ $rc -eq 0 ] || { cat "$tmp/s.out"; false; }'
done

printf 'GRANULE_DELEGATE 0x80000000\nexpect ERROR_INPUT\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "failed expect gives exit 1" '[ $rc -eq 1 ] && grep -q "expected RMI_ERROR_INPUT, got RMI_SUCCESS" "$tmp/o"'
printf 'NO_SUCH_CALL 1\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "unknown command gives exit 1" '[ $rc -eq 1 ] && grep -q "unknown command" "$tmp/o"'
printf 'GRANULE_DELEGATE 0xzz\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "bad number gives exit 1" '[ $rc -eq 1 ] && grep -q "bad number" "$tmp/o"'
printf '0xC4000199 1 2\nexpect NOT_SUPPORTED\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "unknown FID is NOT_SUPPORTED" '[ $rc -eq 0 ]'
"$bin" console /nonexistent >/dev/null 2>&1; rc=$?
check "missing file gives exit 2" '[ $rc -eq 2 ]'
"$bin" console --dram 0x1000:0 </dev/null >/dev/null 2>"$tmp/e"; rc=$?
check "impossible platform gives exit 2" '[ $rc -eq 2 ] && grep -q "platform configuration" "$tmp/e"'
"$bin" frobnicate >/dev/null 2>&1; rc=$?
check "unknown subcommand gives exit 2" '[ $rc -eq 2 ]'
head -c 5000 /dev/urandom | tr -d '\n' | "$bin" console >/dev/null 2>&1; rc=$?
check "garbage input fails cleanly" '[ $rc -eq 1 ]'

"$bin" tour --inject 'RTT_CREATE:ERROR_RTT(2)' >"$tmp/o" 2>&1; rc=$?
check "injected RTT_CREATE failure stops the demo with exit 1" '[ $rc -eq 1 ] && grep -q "got RMI_ERROR_RTT(level 2)" "$tmp/o"'
"$bin" tour --inject bogus >/dev/null 2>&1; rc=$?
check "bad --inject gives exit 2" '[ $rc -eq 2 ]'
printf 'inject GRANULE_DELEGATE ERROR_INPUT 2 1\ndelegate 0x80000000\nexpect SUCCESS\ndelegate 0x80001000\nexpect ERROR_INPUT\ndelegate 0x80001000\nexpect ERROR_INPUT\ndelegate 0x80001000\nexpect SUCCESS\ngranule 0x80001000\n' | "$bin" console >"$tmp/o" 2>&1; rc=$?
check "console inject with count and skip" '[ $rc -eq 0 ] && grep -q "DELEGATED, PAS REALM" "$tmp/o"'

"$bin" tour --report "$tmp/r.html" --trace-json "$tmp/t.json" >/dev/null 2>&1; rc=$?
check "report and JSON trace written" '[ $rc -eq 0 ] && [ -s "$tmp/r.html" ] && [ -s "$tmp/t.json" ]'
python3 - "$tmp/r.html" "$tmp/t.json" <<'PY'; rc=$?
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()            # well-formed XHTML
ns = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}
svgs = root.findall(".//s:svg", ns)
texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
assert len(svgs) == 3, len(svgs)                  # sequence + two granule maps
assert any(t.startswith("REC_ENTER") for t in texts)
assert any(t.startswith("RSI_ATTEST_TOKEN_INIT") for t in texts)
assert any(t.startswith("REC exit: RMI_EXIT_IRQ") for t in texts)
ev = [json.loads(l) for l in open(sys.argv[2])]
kinds = {e["event"] for e in ev}
assert {"rmi", "realm_smc", "rec_exit", "rec_run", "granule", "realm"} <= kinds, kinds
assert ev[0] == {"event": "rmi", "name": "RMI_VERSION", "fid": "0xc4000150", "args": ["0x10000"],
                 "status": "RMI_SUCCESS", "results": ["0x0", "0x10000", "0x10000", "0x0", "0x0"]}, ev[0]
PY
check "report is well-formed with the expected lanes and events; JSON lines parse" '[ $rc -eq 0 ]'
"$bin" tour --report /nonexistent/dir/r.html >/dev/null 2>&1; rc=$?
check "unwritable report gives exit 1" '[ $rc -eq 1 ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
