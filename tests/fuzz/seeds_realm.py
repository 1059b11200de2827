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
    # a 2 MiB range of DATA folded into an assigned block, split again, folded, destroyed
    FILL = 0x80 | BULK
    blk = bytes([BULK, 0, 31]) + bytes([W_REALM, 0, 4, 2, 1, pool(1), 0, 0, 1, 0])
    blk += call(REALM_CREATE, pool(0), ns(0))
    blk += call(RTT_CREATE, pool(0), pool(3), ipa(0), small(2))
    blk += call(RTT_CREATE, pool(0), pool(4), ipa(4), small(3))
    blk += call(INIT_RIPAS, pool(0), ipa(4), ipa(6))
    blk += bytes([FILL, 1])
    blk += call(READ_ENTRY, pool(0), ipa(4), small(3))
    blk += call(RTT_FOLD, pool(0), ipa(4), small(3))
    blk += call(READ_ENTRY, pool(0), ipa(4), small(2))
    blk += call(RTT_CREATE, pool(0), pool(5), ipa(4), small(3))          # split the block again
    blk += call(READ_ENTRY, pool(0), ipa(5), small(3))
    blk += call(RTT_FOLD, pool(0), ipa(4), small(3))
    blk += call(ACTIVATE, pool(0))
    blk += call(DATA_DESTROY, pool(0), ipa(4)) + call(DATA_DESTROY, pool(0), ipa(5))
    blk += call(RTT_CREATE, pool(0), pool(6), ipa(4), small(3))
    blk += call(DATA_DESTROY, pool(0), ipa(5)) + call(RTT_FOLD, pool(0), ipa(4), small(3))
    blk += call(MAP_UNPROT, pool(0), ipa(19), small(2), 0xE0 | 20)
    s['block_fold'] = blk
    # typed arguments (op bit 6): RD / REC from memory, IPAs around the remembered ones
    def tcall(cmd, *sels):
        return bytes([cmd | 0x40] + list(sels) + [0] * (6 - len(sels)))
    ty = realm_setup()
    ty += bytes([W_RUN, 0, 0, 0]) + tcall(REC_ENTER, 0, 2)
    for lvl in (1, 2, 3):
        ty += tcall(RTT_CREATE, 0, 40 + lvl, 0x80 | 16, lvl) + tcall(READ_ENTRY, 0, 0x80 | 16, lvl)
    ty += tcall(DATA_CREATE_UNKNOWN, 0, 45, 0x80 | 17) + tcall(DATA_DESTROY, 0, 0x80 | 17)
    ty += tcall(SET_RIPAS, 0, 0, 0x80, 0x84) + tcall(RTT_FOLD, 0, 0x80 | 16, 3) + tcall(RTT_DESTROY, 0, 0x80 | 16, 3)
    ty += tcall(RTT_CREATE, 0, 46, 0xC0, 2) + tcall(RTT_CREATE, 0, 47, 0xC0, 3) + tcall(MAP_UNPROT, 0, 0xC1, 3, 4)
    ty += tcall(UNMAP_UNPROT, 0, 0xC1, 3) + tcall(PSCI_COMPLETE, 0, 0, 0) + tcall(REC_DESTROY, 0)
    ty += tcall(REALM_DESTROY, 0) + tcall(DATA_DESTROY, 0, 0x80) + tcall(DATA_DESTROY, 0, 0x81)
    s['typed'] = ty
    # an unprotected 2 MiB block mapping, split into pages by RTT_CREATE and folded back
    nb = realm_setup()
    nb += call(RTT_CREATE, pool(0), pool(26), ipa(IPA_SHARED40), small(2))
    nb += call(MAP_UNPROT, pool(0), ipa(IPA_SHARED40), small(2), 0xE0 | 20)
    nb += call(READ_ENTRY, pool(0), ipa(IPA_SHARED40), small(2))
    nb += call(RTT_CREATE, pool(0), pool(27), ipa(IPA_SHARED40), small(3))
    nb += call(READ_ENTRY, pool(0), ipa(IPA_SHARED40 + 1), small(3))
    nb += call(UNMAP_UNPROT, pool(0), ipa(IPA_SHARED40 + 1), small(3))
    nb += call(RTT_FOLD, pool(0), ipa(IPA_SHARED40), small(3))
    nb += call(MAP_UNPROT, pool(0), ipa(IPA_SHARED40 + 1), small(3), desc(5))
    nb += call(RTT_FOLD, pool(0), ipa(IPA_SHARED40), small(3))
    nb += call(RTT_DESTROY, pool(0), ipa(IPA_SHARED40), small(3))
    s['ns_block'] = nb
    return s


# ---- fuzz_rsi (see fuzz_rsi.c for the language) ----
R_VERSION, R_FEATURES, R_MEAS_READ, R_MEAS_EXTEND, R_TOKEN_INIT, R_TOKEN_CONT, R_CONFIG, \
    R_STATE_SET, R_STATE_GET, R_HOST_CALL = range(10)
