#!/usr/bin/env bash
# Configuration errors name the file and the line of the offending key, for `run` and `measure`:
# a platform the loader accepts but the platform model refuses, a directory, a missing image (with
# the command that fetches it when the configuration says where it comes from).
set -u
bin=$1; src=$2
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c 4096 /dev/zero >"$tmp/k.bin"

printf 'kernel: k.bin\nplatform:\n  pa_bits: 48\n  dram: ["0x80000000:1G", "0xA0000000:1G"]\n' >"$tmp/overlap.yaml"
printf 'kernel: k.bin\nplatform:\n  dram: ["0x80000000:1G"]\n  pa_bits: 33\n' >"$tmp/pabits.yaml"
printf 'kernel: k.bin\nplatform:\n  secure: ["0x80000000:1M", "0x80000000:4K"]\n' >"$tmp/secure.yaml"
for cmd in run measure; do
    "$bin" $cmd "$tmp/overlap.yaml" >"$tmp/o" 2>&1; rc=$?
    check "$cmd: overlapping platform.dram: exit 2 with file:line" \
        '[ $rc -eq 2 ] && grep -q "rmmemu $cmd: .*overlap.yaml:4: platform.dram: the platform refuses it: memory ranges overlap" "$tmp/o" || { cat "$tmp/o"; false; }'
    "$bin" $cmd "$tmp/pabits.yaml" >"$tmp/o" 2>&1; rc=$?
    check "$cmd: pa_bits 33: exit 2 with file:line" \
        '[ $rc -eq 2 ] && grep -q "rmmemu $cmd: .*pabits.yaml:4: platform.pa_bits: the platform refuses it: pa_bits 33" "$tmp/o" || { cat "$tmp/o"; false; }'
    "$bin" $cmd "$tmp/secure.yaml" >"$tmp/o" 2>&1; rc=$?
    check "$cmd: overlapping secure ranges: exit 2 with file:line" \
        '[ $rc -eq 2 ] && grep -q "secure.yaml:3: platform.secure: the platform refuses it" "$tmp/o" || { cat "$tmp/o"; false; }'
    "$bin" $cmd "$tmp" >"$tmp/o" 2>&1; rc=$?
    check "$cmd DIRECTORY: exit 2 with the read error" \
        '[ $rc -eq 2 ] && grep -q "cannot read: Is a directory" "$tmp/o" && ! grep -q "empty configuration" "$tmp/o" || { cat "$tmp/o"; false; }'
done

# The shipped Debian configuration before the kernel is fetched (a copy whose ../.cache is empty).
mkdir -p "$tmp/tree/configs"
cp "$src/configs/linux-debian.yaml" "$tmp/tree/configs/"
line=$(grep -n '^kernel:' "$tmp/tree/configs/linux-debian.yaml" | cut -d: -f1)
"$bin" run "$tmp/tree/configs/linux-debian.yaml" >"$tmp/o" 2>&1; rc=$?
check "run linux-debian.yaml without the kernel: exit 2, line, the fetch command" \
    '[ $rc -eq 2 ] && grep -q "linux-debian.yaml:$line: kernel: cannot open .*No such file or directory.*bash scripts/fetch-kernel.sh" "$tmp/o" || { cat "$tmp/o"; false; }'
# Without the comment, a kernel under .cache/linux still gets the command.
mkdir -p "$tmp/t2"
printf 'memory:\n  size: 64M\nkernel: .cache/linux/vmlinuz\n' >"$tmp/t2/c.yaml"
"$bin" measure "$tmp/t2/c.yaml" >"$tmp/o" 2>&1; rc=$?
check "measure: kernel under .cache/linux: the fetch command" \
    '[ $rc -eq 2 ] && grep -q "c.yaml:3: kernel: cannot open .*fetch it with .bash scripts/fetch-kernel.sh." "$tmp/o" || { cat "$tmp/o"; false; }'
# Anything else missing: file:line and the reason, no guessed command.
printf 'kernel: k.bin\ninitrd: nothere.img\n' >"$tmp/i.yaml"
"$bin" run "$tmp/i.yaml" >"$tmp/o" 2>&1; rc=$?
check "run: missing initrd: exit 2, line, no command" \
    '[ $rc -eq 2 ] && grep -q "i.yaml:2: initrd: cannot open .*nothere.img.: No such file or directory$" "$tmp/o" || { cat "$tmp/o"; false; }'
# A good configuration still builds.
printf 'memory:\n  size: 64M\nkernel: k.bin\n' >"$tmp/good.yaml"
"$bin" measure "$tmp/good.yaml" >"$tmp/o" 2>&1; rc=$?
check "measure: a good configuration" '[ $rc -eq 0 ] && grep -q "^RIM: " "$tmp/o" || { cat "$tmp/o"; false; }'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
