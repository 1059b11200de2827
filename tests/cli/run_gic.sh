#!/usr/bin/env bash
# Interrupts the KVM way through `rmmemu run`: tests/realm/gic.c programs the host's virtual GICv3
# (distributor and redistributor over MMIO at the unprotected alias), sleeps in WFI until its virtual
# timer fires (five ticks), takes the physical timer, sends itself an SGI (ICC_SGI1R_EL1 exit) and
# reads console input from the PL011 with its interrupt; the input comes from a pipe on stdin.
set -u
bin=$1
payload=$(dirname "$bin")/realm/gic.bin
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
cat >"$tmp/gic.yaml" <<YAML
realm:
  vcpus: 1
memory:
  size: 64M
kernel: $payload
devices:
  uart: 0x01000000
  uart_spi: 1
  gic_dist: 0x08000000
  gic_redist: 0x080A0000
YAML
printf 'gic.' | "$bin" run "$tmp/gic.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "runs to SYSTEM_OFF" '[ $rc -eq 0 ] && grep -q "stopped: PSCI SYSTEM_OFF" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; false; }'
check "every check in the realm passed" 'grep -q "^DONE pass=[0-9]* fail=0" "$tmp/out" && ! grep -q "^FAIL" "$tmp/out" || { cat "$tmp/out"; false; }'
check "timers, SGI and console input" 'grep -q "^gic: .*(vtimer 5, ptimer 1, sgi 1, uart [0-9]*), input .gic.*$" "$tmp/out" && grep -q "^rx 0x2e$" "$tmp/out" || { cat "$tmp/out"; false; }'
# Input that ends (EOF) before the realm reads it all is not an error: here none at all; the
# realm's wait for input is bounded by its own WFI count, and it reports what it got.
"$bin" run "$tmp/gic.yaml" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
check "no input: still runs to SYSTEM_OFF, only the input check fails" '[ $rc -eq 0 ] && grep -q "^FAIL PL011 RX with its interrupt" "$tmp/out" && grep -q "^PASS SGI 3 taken" "$tmp/out" || { cat "$tmp/out" "$tmp/err"; false; }'
# A terminal: raw mode (Ctrl-C is a byte for the realm), Ctrl-A x quits, the terminal comes back as
# it was. Driven through a pseudo-terminal by python3 (skipped without it).
if command -v python3 >/dev/null; then
    python3 - "$bin" "$tmp/gic.yaml" >"$tmp/pty" 2>&1 <<'PY'
import os, pty, select, sys, time
binary, cfg = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", 'stty -g; "$0" run "$1"; echo "exit $?"; stty -g', binary, cfg])
buf = b""
def until(pat, limit=120):
    global buf
    end = time.time() + limit
    while pat not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
    return pat in buf
os.write(fd, b"gic")                # typed ahead: the realm gets it once it listens (no race)
ok = until(b"input 'gic'")
os.write(fd, b"\x03\x01\x01")      # Ctrl-C and an escaped Ctrl-A reach the realm
ok = ok and until(b"rx 0x1\r")
os.write(fd, b"\x01x")
ok = ok and until(b"exit ") and until(b"\n", 5)
time.sleep(0.5)
try:
    while select.select([fd], [], [], 0.5)[0]:
        d = os.read(fd, 4096)
        if not d:
            break
        buf += d
except OSError:
    pass
os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
print("\nPTY-OK" if ok else "\nPTY-TIMEOUT")
PY
    modes=$(grep -a -E '^[0-9a-f]+(:[0-9a-f]+){10,}' "$tmp/pty" | tr -d '\r' | sort -u | wc -l)
    check "terminal: input typed reaches the realm, Ctrl-C too" 'grep -q "PTY-OK" "$tmp/pty" && grep -q "PASS PL011 RX with its interrupt" "$tmp/pty" && grep -q "^rx 0x3" "$tmp/pty" || { cat "$tmp/pty"; false; }'
    check "terminal: Ctrl-A x quits (exit 0)" 'grep -q "quit from the console (Ctrl-A x)" "$tmp/pty" && grep -q "^exit 0" "$tmp/pty" || { cat "$tmp/pty"; false; }'
    check "terminal: its modes restored" '[ "$modes" -eq 1 ] || { cat "$tmp/pty"; false; }'
fi
echo "run_gic: $pass passed, $fail failed"
[ $fail -eq 0 ]