OFFS = [0, 0x100, 0xf00, 0xff8, 0x800, 0x8, 1, 0xfff]


def ram(i, off=0):      # protected RAM page i (0..3, DATA) at OFFS[off]
    return (off << 2) | i


def prot(k):            # LAZY, LAZY+1, DESTROYED, DESTROYED+1, EMPTY, ...
    return 0x20 | k


def unprot(k):          # SHARED (mapped), SHARED+0x1000 (unmapped), ...
    return 0x40 | k


def outside(k):
    return 0x48 | k


def num(k):             # smalls[k]: 0..8 = k, 9: 16, 10: 32, 11: 63, 12: 64, 16: -1, 18: 0x10000
    return 0x60 | k


def raw(v):
    return bytes([0xC0]) + v.to_bytes(8, 'little')


def rng(k):             # RAM + k pages (k < 16), or LAZY + (k - 16) pages
    return 0xA0 | k


def rsmc(rec, fid, *args, ans=0):
    b = bytearray([rec << 3, fid, len(args)])
    for a in args:
        b += a if isinstance(a, bytes) else bytes([a])
    return bytes(b + bytes([ans]))


def psci(k, smc64=False):
    return 85 + k if smc64 else 64 + k


def enter(rec, flags=0):
    return bytes([7 | (rec << 3), flags])


def host(c, sel):
    return bytes([6, c, sel])


