#!/usr/bin/env python3
"""Seed inputs of fuzz_rmi_seq and fuzz_rsi (tests/fuzz/corpus/{rmi_seq,rsi}/), written by hand in
the targets' input languages (see the comments at the top of each target). Run from the
repository root to regenerate: python3 tests/fuzz/seeds_realm.py"""
import os

# ---- fuzz_rmi_seq ----
VERSION, DELEGATE, UNDELEGATE, DATA_CREATE, DATA_CREATE_UNKNOWN, DATA_DESTROY, ACTIVATE, \
    REALM_CREATE, REALM_DESTROY, REC_CREATE, REC_DESTROY, REC_ENTER, RTT_CREATE, RTT_DESTROY, \
    MAP_UNPROT, READ_ENTRY, UNMAP_UNPROT, PSCI_COMPLETE, FEATURES, RTT_FOLD, AUX_COUNT, \
    INIT_RIPAS, SET_RIPAS = range(23)
W_REALM, W_REC, W_RUN, BULK = 28, 29, 30, 31


def pool(i):            # selector of pool granule i (0..63)
    return i if i < 32 else 0x20 | (i - 32)


def ipa(i):             # selector of ipas[i]
    return 0x40 | i


def small(i):           # selector of smalls[i]: 0,1,2,3,-1,4,...
    return 0x60 | i


def ns(i):              # selector of NS page i (0 realm params, 1 REC params, 2 RecRun, 3.. data)
    return 0xA0 | (16 + i)


def desc(i):            # NS page i | normal WB RW: an unprotected mapping's descriptor
    return 0xC0 | (8 + i)


IPA_RAM, IPA_RAM2, IPA_SHARED40 = 10, 11, 19


def call(cmd, *sels):
    sels = list(sels) + [small(0)] * (6 - len(sels))
    return bytes([cmd] + sels)


def realm_setup(nrec=1):
    b = bytes([BULK, 0, 31]) + bytes([BULK, 31, 20])
    # flags 0, s2sz 40, start level 1 (sl byte 2), 2 roots at pool 1, misc 0, sha256, vmid 1
    b += bytes([W_REALM, 0, 4, 2, 1, pool(1), 0, 0, 1, 0])
    b += call(FEATURES, small(0)) + call(VERSION, small(24))
    b += call(REALM_CREATE, pool(0), ns(0))
    b += call(AUX_COUNT, pool(0))
    b += call(RTT_CREATE, pool(0), pool(3), ipa(IPA_RAM), small(2))
    b += call(RTT_CREATE, pool(0), pool(4), ipa(IPA_RAM), small(3))
    b += call(INIT_RIPAS, pool(0), ipa(IPA_RAM), ipa(IPA_RAM2))
    b += call(DATA_CREATE, pool(0), pool(5), ipa(IPA_RAM), ns(3), small(1))
    b += call(DATA_CREATE_UNKNOWN, pool(0), pool(6), ipa(IPA_RAM2))
    for r in range(nrec):
        # runnable, MPIDR index r, PC 0x80000000, 16 aux from pool 7 + 17 r... (stride 1)
        b += bytes([W_REC, 1 if r == 0 else 0, r, ipa(IPA_RAM), 16, 7])
        b += call(REC_CREATE, pool(0), pool(24 + r), ns(1))
        if r == 0:
            b += bytes([UNDELEGATE]) + bytes([pool(7 + 16)] + [small(0)] * 5)   # aux now in use
    b += call(ACTIVATE, pool(0))
    return b


def rmi_seeds():
    s = {}
    s['realm_build'] = realm_setup()
    run = realm_setup()
    run += bytes([W_RUN, 0, 0, 0]) + call(REC_ENTER, pool(24), ns(2))
    run += bytes([W_RUN, 1, 0, 0]) + call(REC_ENTER, pool(24), ns(2))             # EMUL_MMIO: no abort
    run += bytes([W_RUN, 0x10, 0, 0x05]) + call(REC_ENTER, pool(24), ns(2))       # RIPAS response + LR
    s['rec_enter'] = run
    un = realm_setup()
    un += call(RTT_CREATE, pool(0), pool(26), ipa(IPA_SHARED40), small(2))
    un += call(RTT_CREATE, pool(0), pool(27), ipa(IPA_SHARED40), small(3))
    un += call(MAP_UNPROT, pool(0), ipa(IPA_SHARED40), small(3), desc(4))
    un += call(READ_ENTRY, pool(0), ipa(IPA_SHARED40), small(3))
    un += call(UNMAP_UNPROT, pool(0), ipa(IPA_SHARED40), small(3))
    un += call(RTT_FOLD, pool(0), ipa(IPA_SHARED40), small(3))
    un += call(RTT_DESTROY, pool(0), ipa(IPA_SHARED40), small(3))
    s['unprotected'] = un
    td = realm_setup()
    td += call(SET_RIPAS, pool(0), pool(24), ipa(IPA_RAM), ipa(IPA_RAM2))
    td += call(PSCI_COMPLETE, pool(24), pool(24), small(16))
    td += call(REC_DESTROY, pool(24))
    td += call(DATA_DESTROY, pool(0), ipa(IPA_RAM))
    td += call(DATA_DESTROY, pool(0), ipa(IPA_RAM2))
    td += call(RTT_FOLD, pool(0), ipa(IPA_RAM), small(3))
    td += call(RTT_DESTROY, pool(0), ipa(IPA_RAM), small(3))
    td += call(RTT_DESTROY, pool(0), ipa(IPA_RAM), small(2))
    td += call(REALM_DESTROY, pool(0))
    for i in range(0, 24):
        td += call(UNDELEGATE, pool(i))
    s['teardown'] = td
    # two realms sharing granules, the second with odd geometry, and every SMC once with odd args
    two = realm_setup()
    two += bytes([W_REALM, 0, 0, 3, 0, pool(40), 0x80 | 3, 1, 2, 0])       # s2sz 32, sl 2, 1 root
    two += call(REALM_CREATE, pool(41), ns(0))
    two += call(REALM_CREATE, pool(42), ns(0))
    two += bytes([W_REALM, 0, 8, 1, 4, pool(43), 0, 0, 1, 0])              # vmid clash, 16 roots
    two += call(REALM_CREATE, pool(44), ns(0))
    for cmd in range(28):
        two += bytes([cmd]) + bytes([0xA5, 0xA0, 0xA3, 0xAF, 0x68, 0xAB])
    s['two_realms'] = two
    return s


# ---- fuzz_rsi (see fuzz_rsi.c for the language) ----

def write(d, seeds):
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        assert len(data) < 4096, name
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    write('tests/fuzz/corpus/rmi_seq', rmi_seeds())
