#!/usr/bin/env python3
"""Independent RIM predictor (RMM 1.0 measurement descriptors), written from the specification's
layouts with Python's hashlib only. Used to check rmmemu's RIM for known realm configurations.

Usage: predict_rim.py demo            -> prints the RIM of the embedded demo realm (hex)
"""
import hashlib
import struct
import sys


def H(algo, data):
    return hashlib.new(algo, data).digest()


def ext64(d):
    return d + bytes(64 - len(d))


def realm_params(flags, s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs, hash_algo):
    p = bytearray(4096)
    struct.pack_into("<Q", p, 0x000, flags)
    for off, v in ((0x008, s2sz), (0x010, sve_vl), (0x018, num_bps), (0x020, num_wps),
                   (0x028, pmu_num_ctrs), (0x030, hash_algo)):
        p[off] = v
    return bytes(p)


def desc_header(dtype, rim):
    d = bytearray(0x100)
    d[0] = dtype
    struct.pack_into("<Q", d, 0x08, 0x100)
    d[0x10:0x50] = ext64(rim)
    return d


class Rim:
    def __init__(self, algo, params):
        self.algo = algo
        self.rim = H(algo, params)

    def ripas(self, base, top):
        d = desc_header(2, self.rim)
        struct.pack_into("<QQ", d, 0x50, base, top)
        self.rim = H(self.algo, bytes(d))

    def data(self, ipa, content, measured=True):
        d = desc_header(0, self.rim)
        struct.pack_into("<QQ", d, 0x50, ipa, 1 if measured else 0)
        if measured:
            d[0x60:0xA0] = ext64(H(self.algo, content))
        self.rim = H(self.algo, bytes(d))

    def rec(self, flags, pc, gprs):
        r = bytearray(4096)
        struct.pack_into("<Q", r, 0x000, flags)
        struct.pack_into("<Q", r, 0x200, pc)
        for i, g in enumerate(gprs):
            struct.pack_into("<Q", r, 0x300 + 8 * i, g)
        d = desc_header(1, self.rim)
        d[0x50:0x90] = ext64(H(self.algo, bytes(r)))
        self.rim = H(self.algo, bytes(d))


def demo():
    """The embedded demo (host/demo.c): 33-bit IPA, SHA-256, 4 MiB RAM at 0x80000000 made RIPAS RAM
    as two 2 MiB level-2 entries, two measured granules of 0x5a, one runnable REC."""
    m = Rim("sha256", realm_params(0, 33, 0, 1, 1, 0, 0))
    m.ripas(0x80000000, 0x80200000)
    m.ripas(0x80200000, 0x80400000)
    m.data(0x80000000, b"\x5a" * 4096)
    m.data(0x80001000, b"\x5a" * 4096)
    m.rec(1, 0x80000000, [0x80001000] + [0] * 7)
    return m.rim


if __name__ == "__main__":
    if sys.argv[1:] == ["demo"]:
        print(demo().hex())
    else:
        sys.exit(__doc__)