def rsi_seeds():
    s = {}
    b = rsmc(0, R_VERSION, num(18)) + rsmc(0, R_VERSION, num(19)) + rsmc(0, R_FEATURES, num(0))
    b += rsmc(0, R_FEATURES, num(1))
    for i in (0, 1, 4, 5, 16):
        b += rsmc(0, R_MEAS_READ, num(i))
    b += rsmc(0, R_MEAS_EXTEND, num(1), num(12), raw(0x1122334455667788), raw(7))
    b += rsmc(0, R_MEAS_EXTEND, num(4), num(65)) + rsmc(0, R_MEAS_EXTEND, num(0), num(8))
    b += rsmc(0, R_CONFIG, ram(1)) + rsmc(0, R_CONFIG, ram(1, 1)) + rsmc(0, R_CONFIG, unprot(0))
    b += rsmc(0, R_CONFIG, prot(0), ans=0)           # stage-2 fault: the host maps it
    b += rsmc(0, R_CONFIG, prot(0)) + rsmc(0, R_CONFIG, prot(2), ans=1)
    b += rsmc(0, R_CONFIG, prot(4)) + rsmc(0, R_CONFIG, outside(0))
    b += rsmc(0, R_STATE_GET, ram(0), rng(4)) + rsmc(0, R_STATE_GET, ram(0), rng(15))
    b += rsmc(0, R_STATE_GET, prot(2), prot(4)) + rsmc(0, R_STATE_GET, prot(4), outside(0))
    s['rsi_basic'] = b
    t = rsmc(0, R_TOKEN_CONT, ram(2), num(0), num(0x1f & 15))
    t += rsmc(0, R_TOKEN_INIT, raw(1), raw(2), raw(3), raw(4), raw(5), raw(6), raw(7), raw(8))
    for i in range(6):
        t += rsmc(0, R_TOKEN_CONT, ram(2), num(0), raw(0x1000))
    t += rsmc(0, R_TOKEN_INIT, raw(9), num(0)) + rsmc(0, R_TOKEN_CONT, prot(0), num(0), raw(0x1000), ans=0)
    t += rsmc(0, R_TOKEN_CONT, prot(0), num(0), raw(0x1000)) + rsmc(0, R_TOKEN_CONT, ram(2), raw(0xff0), raw(0x100))
    t += rsmc(0, R_TOKEN_CONT, prot(2), num(0), raw(0x1000)) + rsmc(0, R_TOKEN_CONT, unprot(0), num(0), raw(0x1000))
    s['rsi_token'] = t
    r = rsmc(0, R_STATE_SET, ram(3), rng(4), num(0), num(0), ans=0x02)      # to EMPTY: accepted
    r += rsmc(0, R_STATE_GET, ram(0), rng(8))
    r += rsmc(0, R_STATE_SET, ram(3), rng(4), num(1), num(0), ans=0x03)     # to RAM: rejected
    r += rsmc(0, R_STATE_SET, prot(2), prot(4), num(1), num(1), ans=0x06)   # DESTROYED -> RAM
    r += rsmc(0, R_STATE_SET, prot(0), prot(4), num(0), num(0), ans=0x0a)   # one page at a time
    r += rsmc(0, R_STATE_SET, ram(0), outside(0), num(1), num(0)) + rsmc(0, R_STATE_SET, ram(1), ram(1), num(1))
    r += rsmc(0, R_STATE_SET, ram(0), rng(2), num(2)) + rsmc(0, R_STATE_SET, ram(0, 1), rng(2), num(1))
    r += host(4, ram(0)) + rsmc(0, R_STATE_GET, ram(0), rng(15))
    s['rsi_ripas'] = r
    p = rsmc(0, psci(0)) + rsmc(0, psci(10), raw(0x84000001)) + rsmc(0, psci(10), raw(0xdeadbeef)) + rsmc(0, 106)
    p += rsmc(0, psci(3, True), num(1), ram(0), num(5), ans=0)               # CPU_ON REC 1: done
    p += enter(1) + rsmc(1, psci(4, True), num(0), num(0), ans=0)             # AFFINITY_INFO REC 0
    p += rsmc(1, psci(3, True), num(0), ram(0)) + rsmc(0, psci(3), num(1), ram(0), ans=0x06)
    p += rsmc(0, psci(3, True), num(1), outside(0)) + rsmc(0, psci(3, True), num(5), ram(0))
    p += rsmc(0, psci(4), num(1), num(1)) + rsmc(0, psci(4), num(1), num(0), ans=0x83)
    p += rsmc(1, psci(1, True), num(0), ram(0), ans=0) + rsmc(1, psci(2), ans=0)
    p += enter(1) + rsmc(0, psci(4, True), num(1), num(0), ans=0x40)
    p += rsmc(0, psci(3, True), num(1), ram(0), ans=0x43) + enter(1)
    p += rsmc(0, psci(9), ans=0) + rsmc(1, psci(8), ans=0) + rsmc(0, R_VERSION, num(18))
    s['psci'] = p
    # target_cpu values that are not valid MPIDRs but whose Aff fields alone name REC 1: the RMM
    # answers PSCI_INVALID_PARAMETERS itself (it used to exit to the host with them)
    m = b''
    for bad in (0x11, 0x80000001, 0x10000000001, 0x1000000001, 0x71):
        m += rsmc(0, psci(3, True), raw(bad), ram(0), ans=0) + rsmc(0, psci(4), raw(bad), num(0), ans=0)
    m += rsmc(0, psci(3), num(1), ram(0), ans=0) + enter(1) + rsmc(1, psci(4, True), raw(0x10), num(0), ans=0)
    s['psci_mpidr'] = m
    h = rsmc(0, R_HOST_CALL, ram(1, 1), ans=3) + (1).to_bytes(8, 'little') * 3
    h += rsmc(0, R_HOST_CALL, ram(1, 0), ans=0x18)                   # the page goes away
    h += rsmc(0, R_HOST_CALL, ram(1, 5)) + rsmc(0, R_HOST_CALL, unprot(0)) + rsmc(0, R_HOST_CALL, ram(3, 2))
    h += rsmc(0, R_HOST_CALL, ram(3, 2), ans=0)
    h += rsmc(0, R_HOST_CALL, prot(1), ans=1) + rsmc(0, R_HOST_CALL, prot(1), ans=0) + rsmc(0, R_HOST_CALL, prot(1), ans=0)
    h += rsmc(0, R_HOST_CALL, prot(2), ans=2) + rsmc(0, R_HOST_CALL, outside(0))
    h += host(0, ram(2)) + rsmc(0, R_CONFIG, ram(2), ans=0) + host(2, unprot(0)) + host(3, unprot(1))
    h += host(1, prot(4)) + host(5, 0) + host(6, 0) + enter(1)
    s['host_call'] = h
    # RTTs change under the running realm
    u = host(8, ram(0)) + host(9, unprot(0)) + host(2, unprot(0)) + host(9, unprot(0))
    u += rsmc(0, R_HOST_CALL, unprot(0)) + rsmc(0, R_STATE_GET, ram(0), rng(15))
    u += host(21, unprot(0)) + host(3, unprot(0)) + host(8, unprot(0))
    u += rsmc(0, R_STATE_SET, ram(0), rng(4), num(0), num(0), ans=0x06) + host(0, ram(0))
    u += host(0, ram(1)) + host(0, ram(2)) + host(0, ram(3)) + host(8, ram(0)) + host(9, ram(0))
    u += rsmc(0, R_CONFIG, ram(0), ans=0) + rsmc(0, R_STATE_GET, ram(0), rng(15)) + host(10, ram(0)) + host(21, ram(0))
    s['rtt_under_realm'] = u
    a = b''
    for f in list(range(0, 136, 3)) + [0xf8]:
        x = rsmc(0, f, ram(1), ram(2, 3), unprot(1), outside(3), num(16), ans=0x20)
        if f == 0xf8:   # a raw FID: its 8 bytes follow the FID byte
            x = x[:2] + (0x1C4000199).to_bytes(8, 'little') + x[2:]
        a += x
    s['all_fids'] = a
    return s


def write(d, seeds):
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        assert len(data) < 4096, name
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    write('tests/fuzz/corpus/rmi_seq', rmi_seeds())
    write('tests/fuzz/corpus/rsi', rsi_seeds())
