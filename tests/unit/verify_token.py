#!/usr/bin/python3
"""Independent verification of an rmmemu CCA attestation token (RMM 1.0-rel0, A7.2.3).

Uses only Debian's python3-cbor2 and python3-cryptography, never rmmemu's own encoder or
decoder. Checks:
  * the tag 399 collection {44234: platform token, 44241: realm token};
  * both COSE_Sign1_Tagged (tag 18) with protected header {1: -35} (ES384), empty unprotected
    header, 96-byte r || s signature; both ES384 signatures (Sig_structure rebuilt here);
  * every realm and platform claim: presence, type and size;
  * the binding: platform challenge == H(realm public key claim), H = realm public key hash algo;
  * the keys: CPAK and RAK derived here from the seed (HMAC-SHA-512 derivation documented in
    docs/attestation.md), or the CPAK from a PEM file; instance ID = 0x01 || SHA-256(CPAK point);
  * CBOR preferred serialization: decoding and re-encoding gives back the same bytes;
  * optional expected claim values, and optional JSON from `token_show_json` to compare.

usage: verify_token.py TOKEN [--seed HEX | --cpak-pem FILE] [--expect-challenge HEX]
       [--expect-rpv HEX] [--expect-hash-algo NAME] [--expect-rim HEX] [--expect-rem HEX]...
       [--json FILE] [--quiet]
exit status: 0 all checks pass, 1 a check failed, 2 usage or I/O error, 3 module missing.
"""

import argparse
import hashlib
import hmac
import io
import json
import sys

try:
    import cbor2
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError as e:  # pragma: no cover
    print(f"verify_token.py: missing Python module ({e}); install python3-cbor2 python3-cryptography",
          file=sys.stderr)
    sys.exit(3)

DEFAULT_SEED = b"rmmemu simulated CCA platform v1"
P384_ORDER = int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                 "581a0db248b0a77aecec196accc52973", 16)

REALM_PROFILE = "tag:arm.com,2023:realm#1.0.0"
PLATFORM_PROFILE = "tag:arm.com,2023:cca_platform#1.0.0"
HASH_SIZES = {"sha-256": 32, "sha-384": 48, "sha-512": 64}

REALM_NAMES = {
    10: "cca-realm-challenge",
    265: "cca-realm-profile",
    44235: "cca-realm-personalization-value",
    44236: "cca-realm-hash-algo-id",
    44237: "cca-realm-public-key",
    44238: "cca-realm-initial-measurement",
    44239: "cca-realm-extensible-measurements",
    44240: "cca-realm-public-key-hash-algo-id",
}
PLATFORM_NAMES = {
    265: "cca-platform-profile",
    10: "cca-platform-challenge",
    2396: "cca-platform-implementation-id",
    256: "cca-platform-instance-id",
    2401: "cca-platform-config",
    2395: "cca-platform-lifecycle",
    2399: "cca-platform-sw-components",
    2400: "cca-platform-verification-service",
    2402: "cca-platform-hash-algo-id",
}
SW_NAMES = {1: "component-type", 2: "measurement-value", 4: "version", 5: "signer-id",
            6: "hash-algo-id"}
COSE_HEADER_NAMES = {1: "alg", 2: "crit", 3: "content-type", 4: "kid"}
COSE_KEY_NAMES = {1: "kty", 2: "kid", 3: "alg", 4: "key_ops", -1: "crv", -2: "x", -3: "y"}


class Checker:
    def __init__(self, quiet):
        self.quiet = quiet
        self.failures = 0

    def check(self, ok, msg):
        if not ok:
            self.failures += 1
        if not ok or not self.quiet:
            print(f"{'ok' if ok else 'FAIL':5} {msg}")
        return ok


