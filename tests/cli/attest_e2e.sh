#!/usr/bin/env bash
# End to end attestation: a realm built with RMI asks for a token through RSI (challenge in X1..X8,
# token copied in three CONTINUE chunks); the token is then checked by the independent Python
# verifier (python3-cbor2 / python3-cryptography), including the challenge, RPV, RIM and REM0.
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3; [ -x "$py" ] || py=python3
cat >"$tmp/s.rmi" <<'SCRIPT'
set rd 0x88000000
set rtt 0x88008000
delegate $rd
delegate $rtt 8
realm_params 0x80001000 s2sz=33 rtt_level_start=2 rtt_num_start=8 rtt_base=$rtt hash=sha512 num_bps=1 num_wps=1 rpv=attest-e2e
REALM_CREATE $rd 0x80001000
expect SUCCESS
RTT_INIT_RIPAS $rd 0x80000000 0x80200000
delegate 0x88010000
RTT_CREATE $rd 0x88010000 0x80000000 3
expect SUCCESS
delegate 0x88011000
fill 0x80002000 4096 0x42
DATA_CREATE $rd 0x88011000 0x80000000 0x80002000 1
expect SUCCESS
delegate 0x88020000
delegate 0x88021000 16
rec_params 0x80003000 runnable=1 mpidr=0 pc=0x80000000 num_aux=16 aux=0x88021000
REC_CREATE $rd 0x88020000 0x80003000
expect SUCCESS
REALM_ACTIVATE $rd
expect SUCCESS
realm_smc 0x88020000 RSI_MEASUREMENT_EXTEND 1 16 0x0706050403020100 0x0f0e0d0c0b0a0908
rim $rd
measurement $rd 1
realm_smc 0x88020000 RSI_ATTEST_TOKEN_CONTINUE 0x80000000 0 4096
echo continue-before-init x0=$r0
realm_smc 0x88020000 RSI_ATTEST_TOKEN_INIT 0x0101010101010101 0x0202020202020202 0x0303030303030303 0x0404040404040404 0x0505050505050505 0x0606060606060606 0x0707070707070707 0x0808080808080808
realm_smc 0x88020000 RSI_ATTEST_TOKEN_CONTINUE 0x80000000 0 600
echo chunk1 x0=$r0 x1=$r1
realm_smc 0x88020000 RSI_ATTEST_TOKEN_CONTINUE 0x80000000 600 600
echo chunk2 x0=$r0 x1=$r1
realm_smc 0x88020000 RSI_ATTEST_TOKEN_CONTINUE 0x80000000 1200 2896
echo chunk3 x0=$r0 x1=$r1
set total 1200
set total $total+$r1
realm_smc 0x88020000 RSI_ATTEST_TOKEN_CONTINUE 0x80000000 0 4096
echo after-done x0=$r0
token $rd 0x80000000 $total TOKENFILE
SCRIPT
sed -i "s|TOKENFILE|$tmp/token.cbor|" "$tmp/s.rmi"
"$bin" console --stop-on-error "$tmp/s.rmi" >"$tmp/out" 2>&1 || { cat "$tmp/out"; echo "0 passed, 1 failed"; exit 1; }
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
check "CONTINUE before INIT is RSI_ERROR_STATE" 'grep -q "continue-before-init x0=0x2$" "$tmp/out"'
check "first chunks are RSI_INCOMPLETE with 600 bytes" 'grep -q "chunk1 x0=0x3 x1=0x258" "$tmp/out" && grep -q "chunk2 x0=0x3 x1=0x258" "$tmp/out"'
check "last chunk is RSI_SUCCESS" 'grep -q "chunk3 x0=0x0" "$tmp/out"'
check "CONTINUE after completion is RSI_ERROR_STATE" 'grep -q "after-done x0=0x2$" "$tmp/out"'
check "token verified by rmmemu" 'grep -q "token verified" "$tmp/out"'
rim=$(sed -n 's/^  RIM = //p' "$tmp/out")
rem=$(sed -n 's/^  REM = 0: //p' "$tmp/out")
chal=$(for i in 1 2 3 4 5 6 7 8; do printf '%02x%02x%02x%02x%02x%02x%02x%02x' $i $i $i $i $i $i $i $i; done)
zero=$(printf '%0128d' 0)
rpv=$(printf 'attest-e2e' | od -An -tx1 | tr -d ' \n'); rpv=$(printf '%-128s' "$rpv" | tr ' ' 0)
"$py" "$src/tests/unit/verify_token.py" "$tmp/token.cbor" --expect-challenge "$chal" --expect-rpv "$rpv" \
    --expect-hash-algo sha-512 --expect-rim "$rim" --expect-rem "$rem" --expect-rem "$zero" \
    --expect-rem "$zero" --expect-rem "$zero" >"$tmp/py" 2>&1; rc=$?
