#!/usr/bin/env bash
# The devices keys of realm configurations (docs/config.md, "Device placement"): every check names the
# key's line; the placement changes the generated DT (so the RIM) and nothing else; the defaults are
# the layout the stock-kernel configuration always had.
set -u
bin=$1; src=$2
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
head -c 4096 /dev/zero >k.bin

# expect_err NAME 'devices/realm lines' LINE 'message (grep -E)'
expect_err() {
    printf 'kernel: k.bin\nmemory:\n  size: 64M\n%b' "$2" >c.yaml
    "$bin" measure c.yaml >out 2>&1; local rc=$?
    if [ $rc -eq 2 ] && grep -qE "c.yaml:$3: $4" out; then pass=$((pass+1)); else
        echo "FAIL: $1 (exit $rc)"; cat out; fail=$((fail+1)); fi
}
expect_err "placement: a word it does not know" 'devices:\n  placement: sideways\n' 5 "devices.placement: shared .* or protected"
expect_err "uart not 4 KiB aligned" 'devices:\n  uart: 0x1000800\n' 5 "devices.uart 0x1000800: not a multiple of 4 KiB"
expect_err "gic_dist not 64 KiB aligned" 'devices:\n  gic_dist: 0x3fff1000\n' 5 "devices.gic_dist 0x3fff1000: not a multiple of 64 KiB"
expect_err "gic_redist over the distributor (its default)" 'devices:\n  gic_redist: 0x3ffe0000\n' 5 \
    "devices.gic_redist \[0x3ffe0000, 0x40000000\) overlaps devices.gic_dist \[0x3fff0000, 0x40000000\) \(its default\)"
expect_err "uart inside the default redistributors of 4 vCPUs" 'realm:\n  vcpus: 4\ndevices:\n  uart: 0x3ff80000\n' 7 \
    "devices.uart \[0x3ff80000, 0x3ff81000\) overlaps devices.gic_redist \[0x3ff70000, 0x3fff0000\)"
expect_err "a device over RAM" 'devices:\n  gic_dist: 0x80000000\n' 5 "devices.gic_dist \[0x80000000, 0x80010000\) overlaps RAM \[0x80000000, 0x84000000\)"
expect_err "a device above the shared bit" 'devices:\n  uart: 0x100000000\n' 5 "devices.uart \[0x100000000, 0x100001000\) does not fit below the shared bit of the 33-bit IPA space"
expect_err "ipa_bits given: the limit follows it" 'realm:\n  ipa_bits: 40\ndevices:\n  gic_dist: 0x8000000000\n' 7 \
    "devices.gic_dist \[0x8000000000, 0x8000010000\) does not fit below the shared bit of the 40-bit IPA space"
expect_err "no room below the distributor for the redistributors" 'realm:\n  vcpus: 2\ndevices:\n  gic_dist: 0x20000\n' 7 \
    "devices.gic_dist 0x20000: no room below it for the 2 vCPUs' redistributors"
expect_err "uart_spi beyond the SPIs" 'devices:\n  uart_spi: 988\n' 5 "devices.uart_spi: expected a number from 0 to"
expect_err "an unknown key" 'devices:\n  virtio: 1\n' 5 "devices: unknown key 'virtio' \(placement, uart, uart_spi, gic_dist, gic_redist\)"
# RAM at IPA 0 with the default UART inside it: accepted in the shared placement (as before the
# checks existed: the device is named at its alias), refused in the protected one.
printf 'kernel: k.bin\nmemory:\n  base: 0\n  size: 64M\n' >zero.yaml
"$bin" measure zero.yaml >out 2>&1; rc=$?
check "RAM at 0, default devices, shared placement: accepted" '[ $rc -eq 0 ] || { cat out; false; }'
printf 'kernel: k.bin\nmemory:\n  base: 0\n  size: 64M\ndevices:\n  placement: protected\n' >zero.yaml
"$bin" measure zero.yaml >out 2>&1; rc=$?
check "RAM at 0, default devices, protected placement: refused" \
    '[ $rc -eq 2 ] && grep -q "zero.yaml:5: devices.uart \[0x1000000, 0x1001000) overlaps RAM \[0x0, 0x4000000)" out || { cat out; false; }'

# The placement is in the DT, so in the RIM; the defaults are the explicit shared layout.
rim() { printf 'kernel: k.bin\nmemory:\n  size: 64M\n%b' "$1" >r.yaml; "$bin" measure r.yaml 2>&1 | sed -n 's/^RIM: //p'; }
r_default=$(rim '')
r_shared=$(rim 'devices:\n  placement: shared\n  uart: 0x01000000\n  uart_spi: 0\n  gic_dist: 0x3FFF0000\n  gic_redist: 0x3FFD0000\n')
r_prot=$(rim 'devices:\n  placement: protected\n')
r_spi=$(rim 'devices:\n  uart_spi: 5\n')
check "the defaults are the shared layout spelled out" '[ -n "$r_default" ] && [ "$r_default" = "$r_shared" ]'
check "protected placement: another DT, another RIM" '[ -n "$r_prot" ] && [ "$r_prot" != "$r_default" ]'
check "uart_spi is in the DT" '[ -n "$r_spi" ] && [ "$r_spi" != "$r_default" ]'
# The shipped configurations parse (their images need not be there for this check).
for c in linux-debian linux-cca; do
    sed 's|^kernel:.*|kernel: k.bin|; /^initrd:/d' "$src/configs/$c.yaml" >"$c.yaml"
    "$bin" measure "$c.yaml" >out 2>&1; rc=$?
    check "configs/$c.yaml is valid" '[ $rc -eq 0 ] || { cat out; false; }'
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
