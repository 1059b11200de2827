#!/usr/bin/env bash
# Hostile kernel, initrd and DTB files (issue 11, findings 3 and 4): every header field that places
# bytes in the realm is range checked before anything is allocated, populated or measured. Each case
# must end with exit 2 and a message naming the file and the field; none may crash. Where valgrind
# is installed and the binary is not an ASan build, the same invocations run under valgrind too
# (Debian's libfdt is not instrumented, so only valgrind sees it read past a short DTB).
set -u
bin=$1; src=$2
hello=$(dirname "$bin")/realm/hello.bin
hello_elf=$(dirname "$bin")/realm/hello.elf
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

vg=()
# gcc links ASan as libasan.so, clang links it in statically: look for its symbol either way.
if command -v valgrind >/dev/null && ! ldd "$bin" 2>/dev/null | grep -q libasan &&
   ! nm "$bin" 2>/dev/null | grep -q ' __asan_init'; then
	vg=(valgrind --error-exitcode=99 -q)
fi

python3 - "$hello" <<'PY'
import gzip, struct, sys, zlib

def image(text_offset, image_size, flags=0xa, body=8192):
    h = struct.pack('<IIQQQQQQ4sI', 0x14000000, 0, text_offset, image_size, flags, 0, 0, 0, b'ARM\x64', 0)
    return h + bytes(body - len(h))

def elf(segs, entry, extra=b''):
    # segs: (offset, paddr, filesz, memsz); the file holds the headers, then `extra`
    phoff, n = 64, len(segs)
    eh = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack('<HHIQQQIHHHHHH', 2, 183, 1, entry, phoff, 0, 0, 64, 56, n, 0, 0, 0)
    ph = b''.join(struct.pack('<IIQQQQQQ', 1, 7, off, pa, pa, fsz, msz, 0x1000) for off, pa, fsz, msz in segs)
    data = eh + ph
    return data + bytes(0x1000 - len(data)) + extra

def w(name, data):
    open(name, 'wb').write(data)

w('ok.img', image(0, 0x20000))
w('wrap.img', image(2**64 - 0x80000000, 8192))
w('tsize.img', image(0, 2**64 - 0x1000))
w('tbig.img', image(0, 255 << 20))                    # fits 256M RAM, but runs over the DTB
w('tmid.img', image(0, 200 << 20))                    # fits below the DTB, not below a 60 MiB initrd
w('i60.bin', bytes(60 << 20))
w('tunal.img', image(0x80001, 8192))
w('tend.img', image(255 << 20, 8192))                 # starts inside RAM, beyond the DTB
w('be.img', image(0, 8192, flags=0xb))

page = bytes(range(256)) * 16
w('ok.elf', elf([(0x1000, 0x80000000, 0x1000, 0x2000)], 0x80000000, page))
w('big.elf', elf([(0x1000, 0x80000000, 0x1000, 4 << 30)], 0x80000000, page))
w('eof.elf', elf([(0x1000, 0x80000000, 0x2000, 0x2000)], 0x80000000, page))
w('offwrap.elf', elf([(2**64 - 0x800, 0x80000000, 0x1000, 0x1000)], 0x80000000, page))
w('pawrap.elf', elf([(0x1000, 2**64 - 0x1000, 0x1000, 0x2000)], 0x80000000, page))
w('overlap.elf', elf([(0x1000, 0x80000000, 0x1000, 0x3000), (0x1000, 0x80002000, 0x1000, 0x1000)], 0x80000000, page))
w('entry.elf', elf([(0x1000, 0x80000000, 0x1000, 0x1000)], 0x90000000, page))

kernel = open(sys.argv[1], 'rb').read()
gz = bytearray(gzip.compress(kernel))
gz[-4:] = struct.pack('<I', len(kernel) + 4096)       # ISIZE says more than there is
w('isize_hi.gz', gz)
gz[-4:] = struct.pack('<I', len(kernel) - 16)         # ISIZE says less than there is
w('isize_lo.gz', gz)
gz[-4:] = struct.pack('<I', 0xfffffff0)               # ISIZE alone is more than RAM
w('isize_huge.gz', gz)
c = zlib.compressobj(9, zlib.DEFLATED, 31)
chunk = bytes(1 << 20)
bomb = bytearray(b''.join([c.compress(chunk) for _ in range(300)] + [c.flush()]))   # 300 MiB of zeros
w('bomb.gz', bomb)
bomb[-4:] = struct.pack('<I', 16)                     # as a stream of 4 GiB + 16 bytes would say
w('bomb16.gz', bomb)