def derive_key(seed, label):
    """Private key as rmmemu derives it (attest/keys.h)."""
    for ctr in range(256):
        msg = b"rmmemu-attest-key-v1\x00" + label.encode() + b"\x00" + bytes([ctr])
        t = hmac.new(seed, msg, hashlib.sha512).digest()
        d = int.from_bytes(t[:48], "big")
        if 1 <= d < P384_ORDER:
            return ec.derive_private_key(d, ec.SECP384R1())
    raise ValueError("no key")


def point_bytes(pub):
    return pub.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def load_exact(data, what, chk):
    """Decode exactly one CBOR item; check it re-encodes to the same bytes."""
    fp = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except Exception as e:  # noqa: BLE001 - any decoding error is a failed check
        chk.check(False, f"{what}: not valid CBOR ({e})")
        return None
    if fp.tell() != len(data):
        chk.check(False, f"{what}: {len(data) - fp.tell()} trailing bytes")
        return None
    chk.check(cbor2.dumps(obj) == data, f"{what}: preferred serialization (re-encodes identically)")
    return obj


def is_bytes(v, sizes=None):
    return isinstance(v, bytes) and (sizes is None or len(v) in sizes)


def cose_sign1(raw, what, chk):
    """Returns (protected bytes, payload bytes, signature, claims) or None."""
    obj = load_exact(raw, what, chk)
    if obj is None:
        return None
    if not chk.check(isinstance(obj, cbor2.CBORTag) and obj.tag == 18, f"{what}: COSE_Sign1 tag 18"):
        return None
    arr = obj.value
    if not chk.check(isinstance(arr, list) and len(arr) == 4, f"{what}: array of 4"):
        return None
    prot, unprot, payload, sig = arr
    if not chk.check(is_bytes(prot) and is_bytes(payload) and isinstance(unprot, dict)
                     and is_bytes(sig), f"{what}: bstr, map, bstr, bstr"):
        return None
    hdr = load_exact(prot, f"{what} protected header", chk)
    chk.check(hdr == {1: -35}, f"{what}: protected header {{1: -35}} (ES384), got {hdr}")
    chk.check(unprot == {}, f"{what}: empty unprotected header")
    chk.check(len(sig) == 96, f"{what}: 96-byte signature (r || s)")
    claims = load_exact(payload, f"{what} payload", chk)
    if not chk.check(isinstance(claims, dict), f"{what}: payload is a claims map"):
        return None
    return prot, payload, sig, claims


def es384_ok(pub, prot, payload, sig):
    tbs = cbor2.dumps(["Signature1", prot, b"", payload])
    der = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))
    try:
        pub.verify(der, tbs, ec.ECDSA(hashes.SHA384()))
        return True
    except InvalidSignature:
        return False


def check_realm(c, chk):
    """Realm claims; returns (RAK public key or None, the public key claim bytes)."""
    chk.check(set(c) == set(REALM_NAMES), f"realm: exactly the claims {sorted(REALM_NAMES)}")
    chk.check(is_bytes(c.get(10), {64}), "cca-realm-challenge: 64 bytes")
    chk.check(c.get(265) == REALM_PROFILE, f"cca-realm-profile: {REALM_PROFILE}")
    chk.check(is_bytes(c.get(44235), {64}), "cca-realm-personalization-value: 64 bytes")
    algo = c.get(44236)
    chk.check(algo in ("sha-256", "sha-512"), f"cca-realm-hash-algo-id: {algo!r} (sha-256 or sha-512)")
    size = HASH_SIZES.get(algo, 0)
    chk.check(is_bytes(c.get(44238), {size}), f"cca-realm-initial-measurement: {size} bytes")
    rems = c.get(44239)
    chk.check(isinstance(rems, list) and len(rems) == 4 and all(is_bytes(r, {size}) for r in rems),
              f"cca-realm-extensible-measurements: 4 x {size} bytes")
    chk.check(c.get(44240) in HASH_SIZES, f"cca-realm-public-key-hash-algo-id: {c.get(44240)!r}")
    rak_claim = c.get(44237)
    if not chk.check(is_bytes(rak_claim), "cca-realm-public-key: byte string"):
        return None, b""
    key = load_exact(rak_claim, "cca-realm-public-key COSE_Key", chk)
    if not chk.check(isinstance(key, dict) and list(key) == [1, -1, -2, -3] and key[1] == 2
                     and key[-1] == 2 and is_bytes(key[-2], {48}) and is_bytes(key[-3], {48}),
                     "cca-realm-public-key: COSE_Key {1: 2 (EC2), -1: 2 (P-384), -2: x, -3: y}"):
        return None, rak_claim
    try:
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(key[-2], "big"),
                                            int.from_bytes(key[-3], "big"),
                                            ec.SECP384R1()).public_key()
    except ValueError:
        chk.check(False, "cca-realm-public-key: point on P-384")
        return None, rak_claim
    chk.check(True, "cca-realm-public-key: point on P-384")
    return pub, rak_claim


