#!/usr/bin/env bash
# token show / token verify on large and malformed tokens (issue 11, finding 2): a 1 MiB token with
# one array of about a million items and a token with a 4,000-pair claims map are decoded, each
# command under a CPU-time limit of 60 s (linear decoding takes well under a second; the old
# decoder needed about an hour and several minutes). The tokens are generated here by python3.
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3; [ -x "$py" ] || py=python3
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

"$py" - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]

def head(major, v):
    if v < 24: return bytes([major << 5 | v])
    for ai, fmt in ((24, '>B'), (25, '>H'), (26, '>I'), (27, '>Q')):
        if v < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, v)

def bstr(b): return head(2, len(b)) + b
def cose(payload): return b'\xd2\x84\x44\xa1\x01\x38\x22\xa0' + bstr(payload) + bstr(bytes(96))
def token(plat, realm):
    return b'\xd9\x01\x8f\xa2' + head(0, 44234) + bstr(cose(plat)) + head(0, 44241) + bstr(cose(realm))

realm = head(5, 1) + head(0, 10) + bstr(bytes(64))
items = 1024 * 1024 - 512
array = head(5, 1) + head(0, 9999) + head(4, items) + bytes(i % 24 for i in range(items))
big = token(array, realm)
assert len(big) <= 1024 * 1024
open(d + '/array.cbor', 'wb').write(big)
pairs = b''.join(head(0, 3000 + i) + b'\x00' for i in range(4000))
open(d + '/map.cbor', 'wb').write(token(head(5, 4000) + pairs, realm))
dup = b''.join(head(0, 3000 + i % 2) + b'\x00' for i in range(4000))
open(d + '/dup.cbor', 'wb').write(token(head(5, 4000) + dup, realm))
open(d + '/truncated.cbor', 'wb').write(big[:-1])
open(d + '/toolarge.cbor', 'wb').write(big + bytes(1024 * 1024 + 1 - len(big)))
PY
[ $? -eq 0 ] || { echo "FAIL: generating the tokens"; exit 1; }

run() { ( ulimit -t 60; "$bin" token "$@" ); }

run show "$tmp/array.cbor" >"$tmp/array.json" 2>"$tmp/err"; rc=$?
check "1 MiB array: token show exits 0" '[ $rc -eq 0 ]'
"$py" -c "import json,sys; a=json.load(open(sys.argv[1]))['cca-platform-token']['claims']['9999']; assert len(a) == 1024*1024-512 and a[23] == 23" \
	"$tmp/array.json" 2>/dev/null; rc=$?
check "1 MiB array: JSON holds every item" '[ $rc -eq 0 ]'
run verify "$tmp/array.cbor" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "1 MiB array: token verify exits 1 (claims missing)" '[ $rc -eq 1 ]'
check "1 MiB array: unknown claim noted" 'grep -q "^note  platform: unknown claim 9999 ignored$" "$tmp/out"'

run show "$tmp/map.cbor" >"$tmp/map.json" 2>"$tmp/err"; rc=$?
check "4,000-pair map: token show exits 0" '[ $rc -eq 0 ]'
run verify "$tmp/map.cbor" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "4,000-pair map: token verify exits 1" '[ $rc -eq 1 ]'
check "4,000-pair map: every unknown claim noted" '[ "$(grep -c "^note  platform: unknown claim" "$tmp/out")" -eq 4000 ]'

run verify "$tmp/dup.cbor" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "two keys 2,000 times each: token verify exits 1" '[ $rc -eq 1 ]'
check "two keys 2,000 times each: each reported once" \
	'[ "$(grep -c "appears" "$tmp/out")" -eq 2 ] && grep -q "^FAIL  platform: claim 3000 appears 2000 times$" "$tmp/out"'

run show "$tmp/truncated.cbor" >/dev/null 2>"$tmp/err"; rc=$?
check "truncated: token show exits 1 with the reason" '[ $rc -eq 1 ] && grep -q "token is not well-formed CBOR" "$tmp/err"'
run verify "$tmp/truncated.cbor" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "truncated: token verify exits 1" '[ $rc -eq 1 ] && grep -q "^result: FAIL$" "$tmp/out"'
run show "$tmp/toolarge.cbor" >/dev/null 2>"$tmp/err"; rc=$?
check "over 1 MiB: exit 2, larger than 1 MiB" '[ $rc -eq 2 ] && grep -q "larger than 1 MiB" "$tmp/err"'

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