w('d4.dtb', b'\xd0\x0d\xfe\xed')
hdr = struct.pack('>10I', 0xd00dfeed, 4096, 56, 72, 76, 17, 16, 0, 4, 0)
w('dlong.dtb', hdr + bytes(24))                       # totalsize 4096 in a 64-byte file
w('d39.dtb', hdr[:39])
# A whole FDT (root node, no properties), then the same with its first structure token broken.
strct = struct.pack('>II', 1, 0) + struct.pack('>II', 2, 9)  # BEGIN_NODE "", END_NODE, END
tree = struct.pack('>10I', 0xd00dfeed, 40 + 16 + len(strct), 56, 56 + len(strct), 40, 17, 16, 0, 0, len(strct))
w('good.dtb', tree + bytes(16) + strct)
w('bad.dtb', tree + bytes(16) + struct.pack('>I', 0x77) + strct[4:])
w('junk.dtb', b'not a device tree blob, but 40 bytes long')
w('two.gz', gzip.compress(kernel) + gzip.compress(kernel))  # two members: only the first would load
PY

yaml() {  # yaml NAME KERNEL [extra lines]
	local name=$1 kernel=$2; shift 2
	printf 'memory:\n  size: 256M\nkernel: %s\n' "$kernel" >"$name"
	for l in "$@"; do printf '%s\n' "$l" >>"$name"; done
}

