#!/usr/bin/env bash
# rmmemu measure: realm configs build and report a RIM; compressed and raw images agree; bad input
# is rejected with file:line and exit 2.
set -u
bin=$1; src=$2
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
python3 -c "import random; random.seed(7); open('k.bin','wb').write(bytes(random.getrandbits(8) for _ in range(10000)))"
gzip -k -c k.bin > k.gz
printf 'realm:\n  hash: sha512\n  rpv: "r"\n  vcpus: 2\nmemory:\n  size: 64M\nkernel: k.bin\n' > raw.yaml
printf 'realm:\n  hash: sha512\n  rpv: "r"\n  vcpus: 2\nmemory:\n  size: 64M\nkernel: k.gz\n' > gz.yaml
"$bin" measure raw.yaml > raw.out 2>&1; rc=$?
check "raw image measures" '[ $rc -eq 0 ] && grep -q "^RIM: [0-9a-f]\{128\}$" raw.out'
check "layout reported" 'grep -q "dtb     \[0x83e00000, 0x83e10000) measured" raw.out'
"$bin" measure gz.yaml > gz.out 2>&1
check "gzip image gives the same RIM" '[ "$(grep RIM raw.out)" = "$(grep RIM gz.out)" ]'
"$bin" measure raw.yaml > raw2.out 2>&1
check "RIM is reproducible" 'cmp -s raw.out raw2.out'
printf 'realm:\n  hash: md5\nkernel: k.bin\n' > b1.yaml
"$bin" measure b1.yaml > o 2>&1; rc=$?
check "bad hash: exit 2 with line" '[ $rc -eq 2 ] && grep -q "b1.yaml:2: realm.hash" o'
printf 'kernel: k.bin\nbogus: 1\n' > b2.yaml
"$bin" measure b2.yaml > o 2>&1; rc=$?
check "unknown key: exit 2 with line" '[ $rc -eq 2 ] && grep -q "b2.yaml:2: unknown key" o'
printf 'memory:\n  size: [1]\nkernel: k.bin\n' > b3.yaml
"$bin" measure b3.yaml > o 2>&1; rc=$?
check "wrong type: exit 2" '[ $rc -eq 2 ] && grep -q "b3.yaml:2: memory.size" o'
head -c 100 k.gz > t.gz; printf 'kernel: t.gz\n' > b4.yaml
"$bin" measure b4.yaml > o 2>&1; rc=$?
check "truncated gzip: exit 2" '[ $rc -eq 2 ] && grep -q "truncated" o'
python3 -c "open('big.bin','wb').write(bytes(2040000))"
printf 'memory:\n  size: 2M\nkernel: big.bin\ninitrd: k.bin\n' > b5.yaml
"$bin" measure b5.yaml > o 2>&1; rc=$?
check "impossible layout: exit 2" '[ $rc -eq 2 ] && grep -q "too small" o'
printf 'kernel: [unterminated\n' > b6.yaml
"$bin" measure b6.yaml > o 2>&1; rc=$?
check "malformed YAML: exit 2" '[ $rc -eq 2 ] && grep -q "YAML error" o'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