check "independent Python verification (rc=$rc)" '[ $rc -eq 0 ] || { cat "$tmp/py"; false; }'
"$bin" token verify "$tmp/token.cbor" >/dev/null 2>&1; rc=$?
check "rmmemu token verify" '[ $rc -eq 0 ]'
"$bin" token show "$tmp/token.cbor" | "$py" -c "import json,sys; d=json.load(sys.stdin); assert d['cca-realm-delegated-token']['claims']['cca-realm-hash-algo-id']=='sha-512'" ; rc=$?
check "token show emits JSON" '[ $rc -eq 0 ]'
printf '\x01' | dd of="$tmp/token.cbor" bs=1 seek=200 conv=notrunc 2>/dev/null
"$bin" token verify "$tmp/token.cbor" >/dev/null 2>&1; rc=$?
check "a corrupted token fails verify" '[ $rc -eq 1 ]'
# Platform keys from PEM files (P-384) instead of the built-in seed.
if command -v openssl >/dev/null 2>&1; then
    openssl ecparam -name secp384r1 -genkey -noout -out "$tmp/rak.pem" 2>/dev/null
    openssl ecparam -name secp384r1 -genkey -noout -out "$tmp/cpak.pem" 2>/dev/null
    sed -i "s|$tmp/token.cbor|$tmp/token2.cbor|" "$tmp/s.rmi"
    "$bin" console --stop-on-error --rak-pem "$tmp/rak.pem" --cpak-pem "$tmp/cpak.pem" "$tmp/s.rmi" >"$tmp/out2" 2>&1
    "$bin" token verify "$tmp/token2.cbor" --cpak "$tmp/cpak.pem" >/dev/null 2>&1; rc=$?
    check "token from PEM keys verifies with that CPAK" '[ $rc -eq 0 ]'
    "$bin" token verify "$tmp/token2.cbor" >/dev/null 2>&1; rc=$?
    check "...and not with the built-in one" '[ $rc -eq 1 ]'
    "$py" "$src/tests/unit/verify_token.py" "$tmp/token2.cbor" --cpak-pem "$tmp/cpak.pem" >"$tmp/py2" 2>&1; rc=$?
    check "independent verification with the CPAK PEM" '[ $rc -eq 0 ] || { cat "$tmp/py2"; false; }'
fi
# A platform with its own seed: `token verify --seed` trusts that seed's CPAK.
seed=$(printf '5e%.0s' $(seq 32))
sed -i "s|$tmp/token[0-9]*.cbor|$tmp/token3.cbor|" "$tmp/s.rmi"
"$bin" console --stop-on-error --attest-seed "$seed" "$tmp/s.rmi" >"$tmp/out3" 2>&1
"$bin" token verify "$tmp/token3.cbor" --seed "$seed" >/dev/null 2>&1; rc=$?
check "token of a seeded platform verifies with --seed" '[ $rc -eq 0 ]'
"$bin" token verify "$tmp/token3.cbor" --seed "$(printf '5f%.0s' $(seq 32))" >/dev/null 2>&1; rc=$?
check "...and not with another seed" '[ $rc -eq 1 ]'
"$bin" token verify "$tmp/token3.cbor" --seed 12zz >/dev/null 2>&1; rc=$?
check "a bad --seed gives exit 2" '[ $rc -eq 2 ]'
"$bin" tour --rak-pem /dev/null >/dev/null 2>&1; rc=$?
check "--rak-pem without --cpak-pem gives exit 2" '[ $rc -eq 2 ]'
"$bin" tour --attest-seed 1234 >/dev/null 2>&1; rc=$?
check "a short --attest-seed gives exit 2" '[ $rc -eq 2 ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