# expect_2 DESC CONFIG PATTERN [run]: exit 2, the pattern in stderr, nothing measured
expect_2() {
	local desc=$1 cfg=$2 pat=$3 cmd=${4:-measure}
	"$bin" "$cmd" "$cfg" >out 2>err; rc=$?
	check "$desc: exit 2, '$pat'" '[ $rc -eq 2 ] && grep -q -- "$pat" err && ! grep -q "^RIM" out || { echo "rc $rc"; cat out err; false; }'
	if [ ${#vg[@]} -gt 0 ]; then
		"${vg[@]}" "$bin" "$cmd" "$cfg" >/dev/null 2>vgerr; rc=$?
		check "$desc: valgrind clean" '[ $rc -eq 2 ] || { echo "rc $rc"; cat vgerr; false; }'
	fi
}
expect_ok() {
	local desc=$1 cfg=$2
	"$bin" measure "$cfg" >out 2>err; rc=$?
	check "$desc: measures" '[ $rc -eq 0 ] && grep -q "^RIM: " out || { echo "rc $rc"; cat out err; false; }'
}

# Raw arm64 Image header: text_offset, image_size, flags.
yaml ok.yaml ok.img;          expect_ok "Image, image_size past the file (BSS)" ok.yaml
yaml wrap.yaml wrap.img "run:" "  max_exits: 1000";      expect_2 "Image text_offset 2^64 - 0x80000000 (wraps to IPA 0)" wrap.yaml "wrap.img: Image header text_offset 0xffffffff80000000"
expect_2 "the same under rmmemu run" wrap.yaml "wrap.img: Image header text_offset" run
yaml tsize.yaml tsize.img;    expect_2 "Image image_size 2^64 - 4 KiB" tsize.yaml "tsize.img: Image header image_size 0xfffffffffffff000"
yaml tbig.yaml tbig.img;      expect_2 "Image image_size 255 MiB (over the DTB)" tbig.yaml "tbig.img: Image header image_size 0xff00000"
yaml tmid.yaml tmid.img;      expect_ok "Image image_size 200 MiB, no initrd" tmid.yaml
yaml tmid2.yaml tmid.img "initrd: i60.bin"
expect_2 "Image image_size 200 MiB over a 60 MiB initrd" tmid2.yaml "tmid.img: Image header image_size 0xc800000: the kernel at 0x80000000 runs past 0x8c200000, where the initrd starts"
yaml tunal.yaml tunal.img;    expect_2 "Image text_offset not a multiple of 4 KiB" tunal.yaml "tunal.img: Image header text_offset 0x80001"
yaml tend.yaml tend.img;      expect_2 "Image text_offset 255 MiB (beyond the DTB)" tend.yaml "tend.img: Image header text_offset 0xff00000"
yaml be.yaml be.img;          expect_2 "Image flags: big-endian kernel" be.yaml "be.img: Image header flags 0xb"

# ELF program headers.
yaml okelf.yaml ok.elf;       expect_ok "ELF, p_memsz past p_filesz" okelf.yaml
yaml hello.yaml "$hello_elf"
"$bin" run hello.yaml >out 2>err; rc=$?
check "the hello payload as ELF runs" '[ $rc -eq 0 ] && grep -q "^hello from realm cpu 0" out || { cat out err; false; }'
printf 'memory:\n  size: 8G\nkernel: big.elf\n' >big.yaml
expect_2 "ELF p_memsz 4 GiB (inside RAM, over the DTB)" big.yaml "big.elf: ELF segment 0 p_memsz 0x100000000"
yaml eof.yaml eof.elf;        expect_2 "ELF p_offset + p_filesz past the end of the file" eof.yaml "eof.elf: ELF segment 0 p_offset 0x1000 + p_filesz 0x2000"
yaml offwrap.yaml offwrap.elf; expect_2 "ELF p_offset near 2^64" offwrap.yaml "offwrap.elf: ELF segment 0 p_offset 0xfffffffffffff800"
yaml pawrap.yaml pawrap.elf;  expect_2 "ELF p_paddr + p_memsz wraps" pawrap.yaml "pawrap.elf: ELF segment 0 p_paddr 0xfffffffffffff000"
yaml overlap.yaml overlap.elf; expect_2 "ELF segments overlap" overlap.yaml "overlap.elf: ELF segments 0 and 1 overlap"
yaml entry.yaml entry.elf;    expect_2 "ELF entry outside every segment" entry.yaml "entry.elf: ELF entry 0x90000000"

# gzip: the ISIZE trailer and the real size; a bomb stops at the space the kernel has.
yaml isize_hi.yaml isize_hi.gz;   expect_2 "gzip ISIZE larger than the data" isize_hi.yaml "isize_hi.gz: gzip ISIZE"
yaml isize_lo.yaml isize_lo.gz;   expect_2 "gzip ISIZE smaller than the data" isize_lo.yaml "isize_lo.gz: gzip ISIZE"
yaml isize_huge.yaml isize_huge.gz; expect_2 "gzip ISIZE larger than RAM" isize_huge.yaml "isize_huge.gz: gzip ISIZE 0xfffffff0"
yaml two.yaml two.gz;             expect_2 "gzip file of two members" two.yaml "two.gz: [0-9]* bytes after the end of the gzip stream"
printf 'memory:\n  size: 64M\nkernel: bomb.gz\n' >bomb.yaml
"$bin" measure bomb.yaml >out 2>err; rc=$?
check "gzip bomb (300 MiB of zeros, 64 MiB RAM): stops at the space for the kernel" '[ $rc -eq 2 ] && grep -q "bomb.gz: decompresses to more than the 65011712 bytes" err || { echo "rc $rc"; cat err; false; }'
printf 'memory:\n  size: 64M\nkernel: bomb16.gz\n' >bomb16.yaml
"$bin" measure bomb16.yaml >out 2>err; rc=$?
check "gzip bomb whose ISIZE says 16: stops at the space for the kernel" '[ $rc -eq 2 ] && grep -q "bomb16.gz: decompresses to more than the 65011712 bytes" err || { echo "rc $rc"; cat err; false; }'

# initrd: it must fit between the kernel and the DTB (RAM at IPA 0: the subtraction would wrap).
python3 -c "open('i100.bin','wb').write(bytes(100 << 20))"
printf 'memory:\n  base: 0\n  size: 64M\nkernel: %s\ninitrd: i100.bin\n' "$hello" >initrd.yaml
expect_2 "initrd of 100 MiB, RAM of 64 MiB at IPA 0" initrd.yaml "i100.bin: initrd of 104857600 bytes does not fit"
printf 'memory:\n  size: 64M\nkernel: %s\ninitrd: i100.bin\n' "$hello" >initrd2.yaml
expect_2 "initrd of 100 MiB, RAM of 64 MiB" initrd2.yaml "i100.bin: initrd of 104857600 bytes does not fit"

# DTB: shorter than its header, or a totalsize beyond the file.
yaml d4.yaml ok.img "dtb: d4.dtb";       expect_2 "4-byte DTB" d4.yaml "d4.dtb: 4 bytes, shorter than the 40-byte FDT header"
yaml d39.yaml ok.img "dtb: d39.dtb";     expect_2 "39-byte DTB" d39.yaml "d39.dtb: 39 bytes, shorter than the 40-byte FDT header"
yaml dlong.yaml ok.img "dtb: dlong.dtb"; expect_2 "DTB totalsize beyond the file" dlong.yaml "dlong.dtb: FDT header totalsize 4096"
yaml good.yaml ok.img "dtb: good.dtb";   expect_ok "a minimal DTB" good.yaml
yaml bad.yaml ok.img "dtb: bad.dtb";     expect_2 "DTB with a bad structure token" bad.yaml "bad.dtb: not a valid device tree blob: FDT_ERR_"
yaml junk.yaml ok.img "dtb: junk.dtb";   expect_2 "40 bytes that are no DTB" junk.yaml "junk.dtb: not a device tree blob (magic 0x6e6f7420)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
