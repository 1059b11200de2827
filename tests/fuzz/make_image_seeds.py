#!/usr/bin/env python3
"""Write the seed corpus of fuzz_image (tests/fuzz/corpus/image/): small kernels of every kind the
loader takes (raw binary, arm64 Image, gzip Image, ELF), with and without an initrd and a DTB file.
Input layout: tests/fuzz/fuzz_image.c. Usage: python3 tests/fuzz/make_image_seeds.py [DIR]"""
import gzip
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'image')
os.makedirs(out, exist_ok=True)

INITRD, DTBFILE, V12, KFILE, VCPU2, SHA512 = 1, 2, 4, 8, 0x40, 0x80


def ram(mib):   # flags bits 4-5: RAM of 2/4/8/16 MiB
    return {2: 0, 4: 1, 8: 2, 16: 3}[mib] << 4


def seed(name, flags, kernel, initrd=b'', dtb=b''):
    hdr = bytes([flags]) + struct.pack('<I', len(kernel))[:3] + struct.pack('<I', len(initrd))[:3]
    with open(os.path.join(out, name), 'wb') as f:
        f.write(hdr + kernel + initrd + dtb)


code = struct.pack('<4I', 0xd503201f, 0xd503201f, 0x14000000, 0)   # nop; nop; b .


def image(text_offset=0, image_size=0, flags=0, body=code):
    """An arm64 Image: branch, text_offset, image_size, flags, reserved, magic "ARM\\x64" at 0x38."""
    h = struct.pack('<II', 0x14000010, 0) + struct.pack('<QQQ', text_offset, image_size, flags)
    h += bytes(0x38 - len(h)) + b'ARM\x64' + bytes(4)
    return h + body


def elf(segments, entry):
    """A little-endian AArch64 ELF64 with PT_LOAD segments [(paddr, data, memsz)]."""
    phoff, phentsize = 64, 56
    data_off = phoff + phentsize * len(segments)
    eh = b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack('<HHIQQQIHHHHHH', 2, 183, 1, entry, phoff, 0, 0, 64, phentsize, len(segments), 0, 0, 0)
    ph, blob = b'', b''
    for paddr, body, memsz in segments:
        ph += struct.pack('<IIQQQQQQ', 1, 5, data_off + len(blob), paddr, paddr, len(body), memsz, 0x1000)
        blob += body
    return eh + ph + blob


def fdt(props=()):
    """A flattened device tree: the root node with string properties [(name, value)]."""
    strings, strct = b'', struct.pack('>II', 1, 0)            # FDT_BEGIN_NODE ""
    for name, value in props:
        off = len(strings)
        strings += name.encode() + b'\0'
        v = value.encode() + b'\0'
        strct += struct.pack('>III', 3, len(v), off) + v + bytes(-len(v) % 4)
    strct += struct.pack('>II', 2, 9)                        # FDT_END_NODE, FDT_END
    rsv = bytes(16)
    off_rsv = 40
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(strct)
    total = off_strings + len(strings)
    return struct.pack('>10I', 0xd00dfeed, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                       len(strings), len(strct)) + rsv + strct + strings


seed('raw', 0, code)
seed('raw-file-v12', KFILE | V12, code)
seed('image', ram(4), image())
seed('image-text-offset', ram(4), image(text_offset=0x80000, image_size=0x100000))
seed('image-bss-too-big', ram(2), image(image_size=0x4000000))
seed('image-big-endian', 0, image(flags=1))
seed('image-gzip', ram(8) | SHA512, gzip.compress(image(body=code * 64), mtime=0))
seed('image-gzip-file-2vcpu', KFILE | VCPU2, gzip.compress(image(), mtime=0))
seed('image-gzip-truncated', 0, gzip.compress(image(), mtime=0)[:-6])
seed('elf', ram(4), elf([(0x80000000, code, 0x2000)], 0x80000000))
seed('elf-two-segments', ram(8) | V12, elf([(0x80000000, code, 0x1000), (0x80010000, code * 4, 0x3000)], 0x80010000))
seed('elf-overlap', 0, elf([(0x80000000, code, 0x2000), (0x80001000, code, 0x1000)], 0x80000000))
seed('elf-entry-outside', 0, elf([(0x80000000, code, 0x1000)], 0x90000000))
seed('initrd', INITRD | ram(4), image(), initrd=b'070701' + bytes(4090) + b'TRAILER!!!')
seed('initrd-kernel-no-room', INITRD, image(image_size=0x1f0000), initrd=bytes(0x8000))
seed('dtb', DTBFILE, code, dtb=fdt([('compatible', 'linux,dummy-virt'), ('model', 'fuzz')]))
seed('dtb-bad-token', DTBFILE, code, dtb=fdt()[:56] + struct.pack('>I', 0x77) + fdt()[60:])
seed('dtb-short', DTBFILE, code, dtb=b'\xd0\x0d\xfe\xed')
seed('all-files', INITRD | DTBFILE | KFILE | ram(16) | VCPU2 | SHA512, image(text_offset=0x1000),
     initrd=b'initrd' * 100, dtb=fdt([('model', 'all')]))