def lifecycle_ok(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0x60ff \
        and (v >> 8) in (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60)


def check_platform(c, chk):
    required = set(PLATFORM_NAMES) - {2400}
    chk.check(required <= set(c) <= set(PLATFORM_NAMES), "platform: mandatory claims present, no others")
    chk.check(c.get(265) == PLATFORM_PROFILE, f"cca-platform-profile: {PLATFORM_PROFILE}")
    chk.check(is_bytes(c.get(10), {32, 48, 64}), "cca-platform-challenge: 32, 48 or 64 bytes")
    chk.check(is_bytes(c.get(2396), {32}), "cca-platform-implementation-id: 32 bytes")
    inst = c.get(256)
    chk.check(is_bytes(inst, {33}) and inst[0] == 1, "cca-platform-instance-id: 33 bytes, first 0x01")
    chk.check(is_bytes(c.get(2401)), "cca-platform-config: byte string")
    chk.check(lifecycle_ok(c.get(2395)), f"cca-platform-lifecycle: {c.get(2395)!r} in a lifecycle range")
    sw = c.get(2399)
    ok = isinstance(sw, list) and len(sw) > 0
    for comp in sw if ok else []:
        ok = ok and isinstance(comp, dict) and set(comp) <= set(SW_NAMES) \
            and is_bytes(comp.get(2), {32, 48, 64}) and is_bytes(comp.get(5), {32, 48, 64}) \
            and all(isinstance(comp[k], str) for k in (1, 4, 6) if k in comp)
    chk.check(ok, "cca-platform-sw-components: non-empty, each with measurement value and signer id")
    if 2400 in c:
        chk.check(isinstance(c[2400], str), "cca-platform-verification-service: text")
    chk.check(isinstance(c.get(2402), str), "cca-platform-hash-algo-id: text")


def to_json(v, names=None, sub=None):
    """The JSON form token_show_json gives a decoded value."""
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return [to_json(x, names) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            key = (names or {}).get(k, str(k))
            out[key] = to_json(x, SW_NAMES if (sub and k == sub) else None)
        return out
    return v


def check_json(path, plat, realm, chk):
    try:
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        chk.check(False, f"JSON {path}: cannot load ({e})")
        return
    for name, (prot, _payload, sig, claims), names, sub in (
            ("cca-platform-token", plat, PLATFORM_NAMES, 2399),
            ("cca-realm-delegated-token", realm, REALM_NAMES, None)):
        t = j.get(name, {})
        chk.check(t.get("claims") == to_json(claims, names, sub), f"JSON {name}: claims match")
        chk.check(t.get("signature") == sig.hex(), f"JSON {name}: signature matches")
        chk.check(t.get("protected-header") == to_json(cbor2.loads(prot), COSE_HEADER_NAMES),
                  f"JSON {name}: protected header matches")
    key = cbor2.loads(realm[3][44237])
    chk.check(j.get("cca-realm-delegated-token", {}).get("cca-realm-public-key-cose-key")
              == to_json(key, COSE_KEY_NAMES), "JSON: decoded COSE_Key matches")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("token")
    ap.add_argument("--seed", help="32-byte seed in hex (default: rmmemu's default seed)")
    ap.add_argument("--cpak-pem", help="CPAK public (or private) key PEM; RAK is then not compared")
    ap.add_argument("--expect-challenge")
    ap.add_argument("--expect-rpv")
    ap.add_argument("--expect-hash-algo")
    ap.add_argument("--expect-rim")
    ap.add_argument("--expect-rem", action="append", default=[])
    ap.add_argument("--json", help="output of token_show_json for this token, to compare")
    ap.add_argument("--quiet", "-q", action="store_true", help="print failures only")
    args = ap.parse_args()

    try:
        with open(args.token, "rb") as f:
            data = f.read()
        seed = bytes.fromhex(args.seed) if args.seed else DEFAULT_SEED
        if len(seed) != 32:
            raise ValueError("seed must be 32 bytes")
        rak_expected = None
        if args.cpak_pem:
            with open(args.cpak_pem, "rb") as f:
                pem = f.read()
            try:
                cpak = serialization.load_pem_public_key(pem)
            except ValueError:
                cpak = serialization.load_pem_private_key(pem, None).public_key()
        else:
            cpak = derive_key(seed, "CPAK").public_key()
            rak_expected = derive_key(seed, "RAK").public_key()
    except (OSError, ValueError) as e:
        print(f"verify_token.py: {e}", file=sys.stderr)
        return 2

    chk = Checker(args.quiet)
    top = load_exact(data, "CCA token", chk)
    if top is None or not chk.check(isinstance(top, cbor2.CBORTag) and top.tag == 399
                                    and isinstance(top.value, dict)
                                    and list(top.value) == [44234, 44241]
                                    and all(is_bytes(v) for v in top.value.values()),
                                    "CCA token: tag 399 {44234: bstr, 44241: bstr}"):
        print("verify_token.py: FAIL")
        return 1
    plat = cose_sign1(top.value[44234], "platform token", chk)
    realm = cose_sign1(top.value[44241], "realm token", chk)
    if plat is None or realm is None:
        print("verify_token.py: FAIL")
        return 1

    rak, rak_claim = check_realm(realm[3], chk)
    check_platform(plat[3], chk)
    if rak is not None:
        chk.check(es384_ok(rak, *realm[:3]), "realm token: ES384 signature with the RAK")
        if rak_expected is not None:
            chk.check(point_bytes(rak) == point_bytes(rak_expected), "RAK == RAK derived from the seed")
    chk.check(es384_ok(cpak, *plat[:3]), "platform token: ES384 signature with the CPAK")
    alg = realm[3].get(44240)
    if alg in HASH_SIZES:
        chk.check(hashlib.new(alg.replace("-", ""), rak_claim).digest() == plat[3].get(10),
                  f"binding: platform challenge == {alg}(realm public key claim)")
    inst = plat[3].get(256)
    if is_bytes(inst, {33}):
        chk.check(inst[1:] == hashlib.sha256(point_bytes(cpak)).digest(),
                  "cca-platform-instance-id == 0x01 || sha-256(CPAK point)")

    expect = [("challenge", args.expect_challenge, realm[3].get(10)),
              ("rpv", args.expect_rpv, realm[3].get(44235)),
              ("rim", args.expect_rim, realm[3].get(44238))]
    for name, want, got in expect:
        if want is not None:
            chk.check(got == bytes.fromhex(want), f"expected {name}")
    if args.expect_rem:
        chk.check(realm[3].get(44239) == [bytes.fromhex(x) for x in args.expect_rem], "expected REMs")
    if args.expect_hash_algo is not None:
        chk.check(realm[3].get(44236) == args.expect_hash_algo, "expected hash algorithm")
    if args.json:
        check_json(args.json, plat, realm, chk)

    print(f"verify_token.py: {'PASS' if chk.failures == 0 else 'FAIL'}"
          f" ({chk.failures} failed checks)")
    return 0 if chk.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
